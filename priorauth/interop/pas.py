"""A case as a Da Vinci PAS-shaped prior-authorization request Bundle.

The Bundle is a collection whose first entry is the Claim (use
"preauthorization"), then the QuestionnaireResponse with the answers, then the
Patient, Coverage, Practitioner, PractitionerRole, Organizations, Conditions and
Observations the Claim points at, and the letter as a DocumentReference with its
PDF. Every finding it states (the dose, the billing units, the period) is the
Assessment's; this module only puts them into FHIR.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from priorauth.domain.case import Case
from priorauth.domain.costs.summary import courses_between
from priorauth.domain.facts import FACTS, FactKind
from priorauth.rules.assessment import Assessment
from priorauth.rules.library import Library

from .response import prefill_response
from .tables import tables

PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition"
BUNDLE_PROFILE = f"{PAS}/profile-pas-request-bundle"
CLAIM_PROFILE = f"{PAS}/profile-claim"
IDENTIFIER_SYSTEM = "http://priorauth.local/fhir/pas-request"
BASE = "http://priorauth.local/fhir"


def _ref(kind: str, resource_id: str) -> dict[str, str]:
    return {"reference": f"{kind}/{resource_id}"}


def _coding(system: str, code: str, display: str = "") -> dict[str, Any]:
    coding = {"system": tables().system(system), "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _request_id(case: Case, as_of: dt.date) -> str:
    """A stable id for the request: the same case on the same day gives the same one."""
    digest = hashlib.sha256(case.model_dump_json().encode() + as_of.isoformat().encode())
    return digest.hexdigest()[:16]


def _people(case: Case) -> list[dict[str, Any]]:
    patient = case.patient
    prescriber = case.prescriber
    table = tables()
    role: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": "prescriber-role",
        "practitioner": _ref("Practitioner", "prescriber"),
        "organization": _ref("Organization", "practice"),
    }
    taxonomy = next((s for s in table.specialties if s.specialty == prescriber.specialty), None)
    if taxonomy is not None:
        role["specialty"] = [_coding("nucc", taxonomy.code)]
    telecom = [
        {"system": system, "value": value}
        for system, value in (("phone", prescriber.phone), ("fax", prescriber.fax))
        if value
    ]
    practice: dict[str, Any] = {
        "resourceType": "Organization",
        "id": "practice",
        "name": prescriber.practice_name or prescriber.name,
    }
    if prescriber.practice_address:
        practice["address"] = [{"text": prescriber.practice_address}]
    if telecom:
        practice["telecom"] = telecom
    plan = next((p for p in table.plan_types if p.plan_type is case.coverage.plan_type), None)
    coverage: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": "coverage",
        "status": "active",
        "subscriberId": case.coverage.member_id,
        "beneficiary": _ref("Patient", "patient"),
        "payor": [_ref("Organization", "insurer")],
    }
    if plan is not None:
        coverage["type"] = _coding("sopt", plan.code)
    if case.coverage.group_number:
        coverage["class"] = [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                            "code": "group",
                        }
                    ]
                },
                "value": case.coverage.group_number,
            }
        ]
    return [
        {
            "resourceType": "Patient",
            "id": "patient",
            "name": [{"family": patient.last_name, "given": [patient.first_name]}],
            "gender": patient.sex.value,
            "birthDate": patient.date_of_birth.isoformat(),
        },
        coverage,
        {"resourceType": "Organization", "id": "insurer", "name": case.coverage.payer_name},
        {
            "resourceType": "Practitioner",
            "id": "prescriber",
            "identifier": [{"system": table.system("npi"), "value": prescriber.npi}],
            "name": [{"text": prescriber.name, "suffix": [prescriber.credentials]}],
            **({"telecom": telecom} if telecom else {}),
        },
        role,
        practice,
    ]


def _observations(case: Case) -> list[dict[str, Any]]:
    """Weight, height, lab results and scores: what a reviewer checks against the record."""
    table = tables()
    measurements = case.measurements
    found: list[dict[str, Any]] = []

    def add(code: dict[str, Any], when: dt.date | None, value: dict[str, Any]) -> None:
        observation = {
            "resourceType": "Observation",
            "id": f"obs-{len(found) + 1}",
            "status": "final",
            "code": code,
            "subject": _ref("Patient", "patient"),
            **value,
        }
        if when is not None:
            observation["effectiveDateTime"] = when.isoformat()
        found.append(observation)

    ucum = table.system("ucum")
    weight_code = "[lb_av]" if measurements.weight_unit.value == "lb" else "kg"
    add(
        _coding("loinc", "29463-7", "Body weight"),
        measurements.measured_on,
        {
            "valueQuantity": {
                "value": measurements.weight,
                "unit": measurements.weight_unit.value,
                "system": ucum,
                "code": weight_code,
            }
        },
    )
    if measurements.height is not None:
        height_code = "[in_i]" if measurements.height_unit.value == "in" else "cm"
        add(
            _coding("loinc", "8302-2", "Body height"),
            measurements.measured_on,
            {
                "valueQuantity": {
                    "value": measurements.height,
                    "unit": measurements.height_unit.value,
                    "system": ucum,
                    "code": height_code,
                }
            },
        )
    for name, value in case.answers.items():
        fact = FACTS[name]
        if fact.kind is FactKind.LAB:
            lab = next((entry for entry in table.labs if entry.fact == name), None)
            code = (
                _coding("loinc", lab.loinc, lab.display)
                if lab
                else _coding("fact", name, fact.label)
            )
            for result in value or []:
                add(
                    code,
                    result.date,
                    {
                        "valueQuantity": {
                            "value": result.value,
                            "unit": fact.unit,
                            "system": ucum,
                            "code": fact.unit,
                        }
                    },
                )
        elif fact.kind is FactKind.SCORE and value is not None:
            add(
                _coding("fact", name, fact.label),
                value.date,
                {"valueQuantity": {"value": value.value, "unit": fact.unit}},
            )
    return found


def _units_requested(case: Case, assessment: Assessment) -> int | None:
    """Billing units over the period: units per course × courses, plus the loading course."""
    per_course = assessment.dose.billing_units
    if per_course is None:
        return None
    regimen = case.regimen
    if regimen.courses_requested is not None:
        courses = regimen.courses_requested
    else:
        months = regimen.months_requested or assessment.authorization_months or 1
        courses = courses_between(regimen.start_date, months, regimen.interval_weeks)
    return per_course * courses + (assessment.dose.loading_billing_units or 0)


def _claim(
    case: Case,
    assessment: Assessment,
    as_of: dt.date,
    request_id: str,
    support: list[dict[str, Any]],
) -> dict[str, Any]:
    table = tables()
    product = assessment.product
    item: dict[str, Any] = {
        "sequence": 1,
        "diagnosisSequence": list(range(1, len(case.icd10_codes) + 1)),
        "productOrService": _coding("hcpcs", product.hcpcs, product.name)
        if product is not None and product.hcpcs
        else {"text": case.regimen.product_id},
        "informationSequence": [entry["sequence"] for entry in support],
    }
    units = _units_requested(case, assessment)
    if units is not None:
        item["quantity"] = {"value": units, "unit": "billing unit"}
    start = assessment.authorization_start or case.regimen.start_date
    period = {"start": start.isoformat()}
    if assessment.authorization_end is not None:
        period["end"] = assessment.authorization_end.isoformat()
    item["servicedPeriod"] = period
    place = table.place_of_service(case.site_of_care)
    site_label = case.site_of_care.value.replace("_", " ")
    item["locationCodeableConcept"] = (
        {**_coding("pos", place.code, place.display), "text": site_label}
        if place.code
        else {"text": place.display}
    )
    return {
        "resourceType": "Claim",
        "id": "request",
        "meta": {"profile": [CLAIM_PROFILE]},
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": request_id}],
        "status": "active",
        "type": _coding("claim_type", place.claim_type),
        "use": "preauthorization",
        "patient": _ref("Patient", "patient"),
        "created": as_of.isoformat(),
        "insurer": _ref("Organization", "insurer"),
        "provider": _ref("Organization", "practice"),
        "priority": _coding("process_priority", "normal"),
        "careTeam": [{"sequence": 1, "provider": _ref("PractitionerRole", "prescriber-role")}],
        "supportingInfo": support,
        "diagnosis": [
            {
                "sequence": index,
                "diagnosisCodeableConcept": _coding("icd10cm", code),
                **({"type": [_coding("diagnosis_type", "principal")]} if index == 1 else {}),
            }
            for index, code in enumerate(case.icd10_codes, start=1)
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": _ref("Coverage", "coverage")}],
        "item": [item],
    }


def export_pas(
    case: Case,
    library: Library,
    assessment: Assessment,
    letter_pdf: bytes | None = None,
    letter_title: str = "Letter of medical necessity",
) -> dict[str, Any]:
    """The PAS request Bundle for a case and its assessment, as FHIR JSON."""
    as_of = assessment.as_of
    request_id = _request_id(case, as_of)
    # The payer profile is the clinic's own setting, not something to tell the payer.
    response = prefill_response(library, case, leave_out=frozenset({"coverage.payer_profile"}))
    response.update(id="answers", subject=_ref("Patient", "patient"), authored=as_of.isoformat())
    resources: list[dict[str, Any]] = [response, *_people(case)]
    resources += [
        {
            "resourceType": "Condition",
            "id": f"condition-{index}",
            "subject": _ref("Patient", "patient"),
            "code": _coding("icd10cm", code),
        }
        for index, code in enumerate(case.icd10_codes, start=1)
    ]
    observations = _observations(case)
    resources += observations
    support = [
        {
            "sequence": 1,
            "category": _coding("claim_information_category", "info"),
            "valueReference": _ref("QuestionnaireResponse", "answers"),
        }
    ]
    for observation in observations:
        support.append(
            {
                "sequence": len(support) + 1,
                "category": _coding("claim_information_category", "info"),
                "valueReference": _ref("Observation", observation["id"]),
            }
        )
    if letter_pdf is not None:
        resources.append(
            {
                "resourceType": "DocumentReference",
                "id": "letter",
                "status": "current",
                "subject": _ref("Patient", "patient"),
                "date": f"{as_of.isoformat()}T00:00:00Z",
                "description": letter_title,
                "content": [
                    {
                        "attachment": {
                            "contentType": "application/pdf",
                            "data": base64.b64encode(letter_pdf).decode("ascii"),
                            "title": f"{letter_title}.pdf",
                            "size": len(letter_pdf),
                            "hash": base64.b64encode(hashlib.sha1(letter_pdf).digest()).decode(
                                "ascii"
                            ),
                        }
                    }
                ],
            }
        )
        support.append(
            {
                "sequence": len(support) + 1,
                "category": _coding("claim_information_category", "attachment"),
                "valueReference": _ref("DocumentReference", "letter"),
            }
        )
    claim = _claim(case, assessment, as_of, request_id, support)
    bundle = {
        "resourceType": "Bundle",
        "id": f"pas-{request_id}",
        "meta": {"profile": [BUNDLE_PROFILE]},
        "identifier": {"system": IDENTIFIER_SYSTEM, "value": request_id},
        "type": "collection",
        "timestamp": f"{as_of.isoformat()}T00:00:00Z",
        "entry": [
            {"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r}
            for r in [claim, *resources]
        ],
    }
    return json.loads(Bundle.model_validate(bundle).model_dump_json())
