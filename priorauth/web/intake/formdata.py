# mypy: disallow-subclassing-any=False
"""The intake form's values as pairs: a stored case's, a new case's, a draft's, a renewal's.

Also the buttons that add and remove rows, which work without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Field, FieldList, Form, FormField, SelectMultipleField

from priorauth.domain.case import HeightUnit, RequestType, WeightUnit
from priorauth.domain.facts import FACTS, FactKind
from priorauth.domain.treatment_history import TherapyOutcome
from priorauth.rules.schema import IndicationDefinition

from .building import IntakeForm
from .prefill import phase_values
from .safety import never_tried_pairs, safety_pairs

ACTION_SAVE = "save"
_ACTION = re.compile(r"^(add|remove):([a-z0-9_-]+?)(?::(\d{1,4}))?$")


def new_formdata(request_type: RequestType) -> MultiDict[str, str]:
    """Starting values for a new case: the request type and the usual units."""
    return MultiDict(
        [
            ("request_type", request_type.value),
            ("form_request_type", request_type.value),
            ("coverage-payer_profile", "reference"),
            ("measurements-weight_unit", WeightUnit.KG.value),
            ("measurements-height_unit", HeightUnit.CM.value),
        ]
    )


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def formdata_for_case(data: Mapping[str, Any], version: int | None = None) -> MultiDict[str, str]:
    """The form's fields for a stored case (``Case.model_dump(mode="json")``)."""
    pairs: list[tuple[str, str]] = []

    def put(name: str, value: Any) -> None:
        if value is not None and value != "":
            pairs.append((name, _as_text(value)))

    for section in ("patient", "coverage", "prescriber", "measurements", "regimen"):
        for key, value in (data.get(section) or {}).items():
            if key == "pregnant":
                if value:
                    pairs.append(("measurements-pregnant", "y"))
                continue
            if isinstance(value, Mapping):  # a regimen's loading course or IV switch
                for part, part_value in value.items():
                    put(f"{section}-{key}-{part}", part_value)
                continue
            put(f"{section}-{key}", value)
    pairs += safety_pairs(data.get("safety"))
    pairs += never_tried_pairs(data.get("never_tried"))
    for key in ("site_of_care", "request_type", "clinical_summary"):
        put(key, data.get(key))
    put("form_request_type", data.get("request_type"))
    for code in data.get("icd10_codes") or []:
        put("icd10_codes", code)
    for index, therapy in enumerate(data.get("prior_therapies") or []):
        for key, value in therapy.items():
            put(f"prior_therapies-{index}-{key}", value)
    for name, value in (data.get("answers") or {}).items():
        fact = FACTS.get(name)
        if fact is None or value is None:
            continue
        if fact.kind is FactKind.LAB:
            for index, row in enumerate(value if isinstance(value, list) else [value]):
                put(f"answers-{name}-{index}-value", row.get("value"))
                put(f"answers-{name}-{index}-date", row.get("date"))
        elif fact.kind is FactKind.SCORE:
            score = value if isinstance(value, dict) else {"value": value}
            put(f"answers-{name}-value", score.get("value"))
            put(f"answers-{name}-date", score.get("date"))
        else:
            put(f"answers-{name}", value)
    if version is not None:
        put("version", version)
    return MultiDict(pairs)


def continuation_formdata(
    data: Mapping[str, Any],
    definition: IndicationDefinition,
    *,
    today: dt.date,
    authorization_start: dt.date | None = None,
    authorization_end: dt.date | None = None,
    product_name: str = "",
    response: TherapyOutcome | None = None,
) -> MultiDict[str, str]:
    """A continuation's starting values, from the case it renews.

    Patient, coverage, prescriber, codes, site, therapies, regimen and the
    summary carry over; so do the answers asked of both request types (the
    baseline measures). The course being renewed joins the prior treatment, with
    its dates, as the current course (its response is what the new measures show).
    What a continuation must show anew is left empty: the current measures and the
    other continuation questions, and the weight (the dose must be computed on
    today's weight, so its date starts as today). The start date starts as the day
    after the renewed authorization ends, when that is recorded: coverage goes on
    without a gap. Every value stays editable.

    ``response`` is the renewed course's recorded response, when one is known; without
    it the course is the current course, its response for the person to record (never
    guessed here).
    """
    initial = {q.fact for q in definition.questions_for(RequestType.INITIAL)}
    continuation = {q.fact for q in definition.questions_for(RequestType.CONTINUATION)}
    keep = initial & continuation
    renewed = {key: value for key, value in data.items() if key not in ("answers",)}
    renewed["request_type"] = RequestType.CONTINUATION.value
    renewed["answers"] = {k: v for k, v in (data.get("answers") or {}).items() if k in keep}
    measurements = dict(data.get("measurements") or {})
    for key in ("weight", "pre_pregnancy_weight", "pregnant"):
        measurements.pop(key, None)
    measurements["measured_on"] = today.isoformat()
    renewed["measurements"] = measurements
    regimen = dict(data.get("regimen") or {})
    course = _course_renewed(regimen, today, authorization_start, authorization_end, product_name)
    if course is not None and response is not None:
        course["outcome"] = response.value
    if course is not None:
        renewed["prior_therapies"] = [*(data.get("prior_therapies") or []), course]
    for key in ("phase", "start_date"):
        regimen.pop(key, None)
    renewed["regimen"] = _renewed_regimen(regimen, definition)
    if authorization_end is not None and authorization_end >= today:
        renewed["regimen"]["start_date"] = (authorization_end + dt.timedelta(days=1)).isoformat()
    return formdata_for_case(renewed)


