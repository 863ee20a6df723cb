"""The dose and its schedule in words, the same in every document.

The figures and the rule come from the assessment's dose (prescribed grams, the
rounded grams and the rounding note, the interval or none, the route, the
loading course, the subcutaneous findings); these functions only word them.
"""

from __future__ import annotations

from decimal import Decimal

from priorauth.domain.catalog import Route
from priorauth.domain.dosing import Dose
from priorauth.domain.quantities import plain_number
from priorauth.rules.assessment import DoseCheck

from .wording import plural

ROUTE_WORDS = {Route.IV: "intravenous", Route.SC: "subcutaneous"}


def grams(value: Decimal) -> str:
    """Grams as the rules gave them, without trailing zeros: 9.59, 168, 3.2."""
    return plain_number(value)


def schedule(interval_weeks: Decimal | None, route: Route = Route.IV) -> str:
    """How often the course is given: "every 4 weeks", "weekly", "one course"."""
    if interval_weeks is None:
        return "one course (not repeated)"
    if interval_weeks == 1:
        return "weekly"
    return f"every {plural(interval_weeks, 'week')}"


def prescribed_and_given(dose: Dose) -> str:
    """The prescribed dose, what is given, and the rule that made the difference (or none).

    The rule's source and why a dose was not rounded are for staff (the review sheet).
    """
    weight = dose.dosing_weight
    prescribed = (
        f"Prescribed: {plain_number(dose.dose_g_per_kg)} g/kg × "
        f"{plain_number(weight.weight_kg)} kg = {grams(dose.prescribed_shown_g)} g per course"
    )
    if dose.rounded:
        return f"{prescribed}; given as {grams(dose.per_course_g)} g ({dose.rounding_rule})."
    return f"{prescribed}, given as prescribed."


def course_sentence(dose: Dose, route: Route = Route.IV) -> str:
    """Grams per day and days, with the schedule: "28 g per day over 5 days, one course"."""
    return (
        f"{grams(dose.per_day_g)} g per day over {plural(dose.days_per_course, 'day')} "
        f"({plain_number(dose.g_per_kg_per_day)} g/kg per day), "
        f"{schedule(dose.interval_weeks, route)}"
    )


def loading_sentence(dose: Dose) -> str:
    """The loading course before the maintenance courses, or ""."""
    loading = dose.loading
    if loading is None:
        return ""
    return (
        f"Loading course first: {plain_number(loading.dose_g_per_kg)} g/kg = "
        f"{grams(loading.per_course_g)} g over {plural(loading.days_per_course, 'day')}, "
        "then the maintenance courses."
    )


def subcutaneous_lines(check: DoseCheck) -> tuple[str, ...]:
    """What a subcutaneous regimen's findings say: weekly dose, conversion, ramp-up, sites."""
    sc = check.sc
    if sc is None:
        return ()
    lines = []
    if sc.weekly_g is not None:
        lines.append(f"Subcutaneous: {grams(sc.weekly_g)} g per week.")
    if sc.conversion:
        lines.append(sc.conversion)
    if sc.ramp_up_note:
        lines.append(sc.ramp_up_note)
    if sc.sites is not None:
        sites = sc.sites
        lines.append(
            f"Each infusion day over {plural(sites.sites, 'site')}: "
            f"{plain_number(sites.ml_per_site_shown)} mL per site at "
            f"{plain_number(sites.ml_per_h_per_site)} mL/h per site, about "
            f"{sc.minutes} min."
        )
    return tuple(lines)
