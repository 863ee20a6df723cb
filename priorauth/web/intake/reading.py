# mypy: disallow-subclassing-any=False
"""Read the intake form back into a Case, each domain error on the field it is about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from wtforms import Field, FieldList, Form, FormField

from priorauth.domain.case import (
    Case,
    Coverage,
    HeightUnit,
    Patient,
    Prescriber,
    Sex,
    parse_answer,
)
from priorauth.domain.facts import FACTS, FactKind
from priorauth.domain.identifiers import normalise_icd10
from priorauth.domain.quantities import feet_inches_to_in
from priorauth.rules.engine import case_problems
from priorauth.rules.library import Library

from ..fields import (
    DATE_MESSAGE,
    NUMBER_MESSAGE,
    ErrorLink,
    add_error,
    error_links,
    friendly_message,
    message_for,
    sentence,
    split_path,
)
from ..fields import has_errors as _form_has_errors
from . import sanity
from .building import MAX_CODES, IntakeForm
from .safety import read_never_tried, read_safety
from .sections import FEET_AND_INCHES, MAX_FEET, PLAN_TERMS_FIELDS

FLAG_VALUES = {"yes": True, "no": False}
_PATIENT = ("first_name", "last_name", "date_of_birth", "sex")
_COVERAGE = ("payer_name", "payer_profile", "plan_type", "member_id", "group_number")
_PRESCRIBER = (
    "name",
    "credentials",
    "npi",
    "specialty",
    "phone",
    "fax",
    "practice_name",
    "practice_address",
)
_MEASUREMENTS = (
    "weight_unit",
    "weight",
    "height_unit",
    "height",
    "measured_on",
    "pre_pregnancy_weight",
)
_THERAPY = ("agent", "therapy_class", "start", "end", "dose", "outcome", "note")
_REGIMEN = (
    "product_id",
    "phase",
    "dose_g_per_kg",
    "days_per_course",
    "interval_weeks",
    "courses_requested",
    "months_requested",
    "start_date",
    "premedication",
    "tolerated_rate_mg_per_kg_per_min",
)
# Parts of the regimen given only when they apply: a loading course, a switch from IV.
_REGIMEN_PARTS = {
    "loading": ("dose_g_per_kg", "days"),
    "switch_from_iv": ("iv_dose_g", "iv_interval_weeks"),
}


def _value(item: Field) -> Any:
    """A field's value for the domain: None when blank or when its shape was wrong."""
    if item.errors:
        return None
    data = item.data
    if isinstance(data, str):
        data = data.strip()
        return data or None
    return data


def _section(form: Form, names: Sequence[str]) -> dict[str, Any]:
    return {name: value for name in names if (value := _value(form[name])) is not None}


def _coverage(form: Form, reading: _Reading | None = None) -> dict[str, Any]:
    """The coverage section, with the plan terms when any of them was given."""
    coverage = _section(form, _COVERAGE)
    terms = _section(form["plan_terms"].form, PLAN_TERMS_FIELDS)
    if terms:
        coverage["plan_terms"] = terms
        if reading is not None:
            # A rule across the terms (coinsurance or copay) goes beside the coinsurance.
            reading.redirects[("coverage", "plan_terms")] = form["plan_terms"].form[
                "coinsurance_percent"
            ]
    return coverage


@dataclass
class _Reading:
    """The raw case data read from the form, with where each list item came from."""

    data: dict[str, Any] = field(default_factory=dict)
    therapy_rows: list[int] = field(default_factory=list)
    never_tried_rows: list[int] = field(default_factory=list)
    # Where a domain location's message goes instead of its own field (the
    # height typed in feet and inches has no single field).
    redirects: dict[tuple[str | int, ...], Field] = field(default_factory=dict)


def _check_answer(name: str, value: Any, subform: Form | None, target: Field) -> bool:
    """Check one answer with the domain's parser; put any error on its field."""
    try:
        parse_answer(name, value)
    except ValidationError as error:
        for detail in error.errors():
            where = next((str(s) for s in detail["loc"] if isinstance(s, str)), "value")
            place = subform[where] if subform is not None and where in subform else target
            add_error(place, friendly_message(detail))
        return False
    except ArithmeticError:  # decimal.InvalidOperation: not a number at all
        add_error(target, NUMBER_MESSAGE)
        return False
    except ValueError as error:
        kind = FACTS[name].kind
        add_error(target, DATE_MESSAGE if kind is FactKind.DATE else sentence(str(error)))
        return False
    return True