def _course_renewed(
    regimen: Mapping[str, Any],
    today: dt.date,
    authorization_start: dt.date | None,
    authorization_end: dt.date | None,
    product_name: str,
) -> dict[str, Any] | None:
    """The renewed case's immune globulin course as a prior treatment row: from the approved
    authorization's start (or the regimen's requested start), or None when that is unknown
    or still ahead (nothing was given yet)."""
    start = authorization_start
    if start is None:
        started = regimen.get("start_date")
        try:
            start = dt.date.fromisoformat(str(started)) if started else None
        except ValueError:
            start = None
    if start is None or start > today:
        return None
    dose = regimen.get("dose_g_per_kg")
    every = regimen.get("interval_weeks")
    dose_text = f"{dose} g/kg" if dose not in (None, "") else ""
    if dose_text and every not in (None, ""):
        dose_text += f" every {every} weeks"
    end = authorization_end if authorization_end is not None and authorization_end < today else None
    return {
        "agent": product_name or str(regimen.get("product_id") or "Immune globulin"),
        "therapy_class": "immune_globulin",
        "start": start.isoformat(),
        "end": end.isoformat() if end else None,
        "dose": dose_text,
        "outcome": TherapyOutcome.CURRENT_COURSE.value,
    }


def _renewed_regimen(regimen: dict[str, Any], definition: IndicationDefinition) -> dict[str, Any]:
    """The regimen of a renewal: the indication's continuation phase, filled as choosing it
    fills it, for the definition's continuation period (not the initial request's course).

    The phase keeps the route of the regimen renewed (IV stays IV); with no such phase, the
    regimen is copied as it was, to be checked by the person.
    """
    route = next(
        (d.route for d in definition.dosing if d.id == regimen.get("phase")),
        definition.dosing[0].route if definition.dosing else None,
    )
    phase = next(
        (
            d
            for d in definition.dosing
            if RequestType.CONTINUATION in d.applies_to and not d.loading and d.route == route
        ),
        None,
    )
    if phase is None:
        return regimen
    renewed = {**regimen, "phase": phase.id}
    for name, value in phase_values(phase).items():
        renewed[name.removeprefix("regimen-")] = value
    renewed.pop("loading", None)  # a loading course belongs to the start of treatment
    months = definition.authorization.continuation_months
    if months is not None and renewed.get("interval_weeks"):
        renewed.pop("courses_requested", None)
        renewed["months_requested"] = months
    return renewed


def form_pairs(form: Form) -> list[tuple[str, str]]:
    """The form's current values as the (name, value) pairs a browser would post.

    A draft stores these; building the form from them shows it again as it was,
    rows added or removed included.
    """
    pairs: list[tuple[str, str]] = []

    def emit(item: Field) -> None:
        if isinstance(item, BooleanField):
            if item.data:
                pairs.append((item.name, "y"))
        elif isinstance(item, SelectMultipleField):
            pairs.extend((item.name, str(value)) for value in item.data or ())
        else:
            value = item.data
            pairs.append((item.name, "" if value is None else str(value)))

    def walk(node: Form) -> None:
        for item in node:
            if isinstance(item, FormField):
                walk(item.form)
            elif isinstance(item, FieldList):
                for entry in item.entries:
                    if isinstance(entry, FormField):
                        walk(entry.form)
                    else:
                        emit(entry)
            else:
                emit(item)

    walk(form)
    return pairs


def apply_row_action(form: IntakeForm, action: str) -> bool:
    """Add or remove one row of a repeatable group; True when the action was one of those."""
    match = _ACTION.match(action or "")
    if not match:
        return False
    verb, name, index = match.group(1), match.group(2), match.group(3)
    group = form.field_lists().get(name)
    if group is None:
        return True  # a stale or forged button: re-show the form, change nothing
    if verb == "add":
        if group.max_entries and len(group.entries) >= group.max_entries:
            form.notices.append(f"At most {group.max_entries} rows here.")
        else:
            group.append_entry()
        return True
    if index is not None and int(index) < len(group.entries):
        group.entries.pop(int(index))
        while len(group.entries) < group.min_entries:
            group.append_entry()
        group._compact_indices()  # names 0..n-1 again, matching the buttons
    return True
