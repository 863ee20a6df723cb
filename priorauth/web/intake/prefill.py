"""The first step filled from the clinic's directory: a prescriber, a payer, a patient on file.

The step page offers three choices. With JavaScript, choosing one fills its
fields at once (``directory.js``, from the data this module gives the page);
without it, the choice is posted with the step and filled in here. Either way
the fields stay editable, except one thing: the payer chosen sets the payer
rules, so a case is never checked against another payer's rules by accident.

A patient whose first case's first step is saved is put on file, so the next
case for them starts filled.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from priorauth.domain.case import PLAN_LABELS, RequestType
from priorauth.domain.catalog import Product
from priorauth.domain.quantities import plain_number
from priorauth.rules.schema import DosingLimit, IndicationDefinition
from priorauth.store import directory
from priorauth.store.models import PatientRecord, PayerEntry, Prescriber

# The names of the three choices (outside the form: nothing of them is stored in a draft).
CHOOSE_PRESCRIBER = "directory-prescriber"
CHOOSE_PAYER = "directory-payer"
CHOOSE_PATIENT = "directory-patient"
CHOICE_NAMES = (CHOOSE_PRESCRIBER, CHOOSE_PAYER, CHOOSE_PATIENT)
_PLAN = {p.value: label for p, label in PLAN_LABELS.items()}


def prescriber_fields(row: Prescriber) -> dict[str, str]:
    return {
        f"prescriber-{name}": str(getattr(row, name) or "") for name in directory.PRESCRIBER_FIELDS
    }


def only_prescriber(session: Session, organization_id: int) -> dict[str, str] | None:
    """The fields of the clinic's one active prescriber, when it has exactly one."""
    prescribers = directory.list_prescribers(session, organization_id, active_only=True)
    return prescriber_fields(prescribers[0]) if len(prescribers) == 1 else None


def payer_fields(row: PayerEntry) -> dict[str, str]:
    return {
        "coverage-payer_name": row.name,
        "coverage-plan_type": row.plan_type,
        "coverage-payer_profile": row.payer_profile,
    }


def patient_fields(row: PatientRecord, payer: PayerEntry | None) -> dict[str, str]:
    values = {
        "patient-first_name": row.first_name,
        "patient-last_name": row.last_name,
        "patient-date_of_birth": row.date_of_birth,
        "patient-sex": row.sex,
        "coverage-member_id": row.member_id,
        "coverage-group_number": row.group_number,
    }
    if payer is not None:
        values.update(payer_fields(payer))
    return values


# Fields a choice always sets, whatever was typed: the payer's rules come with the payer.
FORCED = frozenset({"coverage-payer_profile"})


def _chosen(formdata: Mapping[str, str], name: str) -> int | None:
    raw = str(formdata.get(name, "") or "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def apply_choices(
    formdata: MultiDict[str, str], session: Session, organization_id: int
) -> MultiDict[str, str]:
    """The step's posted values with what the chosen entries fill (empty fields only)."""
    filled: dict[str, str] = {}
    payers = {p.id: p for p in directory.list_payers(session, organization_id)}
    patient_id = _chosen(formdata, CHOOSE_PATIENT)
    patient = directory.get(session, PatientRecord, organization_id, patient_id or 0)
    if patient is not None:
        filled.update(patient_fields(patient, payers.get(patient.payer_entry_id or 0)))
    payer = payers.get(_chosen(formdata, CHOOSE_PAYER) or 0)
    if payer is not None:
        filled.update(payer_fields(payer))
    prescriber_id = _chosen(formdata, CHOOSE_PRESCRIBER)
    prescriber = directory.get(session, Prescriber, organization_id, prescriber_id or 0)
    if prescriber is not None:
        filled.update(prescriber_fields(prescriber))
    result = MultiDict([(k, v) for k, v in formdata.items(multi=True) if k not in CHOICE_NAMES])
    for name, value in filled.items():
        if name in FORCED or not (result.get(name) or "").strip():
            result.setlist(name, [value])
    return result


def _option(value: int, label: str, selected: bool) -> dict[str, Any]:
    return {"value": str(value), "label": label, "selected": selected}


def choices(session: Session, organization_id: int, values: Mapping[str, str]) -> dict[str, Any]:
    """The three choices for the step page (the entry the form's values match selected),
    and the values each fills, as JSON for the page's script."""
    prescribers = directory.list_prescribers(session, organization_id, active_only=True)
    payers = directory.list_payers(session, organization_id, active_only=True)
    by_id = {p.id: p for p in payers}
    patients = directory.list_patients(session, organization_id)
    npi = values.get("prescriber-npi", "")
    payer_key = (values.get("coverage-payer_name", ""), values.get("coverage-plan_type", ""))
    patient_key = (
        values.get("patient-first_name", "").strip().casefold(),
        values.get("patient-last_name", "").strip().casefold(),
        values.get("patient-date_of_birth", ""),
    )
    fills: dict[str, dict[str, dict[str, str]]] = {
        "prescriber": {str(p.id): prescriber_fields(p) for p in prescribers},
        "payer": {str(p.id): payer_fields(p) for p in payers},
        "patient": {
            str(p.id): patient_fields(p, by_id.get(p.payer_entry_id or 0)) for p in patients
        },
    }
    return {
        "prescribers": [
            _option(
                p.id,
                f"{p.name}{f', {p.credentials}' if p.credentials else ''} (NPI {p.npi})",
                bool(npi) and p.npi == npi,
            )
            for p in prescribers
        ],
        "payers": [
            _option(
                p.id,
                f"{p.name} — {_PLAN.get(p.plan_type, p.plan_type)}",
                payer_key == (p.name, p.plan_type),
            )
            for p in payers
        ],
        "patients": [
            _option(
                p.id,
                f"{p.last_name}, {p.first_name} (born {p.date_of_birth})",
                patient_key
                == (
                    p.first_name.strip().casefold(),
                    p.last_name.strip().casefold(),
                    p.date_of_birth,
                ),
            )
            for p in patients
        ],
        "json": _safe_json(fills),
    }