def _read_answers(form: IntakeForm) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    sub = form.answers.form
    for question in form.questions:
        item = sub[question.name]
        kind = FACTS[question.name].kind
        if kind is FactKind.LAB:
            rows = []
            for entry in item.entries:
                row = _section(entry.form, ("value", "date"))
                if row and _check_answer(question.name, [row], entry.form, entry.form["value"]):
                    rows.append(row)
            if rows:
                answers[question.name] = rows
        elif kind is FactKind.SCORE:
            score = _section(item.form, ("value", "date"))
            if score and _check_answer(question.name, score, item.form, item.form["value"]):
                answers[question.name] = score
        elif kind is FactKind.FLAG:
            flag = FLAG_VALUES.get(_value(item) or "")
            if flag is not None:
                answers[question.name] = flag
        else:
            value = _value(item)
            if value is not None and _check_answer(question.name, value, None, item):
                answers[question.name] = value
    return answers


def _typed_decimal(item: Field, message: str) -> Decimal | bool | None:
    """The number typed in a field; None when blank, False (and an error) when not a number."""
    typed = _value(item)
    if item.errors:
        return False
    if typed is None:
        return None
    try:
        number = Decimal(str(typed).replace(" ", ""))
    except ArithmeticError:
        add_error(item, message)
        return False
    if not number.is_finite():
        add_error(item, message)
        return False
    return number


def feet_and_inches(sub: Form) -> Decimal | None:
    """The height in inches from the feet and inches fields; None when blank or wrong.

    A wrong value gets its message on its own field; the total keeps the
    precision typed (5 ft 7.5 in is 67.5 in).
    """
    feet = _typed_decimal(sub["height_feet"], "Enter the feet as a whole number, for example 5.")
    inches = _typed_decimal(
        sub["height_inches"], "Enter the inches as a number, for example 7 or 7.5."
    )
    if feet is False or inches is False or (feet is None and inches is None):
        return None
    assert not isinstance(feet, bool) and not isinstance(inches, bool)
    if feet is not None and (feet != feet.to_integral_value() or not 0 <= feet <= MAX_FEET):
        add_error(sub["height_feet"], f"Enter whole feet from 0 to {MAX_FEET}, for example 5.")
        return None
    if inches is not None and not 0 <= inches < 12:
        add_error(
            sub["height_inches"],
            "Inches go from 0 to 11.9 here; for a height in inches only, choose the unit in.",
        )
        return None
    return feet_inches_to_in(feet, inches)


def _read(form: IntakeForm) -> _Reading:
    reading = _Reading()
    sub = form.measurements.form
    measurements = _section(sub, _MEASUREMENTS)
    measurements["pregnant"] = bool(sub.pregnant.data)
    if _value(form.patient.form.sex) == Sex.MALE.value:
        # The pregnancy fields are shown for female patients only; what a hidden
        # field still holds does not count.
        measurements["pregnant"] = False
        measurements.pop("pre_pregnancy_weight", None)
    if measurements.get("height_unit") == FEET_AND_INCHES:
        # The domain knows inches: convert before the Case is built.
        measurements["height_unit"] = HeightUnit.IN.value
        measurements.pop("height", None)
        total = feet_and_inches(sub)
        if total is not None:
            measurements["height"] = total
        only_inches = not (sub.height_feet.data or "").strip() and bool(
            (sub.height_inches.data or "").strip()
        )
        reading.redirects[("measurements", "height")] = (
            sub.height_inches if only_inches else sub.height_feet
        )
    therapies = []
    for position, entry in enumerate(form.prior_therapies.entries):
        therapy = _section(entry.form, _THERAPY)
        if therapy:  # an empty row is not a therapy
            therapies.append(therapy)
            reading.therapy_rows.append(position)
    never_tried, reading.never_tried_rows = read_never_tried(form.never_tried.entries)
    regimen = _section(form.regimen.form, _REGIMEN)
    for part, names in _REGIMEN_PARTS.items():
        given = _section(form.regimen.form[part].form, names)
        if given:
            regimen[part] = given
    codes = [c.strip() for c in (form.icd10_codes.data or []) if c and c.strip()]
    if "icd10_code_typed" in form:
        typed = _value(form["icd10_code_typed"])
        if typed:
            code = normalise_icd10(str(typed))
            if code not in codes:
                codes.append(code)
            # The code's messages go beside the box it was typed in.
            reading.redirects[("icd10_codes", codes.index(code))] = form["icd10_code_typed"]
    data = {
        "patient": _section(form.patient.form, _PATIENT),
        "coverage": _coverage(form.coverage.form, reading),
        "prescriber": _section(form.prescriber.form, _PRESCRIBER),
        "site_of_care": _value(form.site_of_care),
        "request_type": form.built_for.value,
        "indication_id": form.definition.id,
        "icd10_codes": codes[:MAX_CODES],
        "measurements": measurements,
        "answers": _read_answers(form),
        "prior_therapies": therapies,
        "never_tried": never_tried,
        "safety": read_safety(form.safety.form),
        "regimen": regimen,
        "clinical_summary": _value(form.clinical_summary) or "",
    }
    reading.data = {key: value for key, value in data.items() if value is not None}
    return reading


