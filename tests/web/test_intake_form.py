"""The intake form: a case goes in through it, and every bad input comes back explained."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from web_helpers import (
    cidp_formdata,
    create_case,
    field_error,
    input_value,
    page_text,
    summary_links,
)
from werkzeug.datastructures import MultiDict


def _therapy_agents(body: str) -> list[str | None]:
    agents = []
    index = 0
    while (value := input_value(body, f"prior_therapies-{index}-agent")) is not None:
        agents.append(value)
        index += 1
    return agents


def test_new_case_form_shows_the_indication_questions_with_their_reasons(
    logged_in: FlaskClient,
) -> None:
    response = logged_in.get("/cases/new/cidp?request_type=initial")
    assert response.status_code == 200
    text = page_text(response.text)
    # A question from the CIDP definition, its fact label and its "why".
    assert "Course of the disease" in text
    assert "a monophasic illness suggests Guillain-Barré syndrome instead" in text
    # Continuation-only questions are not asked of an initial request.
    assert "answers-dose_reduction_attempt" not in response.text
    # Every visible control has a label.
    ids = re.findall(
        r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', response.text
    )
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', response.text))
    assert ids and set(ids) <= labelled


def test_continuation_asks_its_own_questions(logged_in: FlaskClient) -> None:
    response = logged_in.get("/cases/new/cidp?request_type=continuation")
    assert 'id="answers-dose_reduction_attempt"' in response.text
    assert 'id="answers-disease_course"' not in response.text


def test_create_a_cidp_case_with_two_prior_therapies_and_see_the_assessment(
    logged_in: FlaskClient,
) -> None:
    # Start from the form as a person would: one empty therapy row, then "add another".
    first = cidp_formdata()
    for key in [k for k in first if k.startswith("prior_therapies-")]:
        first.poplist(key)
    first["prior_therapies-0-agent"] = "Prednisone"
    first["action"] = "add:prior_therapies"
    shown = logged_in.post("/cases/new/cidp", data=first)
    assert shown.status_code == 200
    assert _therapy_agents(shown.text) == ["Prednisone", ""]
    assert input_value(shown.text, "patient-last_name") == "Testpatient"

    case_id = create_case(logged_in, cidp_formdata())
    page = logged_in.get(f"/cases/{case_id}")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Ready to submit" in text
    assert "Diagnosed and managed by a neurologist" in text
    assert "Met" in text
    # The dose block: grams, g/kg, the dosing weight and why.
    assert "160 g per course" in text
    assert "2 g/kg × 79.6 kg dosing weight" in text
    assert "adjusted body weight" in text
    # The stored case holds both therapies.
    edit = logged_in.get(f"/cases/{case_id}/edit")
    assert _therapy_agents(edit.text) == ["Prednisone", "Plasma exchange"]


def test_remove_a_therapy_row_without_javascript_keeps_everything_else(
    logged_in: FlaskClient,
) -> None:
    formdata = cidp_formdata()
    formdata["prior_therapies-2-agent"] = "Azathioprine"
    formdata["prior_therapies-2-therapy_class"] = "immunosuppressant"
    formdata["patient-first_name"] = "Kept"
    formdata["action"] = "remove:prior_therapies:1"
    response = logged_in.post("/cases/new/cidp", data=formdata)
    assert response.status_code == 200
    assert _therapy_agents(response.text) == ["Prednisone", "Azathioprine"]
    assert input_value(response.text, "prior_therapies-1-agent") == "Azathioprine"
    assert input_value(response.text, "patient-first_name") == "Kept"
    assert 'selected value="immunosuppressant"' in response.text or re.search(
        r'<option selected value="immunosuppressant"|value="immunosuppressant" selected',
        response.text,
    )


def test_add_a_lab_result_row(logged_in: FlaskClient) -> None:
    response = logged_in.get("/cases/new/pid?request_type=initial")
    assert response.status_code == 200
    assert input_value(response.text, "answers-igg_mg_dl-0-value") == ""
    assert input_value(response.text, "answers-igg_mg_dl-1-value") == ""
    formdata = MultiDict(
        [
            ("request_type", "initial"),
            ("form_request_type", "initial"),
            ("answers-igg_mg_dl-0-value", "180"),
            ("answers-igg_mg_dl-0-date", "2026-09-01"),
            ("action", "add:answers-igg_mg_dl"),
        ]
    )
    response = logged_in.post("/cases/new/pid", data=formdata)
    assert response.status_code == 200
    assert input_value(response.text, "answers-igg_mg_dl-0-value") == "180"
    assert input_value(response.text, "answers-igg_mg_dl-2-value") == ""


WEIGHT_ERRORS = {
    "0": "more than zero",
    "-5": "more than zero",
    "700": "outside",
    "abc": "Enter a number",
    "": "Required",
    "NaN": "Enter a number",
    "inf": "Enter a number",
    "1e309": "outside",
    "70,5": "Enter a number",
    "70kg": "Enter a number",
}


@pytest.mark.parametrize("typed", list(WEIGHT_ERRORS))
def test_bad_weight_gets_a_field_message_and_is_kept(logged_in: FlaskClient, typed: str) -> None:
    formdata = cidp_formdata(**{"measurements-weight": typed, "measurements-weight_unit": "kg"})
    response = logged_in.post("/cases/new/cidp", data=formdata)
    assert response.status_code == 422
    assert WEIGHT_ERRORS[typed] in field_error(response.text, "measurements-weight")
    assert input_value(response.text, "measurements-weight") == typed
    assert "measurements-weight" in summary_links(response.text)
    assert 'aria-describedby="measurements-weight-error"' in response.text
    # Everything else typed is still there.
    assert input_value(response.text, "patient-first_name") == "Avery"
    assert input_value(response.text, "prior_therapies-1-agent") == "Plasma exchange"


def test_arabic_indic_digits_are_read_as_the_number_they_are(logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in, cidp_formdata(**{"measurements-weight": "١٠٠"}))
    edit = logged_in.get(f"/cases/{case_id}/edit")
    assert input_value(edit.text, "measurements-weight") == "100"


def test_weight_in_pounds_is_checked_in_its_unit(logged_in: FlaskClient) -> None:
    formdata = cidp_formdata(**{"measurements-weight": "900", "measurements-weight_unit": "lb"})
    response = logged_in.post("/cases/new/cidp", data=formdata)
    assert response.status_code == 422
    assert "900 lb" in field_error(response.text, "measurements-weight")


def test_height_missing_when_the_payer_doses_on_adjusted_weight(logged_in: FlaskClient) -> None:
    response = logged_in.post("/cases/new/cidp", data=cidp_formdata(**{"measurements-height": ""}))
    assert response.status_code == 422
    assert "height is needed" in field_error(response.text, "measurements-height").lower()
    assert "measurements-height" in summary_links(response.text)
    assert input_value(response.text, "measurements-weight") == "220"


def test_therapy_that_ends_before_it_starts(logged_in: FlaskClient) -> None:
    response = logged_in.post(
        "/cases/new/cidp", data=cidp_formdata(**{"prior_therapies-1-end": "2026-08-01"})
    )
    assert response.status_code == 422
    assert "ends before it starts" in field_error(response.text, "prior_therapies-1-end")
    assert input_value(response.text, "prior_therapies-1-end") == "2026-08-01"
    assert "prior_therapies-1-end" in summary_links(response.text)


def test_therapy_that_starts_in_the_future(logged_in: FlaskClient) -> None:
    response = logged_in.post(
        "/cases/new/cidp",
        data=cidp_formdata(
            **{"prior_therapies-0-start": "2027-01-10", "prior_therapies-0-end": ""}
        ),
    )
    assert response.status_code == 422
    assert "future" in field_error(response.text, "prior_therapies-0-start")
    assert input_value(response.text, "prior_therapies-0-start") == "2027-01-10"


def test_blank_therapy_rows_are_ignored_and_errors_land_on_the_right_row(
    logged_in: FlaskClient,
) -> None:
    formdata = cidp_formdata()
    # Row 1 becomes blank; row 2 carries the error: it must be reported on row 2.
    for key in [k for k in formdata if k.startswith("prior_therapies-1-")]:
        formdata.setlist(key, [""])
    formdata["prior_therapies-2-agent"] = "IVIG trial"
    formdata["prior_therapies-2-therapy_class"] = "immune_globulin"
    formdata["prior_therapies-2-start"] = "2026-07-01"
    formdata["prior_therapies-2-end"] = "2026-06-01"
    formdata["prior_therapies-2-outcome"] = "intolerance"
    response = logged_in.post("/cases/new/cidp", data=formdata)
    assert response.status_code == 422
    assert "ends before it starts" in field_error(response.text, "prior_therapies-2-end")
    assert field_error(response.text, "prior_therapies-1-end") == ""


@pytest.mark.parametrize("npi", ["1234567890", "12345", "abcdefghij"])
def test_invalid_npi(logged_in: FlaskClient, npi: str) -> None:
    response = logged_in.post("/cases/new/cidp", data=cidp_formdata(**{"prescriber-npi": npi}))
    assert response.status_code == 422
    assert "NPI" in field_error(response.text, "prescriber-npi")
    assert input_value(response.text, "prescriber-npi") == npi


def test_icd10_code_of_another_indication_posted_directly(logged_in: FlaskClient) -> None:
    formdata = cidp_formdata()
    formdata.setlist("icd10_codes", ["G61.81", "D80.0"])
    response = logged_in.post("/cases/new/cidp", data=formdata)
    assert response.status_code == 422
    message = field_error(response.text, "icd10_codes")
    assert "D80.0 is not a code for" in message
    assert "icd10_codes-0" in summary_links(response.text)
    # The posted code stays on screen, ticked, beside its error.
    assert re.search(
        r'<input[^>]*checked[^>]*value="D80.0"|value="D80.0"[^>]*checked', response.text
    )


def test_malformed_icd10_code(logged_in: FlaskClient) -> None:
    formdata = cidp_formdata()
    formdata.setlist("icd10_codes", ["XYZ"])
    response = logged_in.post("/cases/new/cidp", data=formdata)
    assert response.status_code == 422
    assert "not an ICD-10-CM code" in field_error(response.text, "icd10_codes")


def test_no_code_ticked(logged_in: FlaskClient) -> None:
    formdata = cidp_formdata()
    formdata.poplist("icd10_codes")
    response = logged_in.post("/cases/new/cidp", data=formdata)
    assert response.status_code == 422
    assert "Tick at least one" in field_error(response.text, "icd10_codes")


def test_answer_out_of_range_is_reported_on_its_own_field(logged_in: FlaskClient) -> None:
    response = logged_in.post(
        "/cases/new/cidp",
        data=cidp_formdata(
            **{
                "answers-incat_score_baseline-value": "99",
                "answers-symptom_duration_months": "five",
            }
        ),
    )
    assert response.status_code == 422
    assert "above" in field_error(response.text, "answers-incat_score_baseline-value")
    assert "number" in field_error(response.text, "answers-symptom_duration_months")
    assert input_value(response.text, "answers-symptom_duration_months") == "five"


def test_regimen_needs_courses_or_months(logged_in: FlaskClient) -> None:
    response = logged_in.post(
        "/cases/new/cidp", data=cidp_formdata(**{"regimen-courses_requested": ""})
    )
    assert response.status_code == 422
    assert "courses or of months" in field_error(response.text, "regimen-months_requested")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("regimen-days_per_course", "99999999999999999999", "at most 10"),
        ("regimen-days_per_course", "2.5", "whole number"),
        ("regimen-dose_g_per_kg", "0", "more than 0"),
        ("regimen-interval_weeks", "9" * 39, "at most 52"),
        ("regimen-start_date", "2026-02-30", "real date"),
        ("patient-date_of_birth", "12/04/1968", "real date"),
        ("patient-date_of_birth", "2030-01-01", "future"),
        ("patient-first_name", "x" * 201, "at most 200"),
        ("patient-first_name", "Av\x00ery", "control characters"),
        ("regimen-days_per_course", "9" * 5000, "Too long"),
        ("coverage-plan_type", "gold", "Not a valid choice"),
    ],
)
def test_bad_values_never_crash_and_are_explained(
    logged_in: FlaskClient, name: str, value: str, expected: str
) -> None:
    response = logged_in.post("/cases/new/cidp", data=cidp_formdata(**{name: value}))
    assert response.status_code == 422
    assert expected in field_error(response.text, name)


def test_missing_fields_are_each_reported(logged_in: FlaskClient) -> None:
    response = logged_in.post("/cases/new/cidp", data={"request_type": "initial"})
    assert response.status_code == 422
    links = summary_links(response.text)
    for required in (
        "patient-first_name",
        "patient-date_of_birth",
        "coverage-member_id",
        "prescriber-npi",
        "measurements-weight",
        "regimen-product_id",
    ):
        assert required in links


def test_a_field_sent_twice_uses_the_first_value(logged_in: FlaskClient) -> None:
    formdata = cidp_formdata()
    formdata.setlist("measurements-weight", ["abc", "220"])
    response = logged_in.post("/cases/new/cidp", data=formdata)
    assert response.status_code == 422
    assert input_value(response.text, "measurements-weight") == "abc"


def test_markup_in_free_text_is_shown_literally(logged_in: FlaskClient) -> None:
    payload = '<b>x</b> <img src="file:///etc/passwd"> {{7*7}}'
    case_id = create_case(logged_in, cidp_formdata(clinical_summary=payload))
    page = logged_in.get(f"/cases/{case_id}")
    assert "&lt;b&gt;x&lt;/b&gt;" in page.text
    assert "<b>x</b>" not in page.text
    assert '<img src="file:' not in page.text
    assert payload in page_text(page.text)
    # Also when the form comes back with an error.
    again = logged_in.post(
        "/cases/new/cidp",
        data=cidp_formdata(clinical_summary=payload, **{"measurements-weight": "0"}),
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in again.text
    assert "<b>x</b>" not in again.text


def test_changing_the_request_type_shows_the_new_questions_first(logged_in: FlaskClient) -> None:
    formdata = cidp_formdata(request_type="continuation")
    response = logged_in.post("/cases/new/cidp", data=formdata)
    assert response.status_code == 200
    assert "The questions now match a continuation" in page_text(response.text)
    assert 'id="answers-dose_reduction_attempt"' in response.text
    # Answers to questions both types ask survive the switch.
    assert input_value(response.text, "answers-incat_score_baseline-value") == "4"


def test_unknown_indication_is_not_found(logged_in: FlaskClient) -> None:
    assert logged_in.get("/cases/new/not_an_indication").status_code == 404
    assert logged_in.post("/cases/new/not_an_indication", data={}).status_code == 404


def test_choose_an_indication_by_name_or_code(logged_in: FlaskClient) -> None:
    by_code = logged_in.get("/cases/new?q=g61.8")
    assert "/cases/new/cidp" in by_code.text
    assert "/cases/new/pid" not in by_code.text
    by_name = logged_in.get("/cases/new?q=immunodeficiency")
    assert "/cases/new/pid" in by_name.text
    assert "/cases/new/cidp" not in by_name.text
    # Nothing in the library matches: only the medical-exception request is offered.
    nothing = logged_in.get("/cases/new?q=zzzz")
    assert "/cases/new/unlisted_condition" in nothing.text
    assert "/cases/new/cidp" not in nothing.text and "/cases/new/pid" not in nothing.text
