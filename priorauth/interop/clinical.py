"""Observations, medications and procedures from the record: labs, body measures, scores,
answers and prior therapies.

A LOINC lab is converted into its fact's unit by the table's factor; a body
weight or height keeps the record's unit when the case has one for it (kg or lb,
cm or in) and the domain converts it; any other unit is reported, not guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from priorauth.domain.facts import FACTS, FactKind
from priorauth.domain.treatment_history import TherapyOutcome

from .draft import DraftBuilder
from .tables import tables
from .values import as_date, codings, concept_text, resource_key

FINAL = frozenset({"final", "amended", "corrected"})
# UCUM codes the case keeps as they are (Measurements.weight_unit / height_unit).
WEIGHT_UNITS = {
    "kg": ("kg", Decimal(1)),
    "[lb_av]": ("lb", Decimal(1)),
    "g": ("kg", Decimal("0.001")),
}
HEIGHT_UNITS = {"cm": ("cm", Decimal(1)), "[in_i]": ("in", Decimal(1)), "m": ("cm", Decimal(100))}
# The facts' units as UCUM codes, for an Observation coded with a fact itself.
FACT_UNITS = {
    "mg/dL": "mg/dL",
    "points": "{score}",
    "kg": "kg",
    "infections": "{infections}",
    "months": "mo",
    "weeks": "wk",
}


def observation_date(observation: Any) -> dt.date | None:
    period = observation.effectivePeriod
    return (
        as_date(observation.effectiveDateTime)
        or (as_date(period.start) if period is not None else None)
        or as_date(observation.effectiveInstant)
        or as_date(observation.issued)
    )


def _quantity(observation: Any) -> tuple[Decimal, str] | None:
    quantity = observation.valueQuantity
    if quantity is None or quantity.value is None:
        return None
    ucum = tables().system("ucum")
    unit = quantity.code if quantity.system in (ucum, None) and quantity.code else ""
    return Decimal(str(quantity.value)), unit


def read_observation(observation: Any, builder: DraftBuilder) -> None:
    source = resource_key(observation)
    if observation.status not in FINAL:
        builder.ignore(source, f"status {observation.status}: only final results are used")
        return
    when = observation_date(observation)
    table = tables()
    loinc, fact_system = table.system("loinc"), table.system("fact")
    known = False
    for system, code, _ in codings(observation.code):
        if system == loinc and (lab := table.lab(code)) is not None:
            _lab(
                observation,
                source,
                when,
                lab.fact,
                lab.factors,
                builder,
                lab.source,
                lab.unverified,
            )
            return
        if system == loinc and (measure := table.measurement(code)) is not None:
            _measurement(
                observation,
                source,
                when,
                measure.field,
                builder,
                measure.source,
                measure.unverified,
            )
            return
        if system == fact_system and code in FACTS:
            _fact(observation, source, when, code, builder)
            return
        known = known or system in (loinc, fact_system)
    found = ", ".join(f"{s or '(no system)'}|{c}" for s, c, _ in codings(observation.code))
    reason = "no code the tables map" if known else "a code system the tables do not know"
    builder.ignore(source, f"{reason} ({found or 'no coding'})")


def _lab(
    observation: Any,
    source: str,
    when: dt.date | None,
    fact: str,
    factors: dict[str, Decimal],
    builder: DraftBuilder,
    mapping: str,
    unverified: bool,
) -> None:
    value = _quantity(observation)
    if value is None or when is None:
        builder.ignore(source, "a lab result needs a quantity and a full date")
        return
    number, unit = value
    factor = factors.get(unit)
    if factor is None:
        builder.ignore(
            source,
            f"unit {unit or '(none)'!r} is not one the import converts for {FACTS[fact].label} "
            f"({', '.join(factors)}); not guessed",
        )
        return
    builder.append(
        f"answers.{fact}", {"value": number * factor, "date": when}, source, mapping, unverified
    )


def _measurement(
    observation: Any,
    source: str,
    when: dt.date | None,
    field: str,
    builder: DraftBuilder,
    mapping: str,
    unverified: bool,
) -> None:
    value = _quantity(observation)
    if value is None or when is None:
        builder.ignore(source, f"a body {field} needs a quantity and a full date")
        return
    number, unit = value
    units = WEIGHT_UNITS if field == "weight" else HEIGHT_UNITS
    if unit not in units:
        builder.ignore(
            source, f"unit {unit or '(none)'!r} for body {field} is not one of {', '.join(units)}"
        )
        return
    # The latest measurement wins; the weight's date is the case's measurement date.
    previous = builder.marks.get(f"{field}_date")
    if previous is not None and previous > when:
        builder.ignore(source, f"an older body {field} than {previous.isoformat()}'s")
        return
    replaced = builder.marks.get(f"{field}_source")
    if replaced is not None:
        builder.ignore(replaced, f"an older body {field} than {when.isoformat()}'s")
    builder.marks[f"{field}_date"] = when
    builder.marks[f"{field}_source"] = source
    case_unit, factor = units[unit]
    builder.set(f"measurements.{field}_unit", case_unit, source)
    builder.set(f"measurements.{field}", number * factor, source, mapping, unverified)
    if field == "weight":
        builder.set("measurements.measured_on", when, source)


def _fact(
    observation: Any, source: str, when: dt.date | None, name: str, builder: DraftBuilder
) -> None:
    fact = FACTS[name]
    path = f"answers.{name}"
    kind = fact.kind
    value: Any = None
    if kind is FactKind.FLAG:
        value = observation.valueBoolean
    elif kind is FactKind.CHOICE:
        allowed = {key for key, _ in fact.choices}
        value = next(
            (c for _, c, _ in codings(observation.valueCodeableConcept) if c in allowed), None
        )
    elif kind is FactKind.DATE:
        value = as_date(observation.valueDateTime)
    elif kind in (FactKind.NUMBER, FactKind.SCORE, FactKind.LAB):
        quantity = _quantity(observation)
        number = quantity[0] if quantity else observation.valueInteger
        expected = FACT_UNITS.get(fact.unit, fact.unit)
        if quantity is not None and quantity[1] not in ("", expected, fact.unit):
            builder.ignore(source, f"unit {quantity[1]!r} for {fact.label}; expected {expected}")
            return
        if number is not None:
            number = Decimal(str(number))
            if kind is FactKind.SCORE:
                value = {"value": number, "date": when}
            elif kind is FactKind.LAB:
                if when is None:
                    builder.ignore(source, "a lab result needs a full date")
                    return
                builder.append(path, {"value": number, "date": when}, source)
                return
            else:
                value = number
    if value is None:
        builder.ignore(source, f"no value of the kind {fact.label} takes ({kind.value})")
        return
    builder.set(path, value, source)


def _therapy_class(concept: Any) -> tuple[str, str, bool] | None:
    """(class, mapping source, unverified) from the project's own code or the tables."""
    table = tables()
    for system, code, _ in codings(concept):
        if system == table.system("therapy_class"):
            return code, "", False
        entry = table.therapy(system, code)
        if entry is not None:
            return entry.therapy_class, entry.source, entry.unverified
    return None


