# mypy: disallow-subclassing-any=False
"""Typing slips the domain would accept: a start date in the year 3000, an old weight, a
payer name checked against another payer's rules.

Each is a check on what a person typed today, not a clinical or billing rule:
the start date must fall in a window around today (a slip otherwise: "3000"
for "2026"), an old weight is pointed out (the dose is computed on it) without
blocking, and a payer name that names a payer with its own rules must not be
checked against another profile by accident.
"""

from __future__ import annotations

import datetime as dt

from priorauth.rules.library import Library

from ..fields import add_error
from .building import IntakeForm

# The start date a request may ask for, around today.
START_MAX_MONTHS_AHEAD = 12
START_MAX_DAYS_BEFORE = 30
# When the weight is pointed out as old. Not a payer's rule: no payer rule in the
# reference notes states how recent the weight must be (Cigna's form asks for the
# patient's *current* weight, ivig-criteria.md [S12]); this is the app's prompt to
# weigh again, unverified as any payer's window.
WEIGHT_OLD_AFTER_DAYS = 90


def _months_ahead(today: dt.date, months: int) -> dt.date:
    year, month = divmod(today.month - 1 + months, 12)
    day = min(today.day, 28) if today.month == 2 else today.day
    try:
        return today.replace(year=today.year + year, month=month + 1, day=day)
    except ValueError:  # the 31st of a month of 30 days
        return today.replace(year=today.year + year, month=month + 1, day=30)


def start_date_problem(typed: str, today: dt.date) -> str:
    """What is wrong with a typed start date, or '' (a wrong format is the domain's to say)."""
    try:
        start = dt.date.fromisoformat(typed.strip())
    except ValueError:
        return ""
    latest = _months_ahead(today, START_MAX_MONTHS_AHEAD)
    earliest = today - dt.timedelta(days=START_MAX_DAYS_BEFORE)
    if start > latest:
        return (
            f"A start more than {START_MAX_MONTHS_AHEAD} months ahead ({start.isoformat()}): "
            f"check the year. Give a date from {earliest.isoformat()} to {latest.isoformat()}."
        )
    if start < earliest:
        return (
            f"A start more than {START_MAX_DAYS_BEFORE} days ago ({start.isoformat()}): "
            f"check the year. Give a date from {earliest.isoformat()} to {latest.isoformat()}."
        )
    return ""


def weight_age_notice(typed: str, today: dt.date) -> str:
    """A warning when the weight was measured long ago, or ''."""
    try:
        measured = dt.date.fromisoformat(typed.strip())
    except ValueError:
        return ""
    days = (today - measured).days
    if days <= WEIGHT_OLD_AFTER_DAYS:
        return ""
    return (
        f"The weight was measured {days} days ago ({measured.isoformat()}). The dose is "
        "computed on it and payers ask for the current weight: weigh the patient again if "
        "it may have changed."
    )


def payer_profile_problem(payer_name: str, profile_id: str, library: Library) -> str:
    """A payer name that names a payer with its own rules, checked against other rules."""
    typed = payer_name.strip().casefold()
    if not typed:
        return ""
    chosen = library.payers.get(profile_id)
    for profile in library.payers.values():
        if profile.id == profile_id or profile.id in ("reference", "commercial"):
            continue
        name = profile.name.split("(")[0].strip().casefold()
        if name in typed or typed == profile.id.casefold():
            return (
                f"{payer_name.strip()} has rules of its own: choose “{profile.name}” under "
                f"payer rules, or the payer from the directory (now: "
                f"{chosen.name if chosen else profile_id})."
            )
    return ""


def check(form: IntakeForm, library: Library, today: dt.date) -> None:
    """Put the slips on their fields (errors) and the old weight in the notices."""
    if "coverage" in form._fields:
        coverage = form.coverage.form
        problem = payer_profile_problem(
            coverage.payer_name.data or "", coverage.payer_profile.data or "", library
        )
        if problem:
            add_error(coverage.payer_profile, problem)
    if "regimen" in form._fields:
        start = form.regimen.form.start_date
        problem = start_date_problem(start.data or "", today)
        if problem:
            add_error(start, problem)
    if "measurements" in form._fields:
        notice = weight_age_notice(form.measurements.form.measured_on.data or "", today)
        if notice and notice not in form.notices:
            form.notices.append(notice)
