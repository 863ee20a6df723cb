"""A case goes out as a Da Vinci PAS-shaped request Bundle.

The elements checked here are the ones the PAS IG (STU 2.1, hl7.org/fhir/us/davinci-pas:
profile-pas-request-bundle and profile-claim, with base R4 Claim's required
elements) asks of a prior-authorization request; each is named in REQUIRED.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir_helpers import REPO_ROOT, read_example

from priorauth.domain.case import Case
from priorauth.interop.pas import export_pas
from priorauth.interop.response import read_response
from priorauth.rules import evaluate
from priorauth.rules.library import Library

# Bundle: identifier, timestamp, type collection, the Claim first.
# Claim (base R4 1..1 and PAS must-haves): identifier, status, type, use, patient,
# created, insurer, provider, priority, insurance (sequence, focal, coverage),
# diagnosis, item (sequence, productOrService, quantity, servicedPeriod,
# locationCodeableConcept), supportingInfo (sequence, category).
REQUIRED = {
    "Bundle": ("identifier", "timestamp", "type", "entry"),
    "Claim": (
        "identifier",
        "status",
        "type",
        "use",
        "patient",
        "created",
        "insurer",
        "provider",
        "priority",
        "insurance",
        "diagnosis",
        "item",
        "supportingInfo",
    ),
    "Claim.insurance": ("sequence", "focal", "coverage"),
    "Claim.item": (
        "sequence",
        "productOrService",
        "quantity",
        "servicedPeriod",
        "locationCodeableConcept",
    ),
    "Claim.supportingInfo": ("sequence", "category"),
    "Coverage": ("status", "beneficiary", "payor", "subscriberId"),
    "Patient": ("name", "gender", "birthDate"),
    "Practitioner": ("identifier", "name"),
    "Organization": ("name",),
    "PractitionerRole": ("practitioner", "organization"),
    "Condition": ("code", "subject"),
    "Observation": ("status", "code", "subject", "effectiveDateTime", "valueQuantity"),
    "QuestionnaireResponse": ("questionnaire", "status", "subject", "item"),
    "DocumentReference": ("status", "content"),
}
EXAMPLES = ["cidp-initial-qualifies.json", "pid-initial-qualifies.json"]
FAKE_PDF = b"%PDF-1.7\n% a stand-in; the command-line test attaches a rendered letter\n"


def _export(
    library: Library, name: str, pdf: bytes | None = FAKE_PDF
) -> tuple[Case, dict[str, Any]]:
    data, as_of = read_example(REPO_ROOT / "examples" / name)
    case = Case.model_validate(data, context={"today": as_of})
    return case, export_pas(case, library, evaluate(case, library, as_of), pdf)


def _missing(resource: dict[str, Any], kind: str) -> list[str]:
    return [f"{kind}.{key}" for key in REQUIRED[kind] if resource.get(key) in (None, [], "")]


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_pas_bundle_has_every_required_element(library: Library, name: str) -> None:
    case, bundle = _export(library, name)
    Bundle.model_validate(bundle)
    missing = _missing(bundle, "Bundle")
    assert bundle["type"] == "collection"
    resources = [entry["resource"] for entry in bundle["entry"]]
    claim = resources[0]
    assert claim["resourceType"] == "Claim"
    assert claim["use"] == "preauthorization"
    for resource in resources:
        missing += _missing(resource, resource["resourceType"])
    for part in ("insurance", "item", "supportingInfo"):
        for element in claim[part]:
            missing += _missing(element, f"Claim.{part}")
    assert not missing
    kinds = {r["resourceType"] for r in resources}
    assert kinds >= {
        "QuestionnaireResponse",
        "Patient",
        "Coverage",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Condition",
        "Observation",
        "DocumentReference",
    }
    assert [d["diagnosisCodeableConcept"]["coding"][0]["code"] for d in claim["diagnosis"]] == list(
        case.icd10_codes
    )


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_reference_resolves_inside_the_bundle(library: Library, name: str) -> None:
    _, bundle = _export(library, name)
    present = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    found: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("reference"), str):
                found.append(node["reference"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(bundle)
    assert found and set(found) <= present


def test_the_item_is_the_hcpcs_code_with_units_period_and_place(library: Library) -> None:
    case, bundle = _export(library, "cidp-initial-qualifies.json")
    item = bundle["entry"][0]["resource"]["item"][0]
    assert item["productOrService"]["coding"][0]["code"] == "J1459"
    # 160 g in one course: 320 units of 500 mg.
    assert item["quantity"]["value"] == 320
    assert item["servicedPeriod"]["start"] == case.regimen.start_date.isoformat()
    assert item["locationCodeableConcept"]["text"] == "Free-standing infusion center"


def test_pid_units_cover_the_period(library: Library) -> None:
    _, bundle = _export(library, "pid-initial-qualifies.json")
    item = bundle["entry"][0]["resource"]["item"][0]
    # 24.8 g every 4 weeks: 50 units a course, 14 courses in 12 months from 2026-12-01.
    assert item["quantity"]["value"] == 700
    assert item["servicedPeriod"] == {"start": "2026-12-01", "end": "2027-11-30"}


def test_the_answers_and_the_letter_travel_with_the_claim(library: Library) -> None:
    case, bundle = _export(library, "pid-initial-qualifies.json")
    by_kind = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    attachment = by_kind["DocumentReference"]["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert base64.b64decode(attachment["data"]) == FAKE_PDF
    back = read_response(library, json.loads(json.dumps(by_kind["QuestionnaireResponse"])))
    assert back.case(dt.date.fromisoformat(bundle["timestamp"][:10])) == case


def test_without_a_letter_there_is_no_document_reference(library: Library) -> None:
    _, bundle = _export(library, "pid-initial-qualifies.json", pdf=None)
    assert "DocumentReference" not in {e["resource"]["resourceType"] for e in bundle["entry"]}


def test_payer_facing_bundle_carries_no_internal_mark(library: Library) -> None:
    _, bundle = _export(library, "cidp-initial-qualifies.json")
    text = json.dumps(bundle).lower()
    for mark in ("unverified", "draft", "illustrative"):
        assert mark not in text
    answers = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    assert "coverage.payer_profile" not in json.dumps(answers)


@pytest.mark.parametrize(
    "name",
    [
        "cidp/examples/continuation-hizentra-maintenance.json",
        "gbs/examples/one-inpatient-course.json",
        "kawasaki/examples/day-6-qualifies.json",
        "pid/examples/switch-to-weekly-hizentra.json",
        "itp_adult_pregnancy/examples/pre-pregnancy-weight.json",
    ],
)
def test_other_regimens_and_sites_export(library: Library, name: str) -> None:
    data, as_of = read_example(REPO_ROOT / "forms" / "indications" / name)
    case = Case.model_validate(data, context={"today": as_of})
    assessment = evaluate(case, library, as_of)
    bundle = export_pas(case, library, assessment, FAKE_PDF)
    Bundle.model_validate(bundle)
    claim = bundle["entry"][0]["resource"]
    item = claim["item"][0]
    assert item["quantity"]["value"] >= (assessment.dose.billing_units or 1)
    place = item["locationCodeableConcept"]
    if case.site_of_care.value == "inpatient":
        assert place["coding"][0]["code"] == "21"
        assert claim["type"]["coding"][0]["code"] == "institutional"
