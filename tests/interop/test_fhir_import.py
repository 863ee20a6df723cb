"""A record's FHIR Bundle becomes a draft: filled, left for staff, ignored with a reason."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from fhir_helpers import REPO_ROOT, outcome, read_example

from priorauth.domain.case import Case
from priorauth.interop import FhirInputError, import_bundle
from priorauth.rules import evaluate
from priorauth.rules.library import Library

FHIR_EXAMPLES = REPO_ROOT / "examples" / "fhir"
# Each EHR-shaped bundle and the hand-entered example of the same patient.
PAIRS = [
    ("cidp-initial-record.json", "cidp-initial-qualifies.json"),
    ("pid-initial-record.json", "pid-initial-qualifies.json"),
]


def _bundle(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FHIR_EXAMPLES / name).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(("bundle_name", "example_name"), PAIRS)
def test_bundle_imports_to_the_same_assessment_as_the_hand_entered_case(
    library: Library, bundle_name: str, example_name: str
) -> None:
    entered, as_of = read_example(REPO_ROOT / "examples" / example_name)
    result = import_bundle(_bundle(bundle_name), library)
    # Staff complete what the record does not hold (site, request type, regimen,
    # answers no Observation carries); every value the record gave stays.
    case = result.case(as_of, completed_with=entered)
    hand = evaluate(Case.model_validate(entered, context={"today": as_of}), library, as_of)
    imported = evaluate(case, library, as_of)
    assert outcome(imported) == outcome(hand)
    assert set(result.missing) == {"site_of_care", "request_type", "regimen"}


def test_cidp_record_fills_the_clinical_facts_and_lists_the_rest(library: Library) -> None:
    result = import_bundle(_bundle("cidp-initial-record.json"), library)
    draft = result.draft
    assert draft["indication_id"] == "cidp"
    assert draft["icd10_codes"] == ["G61.81"]
    assert draft["measurements"]["weight_unit"] == "lb"
    assert draft["measurements"]["weight"] == Decimal(220)
    assert draft["answers"]["demyelination_on_electrodiagnostics"] is True
    assert draft["answers"]["incat_score_baseline"]["value"] == 4
    assert draft["answers"]["symptom_duration_months"] == 5
    assert [t["therapy_class"] for t in draft["prior_therapies"]] == [
        "corticosteroid",
        "plasma_exchange",
    ]
    assert draft["prior_therapies"][0]["outcome"] == "inadequate_response"
    filled = {item.field for item in result.from_record}
    assert {"prescriber.npi", "prescriber.specialty", "coverage.member_id"} <= filled
    ignored = {item.item: item.reason for item in result.ignored}
    assert "not used by the intake" in ignored["AllergyIntolerance/allergy-cidp"]
    assert "no ICD-10-CM code" in ignored["Condition/cond-htn"]
    assert "no code the tables map" in ignored["Observation/bp-cidp"]
    # Staff still answer what no record holds.
    assert "walking_compromised_or_disabled" not in draft["answers"]


def test_pid_record_converts_units_and_keeps_the_latest_weight(library: Library) -> None:
    result = import_bundle(_bundle("pid-initial-record.json"), library)
    draft = result.draft
    # 4.1 g/L is 410 mg/dL; the weight stays in pounds and the domain converts it.
    assert [r["value"] for r in draft["answers"]["igg_mg_dl"]] == [Decimal(380), Decimal(410)]
    assert draft["measurements"]["weight"] == Decimal("136.7")
    assert draft["measurements"]["weight_unit"] == "lb"
    assert str(draft["measurements"]["measured_on"]) == "2026-11-02"
    ignored = {item.item: item.reason for item in result.ignored}
    assert "older body weight" in ignored["Observation/wt-pid-old"]
    assert "preliminary" in ignored["Observation/igg-prelim"]
    assert "search outcome" in ignored["OperationOutcome/search-outcome"]
    unverified = [i for i in result.from_record if i.field.startswith("answers.igg")]
    assert unverified and all(i.unverified and "LOINC 2465-3" in i.mapping for i in unverified)


def _with_observation(bundle: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(bundle)
    changed["entry"].append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    return changed


def test_an_unknown_unit_is_reported_not_guessed(library: Library) -> None:
    igg = {
        "resourceType": "Observation",
        "id": "igg-odd-unit",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2465-3"}]},
        "effectiveDateTime": "2026-10-01",
        "valueQuantity": {"value": 3, "system": "http://unitsofmeasure.org", "code": "umol/L"},
    }
    result = import_bundle(_with_observation(_bundle("pid-initial-record.json"), igg), library)
    ignored = {item.item: item.reason for item in result.ignored}
    assert "'umol/L' is not one the import converts" in ignored["Observation/igg-odd-unit"]
    assert len(result.draft["answers"]["igg_mg_dl"]) == 2


def test_an_unknown_code_system_is_reported(library: Library) -> None:
    odd = {
        "resourceType": "Observation",
        "id": "local-lab",
        "status": "final",
        "code": {"coding": [{"system": "urn:local:lab", "code": "IGG"}]},
        "effectiveDateTime": "2026-10-01",
        "valueQuantity": {"value": 380, "unit": "mg/dL"},
    }
    result = import_bundle(_with_observation(_bundle("pid-initial-record.json"), odd), library)
    ignored = {item.item: item.reason for item in result.ignored}
    assert "code system the tables do not know" in ignored["Observation/local-lab"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "not a FHIR Bundle"),
        ({"resourceType": "Patient"}, "not a FHIR Bundle"),
        ({"resourceType": "Bundle", "type": "document"}, "type 'document' is not read"),
        ({"resourceType": "Bundle", "type": "collection", "bogus": 1}, "not a valid FHIR R4"),
    ],
)
def test_unreadable_input_is_a_field_level_error(
    library: Library, data: Any, expected: str
) -> None:
    with pytest.raises(FhirInputError) as raised:
        import_bundle(data, library)
    assert expected in raised.value.message


def test_bad_field_names_its_path(library: Library) -> None:
    bundle = _bundle("cidp-initial-record.json")
    bundle["entry"][0]["resource"]["birthDate"] = "12/04/1968"
    with pytest.raises(FhirInputError) as raised:
        import_bundle(bundle, library)
    assert any(line.startswith("entry.0.resource.birthDate") for line in raised.value.problems)


def test_to_complete_names_fields_inside_what_the_record_gave(library: Library) -> None:
    bundle = _bundle("cidp-initial-record.json")
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Procedure":
            del entry["resource"]["outcome"]
    result = import_bundle(bundle, library)
    lines = result.to_complete(dt.date(2026, 11, 20))
    assert "prior_therapies.1.outcome: Field required" in lines
    assert not any(line.startswith(("regimen", "site_of_care")) for line in lines)


def test_errors_as_json_fields(library: Library) -> None:
    bundle = _bundle("cidp-initial-record.json")
    bundle["entry"][0]["resource"]["birthDate"] = "soon"
    with pytest.raises(FhirInputError) as raised:
        import_bundle(bundle, library)
    fields = raised.value.fields()
    assert fields[0]["field"] == "entry.0.resource.birthDate"
    assert fields[0]["message"]
    assert FhirInputError("not a FHIR Bundle").fields() == [
        {"field": "(whole input)", "message": "not a FHIR Bundle"}
    ]