def _safe_json(value: Any) -> str:
    """JSON for a data block the page's script reads: no "<" may close the block early."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def remember_patient(
    session: Session, organization_id: int, pairs: Iterable[tuple[str, str]]
) -> PatientRecord | None:
    """Put the step's patient on file when they are not yet (name and a real date of birth)."""
    values = dict(pairs)
    first = values.get("patient-first_name", "").strip()
    last = values.get("patient-last_name", "").strip()
    born = values.get("patient-date_of_birth", "").strip()
    try:
        born = dt.date.fromisoformat(born).isoformat()
    except ValueError:
        return None
    if not first or not last or directory.find_patient(session, organization_id, first, last, born):
        return None
    payer = next(
        (
            p
            for p in directory.list_payers(session, organization_id)
            if (p.name, p.plan_type)
            == (values.get("coverage-payer_name", ""), values.get("coverage-plan_type", ""))
        ),
        None,
    )
    return directory.save(
        session,
        PatientRecord,
        organization_id,
        {
            "first_name": first,
            "last_name": last,
            "date_of_birth": born,
            "sex": values.get("patient-sex", ""),
            "member_id": values.get("coverage-member_id", "").strip(),
            "group_number": values.get("coverage-group_number", "").strip(),
            "payer_entry_id": payer.id if payer is not None else None,
        },
    )


# --- the regimen from the indication's dosing phase ------------------------------------------

PHASE_FIELDS = ("regimen-dose_g_per_kg", "regimen-days_per_course", "regimen-interval_weeks")


def _fixed(low: Decimal | None, high: Decimal | None) -> Decimal | None:
    """A range's value when it allows one only."""
    return low if low is not None and low == high else None


def phase_values(phase: DosingLimit) -> dict[str, str]:
    """What choosing a phase fills: the source's usual dose and interval, or the one value
    the phase allows, and the fewest infusion days that keep each day within its limit.

    A value the phase leaves open is not filled: the prescriber gives it.
    """
    usual = phase.usual
    if phase.g_per_kg_per_week is not None:  # subcutaneous: the dose is stated per week
        interval = (usual.interval_weeks if usual else None) or _fixed(
            phase.interval_weeks.min, phase.interval_weeks.max
        )
        weekly = _fixed(phase.g_per_kg_per_week.min, phase.g_per_kg_per_week.max)
        dose = usual.g_per_kg_per_course if usual else None
        if dose is None and weekly is not None and interval is not None:
            dose = weekly * interval
    else:
        dose = (usual.g_per_kg_per_course if usual else None) or _fixed(
            phase.g_per_kg_per_course.min, phase.g_per_kg_per_course.max
        )
        interval = (usual.interval_weeks if usual else None) or _fixed(
            phase.interval_weeks.min, phase.interval_weeks.max
        )
    days = _fixed(phase.days_per_course.min, phase.days_per_course.max)
    if days is None and dose is not None and phase.max_g_per_kg_per_day:
        fewest = max(1, math.ceil(dose / phase.max_g_per_kg_per_day))
        low, high = phase.days_per_course.min, phase.days_per_course.max
        days = Decimal(max(fewest, int(low or 1)))
        if high is not None and days > high:
            days = None
    values = {}
    for name, value in zip(PHASE_FIELDS, (dose, days, interval), strict=True):
        if value is not None:
            values[name] = plain_number(value)
    if phase.loading and interval is None:
        values["regimen-courses_requested"] = "1"  # a loading phase is given once
    return values


def phase_table(definition: IndicationDefinition) -> dict[str, dict[str, str]]:
    return {phase.id: phase_values(phase) for phase in definition.dosing}


def phase_json(definition: IndicationDefinition) -> str:
    return _safe_json(phase_table(definition))


def apply_phase(
    formdata: MultiDict[str, str], definition: IndicationDefinition | None
) -> MultiDict[str, str]:
    """Without the page's script: the chosen phase fills its empty regimen fields."""
    if definition is None:
        return formdata
    values = phase_table(definition).get(str(formdata.get("regimen-phase", "")), {})
    for name, value in values.items():
        if not (formdata.get(name) or "").strip():
            formdata.setlist(name, [value])
    return formdata


def regimen_defaults(
    formdata: MultiDict[str, str],
    definition: IndicationDefinition,
    products: Mapping[str, Product],
    *,
    request_type: str,
    usual_site: str = "",
    usual_product: str = "",
) -> MultiDict[str, str]:
    """A new case's regimen as first shown: the clinic's usual site and product, and the
    indication's dosing phase when only one fits the request and the product's route.

    Only empty fields are filled, and only on the first showing of the step: what a
    person chose or typed is never replaced. Nothing clinical is guessed: a phase is
    chosen only when the definition leaves one possibility.
    """

    def empty(name: str) -> bool:
        return not (formdata.get(name) or "").strip()

    if empty("site_of_care") and usual_site:
        formdata.setlist("site_of_care", [usual_site])
    if empty("regimen-product_id") and usual_product in products:
        formdata.setlist("regimen-product_id", [usual_product])
    if empty("regimen-phase"):
        product = products.get(str(formdata.get("regimen-product_id") or ""))
        only = definition.only_phase(
            RequestType(request_type), product.route if product is not None else None
        )
        if only is not None:
            formdata.setlist("regimen-phase", [only.id])
            apply_phase(formdata, definition)
    return formdata
