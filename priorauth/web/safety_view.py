"""The safety flags and the dose's rounding as plain values, for the pages that show them.

The readiness panel, the case page and the physician's signing page all show
every safety flag of the case with what it means, and the dose as prescribed,
as given and by which rule. The findings are the assessment's; this module only
turns them into what a template lays out.
"""

from __future__ import annotations

from dataclasses import dataclass

from priorauth.documents.dose_words import (
    course_sentence,
    loading_sentence,
    prescribed_and_given,
    subcutaneous_lines,
)
from priorauth.rules.assessment import Assessment

# Most serious first: a contraindication before a caution before a note.
_ORDER = {"contraindication": 0, "caution": 1, "info": 2}


@dataclass(frozen=True)
class FlagView:
    """One safety flag: how serious, what it is, what it means, where it comes from."""

    id: str
    severity: str
    severity_label: str
    title: str
    message: str
    source: str
    unverified: bool
    alternatives: tuple[str, ...] = ()


def flag_views(assessment: Assessment) -> tuple[FlagView, ...]:
    """Every safety flag of the assessment, most serious first."""
    safety = assessment.safety
    views = [
        FlagView(
            id=flag.id,
            severity=flag.severity.value,
            severity_label=flag.severity_label,
            title=flag.title,
            message=flag.message,
            source=flag.source,
            unverified=flag.unverified,
            alternatives=tuple(safety.alternatives.get(flag.id, ())),
        )
        for flag in safety.flags
    ]
    views.sort(key=lambda view: _ORDER.get(view.severity, 3))
    return tuple(views)


def dose_sentences(assessment: Assessment) -> tuple[str, ...]:
    """The dose as prescribed and as given with its rule, the schedule, loading and SC details."""
    check = assessment.dose
    dose = check.dose
    if dose is None:
        return ()
    lines = [prescribed_and_given(dose), f"Given as {course_sentence(dose, check.route)}."]
    loading = loading_sentence(dose)
    if loading:
        lines.append(loading)
    lines += subcutaneous_lines(check)
    if check.sc is not None and check.sc.quantity_limit:
        lines.append(f"Payer SCIG quantity limit: {check.sc.quantity_limit}.")
    return tuple(lines)
