"""Live readiness: what the engine says about the intake form as it stands, as plain values.

The same path as saving: the form's values → ``intake.read_case`` (the domain's
validation, the rules' problems) → ``evaluate``. When the values do not make a
Case yet, the answer is the list of what still needs filling in, each linking
to its field; when they do, it is every criterion's status, the verdict, and
the dose in grams and vials. Nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from priorauth.domain.case import Case
from priorauth.domain.quantities import plain_number
from priorauth.rules.assessment import STATUS_LABELS, CriterionResult, InfusionDay
from priorauth.rules.engine import evaluate
from priorauth.rules.library import Library

from . import intake, steps
from .safety_view import FlagView, dose_sentences, flag_views

MAX_FIX_LINES = 12


@dataclass(frozen=True)
class Line:
    """One criterion on the checklist."""

    title: str
    status: str
    status_label: str
    required: bool
    children: tuple[Line, ...] = ()


@dataclass(frozen=True)
class FixLine:
    """Something to fill in or correct before the criteria can be checked."""

    label: str
    message: str
    href: str
    # On a guided step: belongs to a later (or earlier) step than the one shown.
    elsewhere: bool = False


@dataclass(frozen=True)
class Readiness:
    """The checklist's values; ``state`` is a verdict, "incomplete" or "no_indication"."""

    state: str
    summary: str
    verdict_label: str = ""
    verdict_reasons: tuple[str, ...] = ()
    criteria: tuple[Line, ...] = ()
    met: int = 0
    required: int = 0
    dose_lines: tuple[str, ...] = ()
    to_fix: tuple[FixLine, ...] = ()
    more_to_fix: int = 0
    dose_findings: tuple[str, ...] = ()
    # Every safety flag, with what it means for the product, the rate or the site.
    safety: tuple[FlagView, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _line(result: CriterionResult) -> Line:
    return Line(
        title=result.title,
        status=result.status.value,
        status_label=STATUS_LABELS[result.status],
        required=result.required,
        children=tuple(_line(child) for child in result.children),
    )


def dose_lines(days: tuple[InfusionDay, ...]) -> tuple[str, ...]:
    """The course's infusion days as the engine planned them, and the vials each opens."""
    lines = []
    for day in days:
        first, last = day.first_day, day.last_day
        days_text = f"Day {first}" if first == last else f"Days {first}–{last}"
        text = f"{days_text}: {plain_number(day.dose_g)} g"
        if day.vial_count:
            vials = "vial" if day.vial_count == 1 else "vials"
            text += f", {day.vial_count} {vials} ({day.vials})"
            if day.waste_g > 0:
                text += f", {plain_number(day.waste_g)} g left over"
        lines.append(text)
    return tuple(lines)


def summarize(
    form: intake.IntakeForm,
    library: Library,
    today: dt.date,
    link: Callable[[str], str],
    first_step: str = "",
) -> Readiness:
    """Check the form's values as saving would, and say how ready the request is.

    ``link`` turns a field's id into the URL of the place it is shown; ``first_step``
    (a guided step's key) lists what that step can fix before the rest.
    """
    case = intake.read_case(form, library, today)
    return summarize_read(form, case, library, today, link, first_step)


def summarize_read(
    form: intake.IntakeForm,
    case: Case | None,
    library: Library,
    today: dt.date,
    link: Callable[[str], str],
    first_step: str = "",
) -> Readiness:
    """``summarize`` for a form ``intake.read_case`` has already read (into ``case``)."""
    if case is None:
        errors = intake.error_summary(form)
        if first_step:  # what this step can fix first, then the rest in page order
            errors.sort(key=lambda e: not e.anchor or steps.step_of(e.anchor).key != first_step)
        lines = tuple(
            FixLine(
                e.label or "The case",
                e.message,
                link(e.anchor) if e.anchor else "",
                elsewhere=bool(first_step)
                and (not e.anchor or steps.step_of(e.anchor).key != first_step),
            )
            for e in errors[:MAX_FIX_LINES]
        )
        count = len(errors)
        return Readiness(
            state="incomplete",
            summary=(
                f"Not checked yet: {count} thing{'s' if count != 1 else ''} to fill in or "
                "correct before the criteria can be checked."
            ),
            to_fix=lines,
            more_to_fix=max(0, count - MAX_FIX_LINES),
        )
    result = evaluate(case, library, today)
    required = [c for c in result.criteria if c.required]
    met = sum(1 for c in required if c.status.value == "met")
    dose = result.dose.dose
    dose_text: tuple[str, ...] = ()
    if dose is not None:
        weight = dose.dosing_weight
        dose_text = (
            f"{plain_number(dose.per_course_g)} g per course: "
            f"{plain_number(dose.dose_g_per_kg)} g/kg × "
            f"{plain_number(weight.weight_kg)} kg dosing weight",
            *dose_sentences(result),
            *dose_lines(result.dose.infusion_days),
        )
    return Readiness(
        state=result.verdict.value,
        summary=(
            f"{result.verdict_label}: {met} of {len(required)} required criteria met"
            + (f"; dose {plain_number(dose.per_course_g)} g per course." if dose else ".")
        ),
        verdict_label=result.verdict_label,
        verdict_reasons=result.verdict_reasons,
        criteria=tuple(_line(c) for c in result.criteria),
        met=met,
        required=len(required),
        dose_lines=dose_text,
        dose_findings=tuple(f.message for f in result.dose.findings),
        safety=flag_views(result),
    )


NO_INDICATION = Readiness(
    state="no_indication",
    summary="Choose the indication next: its criteria are checked as you answer.",
)
