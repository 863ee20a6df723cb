"""Case validation: each bad value is reported on its own field (pydantic ``loc``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from priorauth.domain.case import Case

# The date the cases are validated on; kept fixed so "in the future" never drifts.
TODAY = dt.date(2026, 11, 20)


def validate(data: dict[str, Any]) -> Case:
    return Case.model_validate(data, context={"today": TODAY})


def errors_of(data: dict[str, Any]) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        validate(data)
    return [(tuple(e["loc"]), str(e["msg"])) for e in caught.value.errors()]


def test_the_base_case_is_valid(case_data: dict[str, Any]) -> None:
    case = validate(case_data)
    assert case.measurements.weight_kg == Decimal("80")
    assert case.icd10_codes == ["G61.81"]


@pytest.mark.parametrize(
    ("weight", "words"),
    [
        (0, "more than zero"),
        (-5, "more than zero"),
        (700, "outside"),
        ("abc", "decimal"),
        ("NaN", "number"),
    ],
)
def test_implausible_weight_is_reported_on_the_weight(
    case_data: dict[str, Any], weight: Any, words: str
) -> None:
    case_data["measurements"]["weight"] = weight
    errors = errors_of(case_data)
    assert [loc for loc, _ in errors] == [("measurements", "weight")]
    assert words in errors[0][1]


def test_weight_in_pounds_is_checked_in_kilograms(case_data: dict[str, Any]) -> None:
    case_data["measurements"].update(weight="700", weight_unit="lb")  # 317.5 kg: possible
    assert validate(case_data).measurements.weight_kg == Decimal("317.51465900")
    case_data["measurements"]["weight"] = "1000"  # 453.6 kg: outside
    assert [loc for loc, _ in errors_of(case_data)] == [("measurements", "weight")]


def test_therapy_ending_before_it_starts(case_data: dict[str, Any]) -> None:
    case_data["prior_therapies"][0].update(start="2026-08-15", end="2026-06-01")
    errors = errors_of(case_data)
    assert errors == [
        (("prior_therapies", 0, "end"), "Value error, the therapy ends before it starts")
    ]


def test_therapy_starting_in_the_future(case_data: dict[str, Any]) -> None:
    case_data["prior_therapies"][0].update(start="2026-12-01", end=None)
    errors = errors_of(case_data)
    assert [loc for loc, _ in errors] == [("prior_therapies", 0, "start")]
    assert "future" in errors[0][1]


def test_future_is_judged_against_the_context_date(case_data: dict[str, Any]) -> None:
    case_data["prior_therapies"][0].update(start="2026-11-21", end=None)
    with pytest.raises(ValidationError):
        validate(case_data)
    later = Case.model_validate(case_data, context={"today": dt.date(2026, 11, 21)})
    assert later.prior_therapies[0].start == dt.date(2026, 11, 21)


@pytest.mark.parametrize(("npi", "words"), [("1234567890", "check digit"), ("12345", "10 digits")])
def test_invalid_npi_is_reported_on_the_npi(
    case_data: dict[str, Any], npi: str, words: str
) -> None:
    case_data["prescriber"]["npi"] = npi
    errors = errors_of(case_data)
    assert [loc for loc, _ in errors] == [("prescriber", "npi")]
    assert words in errors[0][1]


def test_npi_with_spaces_or_dashes_is_accepted(case_data: dict[str, Any]) -> None:
    case_data["prescriber"]["npi"] = "12345-67893"
    assert validate(case_data).prescriber.npi == "1234567893"


def test_malformed_icd10_code(case_data: dict[str, Any]) -> None:
    case_data["icd10_codes"] = ["G61.81", "61.81"]
    errors = errors_of(case_data)
    assert [loc for loc, _ in errors] == [("icd10_codes",)]
    assert "'61.81'" in errors[0][1]


def test_icd10_codes_are_normalised_and_deduplicated(case_data: dict[str, Any]) -> None:
    case_data["icd10_codes"] = ["g6181", "G61.81"]
    assert validate(case_data).icd10_codes == ["G61.81"]


def test_date_of_birth_in_the_future(case_data: dict[str, Any]) -> None:
    case_data["patient"]["date_of_birth"] = "2027-01-01"
    assert [loc for loc, _ in errors_of(case_data)] == [("patient", "date_of_birth")]


def test_height_out_of_range(case_data: dict[str, Any]) -> None:
    case_data["measurements"]["height"] = "17"  # centimetres: a slip for 170?
    assert [loc for loc, _ in errors_of(case_data)] == [("measurements", "height")]


def test_regimen_needs_courses_or_months(case_data: dict[str, Any]) -> None:
    del case_data["regimen"]["courses_requested"]
    assert [loc for loc, _ in errors_of(case_data)] == [("regimen", "months_requested")]


def test_one_course_needs_no_interval_and_a_series_does(case_data: dict[str, Any]) -> None:
    del case_data["regimen"]["interval_weeks"]
    case_data["regimen"]["courses_requested"] = 1
    case_data["regimen"].pop("months_requested", None)
    assert validate(case_data).regimen.single_course
    case_data["regimen"]["courses_requested"] = 3
    errors = errors_of(case_data)
    assert [loc for loc, _ in errors] == [("regimen", "interval_weeks")]
    assert "request one course" in errors[0][1]


def test_pregnancy_is_for_female_patients(case_data: dict[str, Any]) -> None:
    case_data["patient"]["sex"] = "male"
    case_data["measurements"]["pregnant"] = True
    errors = errors_of(case_data)
    assert [loc for loc, _ in errors] == [("measurements",)]
    assert "male patient" in errors[0][1]


def test_regimen_parts_are_checked(case_data: dict[str, Any]) -> None:
    case_data["regimen"]["loading"] = {"dose_g_per_kg": 0, "days": 4}
    case_data["regimen"]["switch_from_iv"] = {"iv_dose_g": 28, "iv_interval_weeks": 0}
    case_data["regimen"]["tolerated_rate_mg_per_kg_per_min"] = 50
    locations = {loc for loc, _ in errors_of(case_data)}
    assert locations == {
        ("regimen", "loading", "dose_g_per_kg"),
        ("regimen", "switch_from_iv", "iv_interval_weeks"),
        ("regimen", "tolerated_rate_mg_per_kg_per_min"),
    }


def test_unknown_answer_is_rejected(case_data: dict[str, Any]) -> None:
    case_data["answers"] = {"igg_level": 300}
    errors = errors_of(case_data)
    assert [loc for loc, _ in errors] == [("answers",)]
    assert "not a known fact" in errors[0][1]


def test_lab_value_out_of_range_names_the_lab(case_data: dict[str, Any]) -> None:
    case_data["answers"] = {"igg_mg_dl": [{"value": 90000, "date": "2026-10-01"}]}
    errors = errors_of(case_data)
    assert [loc for loc, _ in errors] == [("answers",)]
    assert "Serum IgG" in errors[0][1]


def test_unknown_key_is_rejected(case_data: dict[str, Any]) -> None:
    case_data["patient"]["middle_name"] = "X"
    assert [loc for loc, _ in errors_of(case_data)] == [("patient", "middle_name")]


def test_several_errors_are_all_reported(case_data: dict[str, Any]) -> None:
    case_data["measurements"]["weight"] = 0
    case_data["prescriber"]["npi"] = "1234567890"
    locs = {loc for loc, _ in errors_of(case_data)}
    assert locs == {("measurements", "weight"), ("prescriber", "npi")}


def test_a_number_answer_that_is_not_a_number_is_a_validation_error() -> None:
    import datetime as dt
    import json
    from pathlib import Path

    from pydantic import ValidationError

    from priorauth.domain.case import Case

    example = Path(__file__).parents[2] / "examples" / "cidp-initial-qualifies.json"
    data = json.loads(example.read_text())
    for bad in ("abc", "", True, "1e309x"):
        data["answers"]["symptom_duration_months"] = bad
        try:
            Case.model_validate(data, context={"today": dt.date(2026, 11, 20)})
        except ValidationError as error:
            assert error.errors()[0]["loc"][:2] == ("answers",)
        else:  # pragma: no cover - the test fails here
            raise AssertionError(f"{bad!r} was accepted as a number")