def field_at(
    form: IntakeForm,
    path: Sequence[str | int],
    therapy_rows: Sequence[int],
    never_tried_rows: Sequence[int] = (),
) -> Field | None:
    """The form field a domain location names, e.g. ('prior_therapies', 1, 'end').

    A list item's index counts the rows that said something; ``*_rows`` map it
    to the row on the page (an empty row between two is not a therapy).
    """
    steps = list(path)
    rows = {"prior_therapies": therapy_rows, "never_tried": never_tried_rows}
    if len(steps) > 1 and steps[0] in rows and isinstance(steps[1], int):
        positions = rows[str(steps[0])]
        if steps[1] >= len(positions):
            return None
        steps[1] = positions[steps[1]]
    node: Any = form
    for step in steps:
        if isinstance(node, FormField):
            node = node.form
        if isinstance(node, FieldList):
            if not isinstance(step, int) or not 0 <= step < len(node.entries):
                return None
            node = node.entries[step]
        elif isinstance(node, Form):
            if not isinstance(step, str) or step not in node:
                return None
            node = node[step]
        else:
            break  # a leaf: a deeper location (a list item) belongs to it
    # An answer as a whole (a lab's rows, a score's parts): point at its first value.
    if isinstance(node, FieldList):
        node = node.entries[0] if node.entries else None
    if isinstance(node, FormField):
        node = node.form._fields.get("value")
    if node is None or isinstance(node, Form):
        return None
    return node


def _target(form: IntakeForm, path: Sequence[str | int], reading: _Reading) -> Field | None:
    return reading.redirects.get(tuple(path)) or field_at(
        form, path, reading.therapy_rows, reading.never_tried_rows
    )


def _place(form: IntakeForm, target: Field | None, message: str) -> None:
    if target is None:
        if message not in form.general_errors:
            form.general_errors.append(message)
    else:
        add_error(target, message)


def read_case(
    form: IntakeForm, library: Library, today: dt.date, *, new_request: bool = False
) -> Case | None:
    """Validate the form into a Case; on any error, attach it to its field and return None.

    ``new_request``: a request being made today, so its dates are checked against
    today too (``sanity``); a stored case keeps the dates it was made with.
    """
    shape_ok = form.validate()
    reading = _read(form)
    case: Case | None = None
    try:
        case = Case.model_validate(reading.data, context={"today": today})
    except ValidationError as error:
        for detail in error.errors():
            target = _target(form, detail["loc"], reading)
            _place(form, target, message_for(detail, target))
    if case is not None:
        for problem in case_problems(case, library):
            target = _target(form, split_path(problem.field), reading)
            _place(form, target, sentence(problem.message))
    if new_request:
        sanity.check(form, library, today)
    if not shape_ok or case is None or has_errors(form):
        return None
    return case


def read_patient_step(form: IntakeForm, today: dt.date, library: Library | None = None) -> bool:
    """Check the first step with the domain's own models; errors go beside their fields."""
    shape_ok = form.validate()
    reading = _Reading()
    if library is not None:
        sanity.check(form, library, today)
    for section, names, model in (
        ("patient", _PATIENT, Patient),
        ("coverage", _COVERAGE, Coverage),
        ("prescriber", _PRESCRIBER, Prescriber),
    ):
        sub = form[section].form
        data = _coverage(sub, reading) if section == "coverage" else _section(sub, names)
        try:
            model.model_validate(data, context={"today": today})
        except ValidationError as error:
            for detail in error.errors():
                target = _target(form, (section, *detail["loc"]), reading)
                _place(form, target, message_for(detail, target))
    return shape_ok and not has_errors(form)


def has_errors(form: IntakeForm) -> bool:
    return _form_has_errors(form, form.general_errors)


def error_summary(form: IntakeForm) -> list[ErrorLink]:
    """Every error of the form in page order, each linking to its field."""
    return error_links(form, form.general_errors)