def _outcome(concepts: Any) -> str | None:
    table = tables()
    allowed = {item.value for item in TherapyOutcome}
    return next(
        (
            c
            for s, c, _ in codings(concepts)
            if s == table.system("therapy_outcome") and c in allowed
        ),
        None,
    )


def read_medication(resource: Any, resolve: Callable[[Any], Any], builder: DraftBuilder) -> None:
    source = resource_key(resource)
    if resource.status in ("entered-in-error", "cancelled", "draft"):
        builder.ignore(source, f"status {resource.status}: not a therapy the patient had")
        return
    concept = resource.medicationCodeableConcept
    if concept is None and resource.medicationReference is not None:
        medication = resolve(resource.medicationReference)
        concept = getattr(medication, "code", None)
    if resource.get_resource_type() == "MedicationStatement":
        period = resource.effectivePeriod
        start = as_date(period.start) if period else as_date(resource.effectiveDateTime)
        end = as_date(period.end) if period else None
        reasons = resource.statusReason
        dose = next((d.text for d in resource.dosage or [] if d.text), "")
    else:
        validity = resource.dispenseRequest.validityPeriod if resource.dispenseRequest else None
        start = (as_date(validity.start) if validity else None) or as_date(resource.authoredOn)
        end = as_date(validity.end) if validity else None
        reasons = [resource.statusReason] if resource.statusReason else []
        dose = next((d.text for d in resource.dosageInstruction or [] if d.text), "")
    _therapy(resource, source, concept, start, end, reasons, dose, builder)


def read_procedure(resource: Any, builder: DraftBuilder) -> None:
    source = resource_key(resource)
    if resource.status in ("entered-in-error", "not-done", "preparation"):
        builder.ignore(source, f"status {resource.status}: not a therapy the patient had")
        return
    period = resource.performedPeriod
    start = as_date(period.start) if period else as_date(resource.performedDateTime)
    end = as_date(period.end) if period else None
    reasons = [resource.outcome] if resource.outcome else []
    _therapy(resource, source, resource.code, start, end, reasons, "", builder)


def _therapy(
    resource: Any,
    source: str,
    concept: Any,
    start: dt.date | None,
    end: dt.date | None,
    reasons: Any,
    dose: str,
    builder: DraftBuilder,
) -> None:
    found = _therapy_class(concept)
    if found is None:
        codes = ", ".join(f"{s or '(no system)'}|{c}" for s, c, _ in codings(concept))
        builder.ignore(
            source, f"no therapy class for its code ({codes or 'no coding'}); not guessed"
        )
        return
    therapy_class, mapping, unverified = found
    if start is None:
        builder.ignore(source, "a prior therapy needs a full start date")
        return
    therapy: dict[str, Any] = {
        "agent": concept_text(concept) or therapy_class.replace("_", " "),
        "therapy_class": therapy_class,
        "start": start,
    }
    if end is not None:
        therapy["end"] = end
    if dose:
        therapy["dose"] = dose
    outcome = _outcome(reasons)
    if outcome is not None:
        therapy["outcome"] = outcome
    notes = [concept_text(reason) for reason in reasons or []]
    notes += [str(note.text) for note in getattr(resource, "note", None) or [] if note.text]
    if any(notes):
        therapy["note"] = "; ".join(note for note in notes if note)
    builder.append("prior_therapies", therapy, source, mapping, unverified)
