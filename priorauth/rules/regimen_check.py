"""The regimen's route and schedule: which phase applies, SC courses, loading courses.

The route comes from the dosing phase the request names, or else from the
product: a subcutaneous product is checked against the indication's SC phase,
and an SC product asked for an IV phase (a 2 g/kg CIDP induction) is an error on
the product field, decided here. A subcutaneous regimen is a course of one or
two weeks (HyQvia: up to four) given over one to seven infusion days; its dose
is compared per week, the label's conversion from the IV regimen is worked out,
HyQvia's ramp-up is laid out, the day is spread over the label's sites, and the
payer's SCIG quantity limits (policy PH-90059) are checked.
"""

from __future__ import annotations

from decimal import Decimal

from priorauth.domain.case import Case, RequestType
from priorauth.domain.catalog import Product, Route
from priorauth.domain.dosing import Dose
from priorauth.domain.infusion import plan_infusion
from priorauth.domain.quantities import ceil_units, plain_number, round_dose_g, round_percent
from priorauth.domain.regimen import MAX_SC_DAYS_PER_COURSE
from priorauth.domain.subcutaneous import (
    describe_limit,
    per_28_days,
    ramp_up_doses,
    weekly_from_iv,
)
from priorauth.domain.vials import MG_PER_G

from .assessment import DoseFinding, Problem, ScFindings
from .schema import DosingLimit, IndicationDefinition, Range

ROUTE_WORDS = {Route.IV: "intravenous", Route.SC: "subcutaneous"}
# Ontario gives SCIG as a rounded total ÷ the weeks [S18]; IVIG in Ontario is every
# 4 weeks, so a subcutaneous total is taken over 4 weeks unless the case switches
# from an IV interval of its own.
SC_TOTAL_WEEKS = Decimal(4)
# How far a requested SC dose may stray from the label's conversion before staff
# are asked to check it (no source sets this; it is a prompt, not a rule).
CONVERSION_PROMPT_PERCENT = Decimal(10)


def phase_for(
    case: Case, definition: IndicationDefinition, product: Product | None
) -> DosingLimit | None:
    """The dosing phase the regimen follows: the one named, or the usual one for its route."""
    route = product.route if product is not None else None
    return definition.dosing_for(case.request_type, case.regimen.phase, route)


def regimen_route(case: Case, definition: IndicationDefinition, product: Product | None) -> Route:
    limit = phase_for(case, definition, product)
    if limit is not None:
        return limit.route
    return product.route if product is not None else Route.IV


def route_problem(
    case: Case, definition: IndicationDefinition, product: Product | None
) -> Problem | None:
    """An SC product for an IV phase, or an IV-only product for an SC phase."""
    limit = phase_for(case, definition, product)
    if product is None or limit is None or product.given_by(limit.route, definition.id):
        return None
    phase_words = f"the {limit.label.lower()} phase is {ROUTE_WORDS[limit.route]}"
    if product.route is Route.SC:
        others = [
            d.label.lower()
            for d in definition.dosing
            if d.route is Route.SC and case.request_type in d.applies_to
        ]
        instead = (
            f"choose an intravenous product, or the {others[0]} phase"
            if others
            else "choose an intravenous product"
        )
        message = f"{product.name} is given under the skin (subcutaneous), but {phase_words}: "
    else:
        instead = "choose a subcutaneous product, or an intravenous phase"
        message = f"{product.name} is intravenous for this indication, but {phase_words}: "
    return Problem(field="regimen.product_id", message=message + instead + ".")


def _pct(value: Decimal, of: Decimal) -> Decimal:
    return round_percent(abs(value - of) / of * 100)


def _conversion(
    case: Case, dose: Dose, product: Product, definition: IndicationDefinition
) -> tuple[ScFindings, list[DoseFinding]]:
    switch = case.regimen.switch_from_iv
    weekly = dose.per_week_g
    if switch is None or weekly is None:
        return ScFindings(), []
    conversion = product.conversion_for(definition.id)
    if conversion is None:
        return ScFindings(
            conversion=f"The reference notes give no IV-to-SC factor for {product.name} in this "
            "indication; take the starting dose from the label (unverified).",
            conversion_unverified=True,
        ), []
    converted = weekly_from_iv(switch.iv_dose_g, switch.iv_interval_weeks, conversion.factor)
    text = (
        f"Switch from IV: {plain_number(switch.iv_dose_g)} g every "
        f"{plain_number(switch.iv_interval_weeks)} weeks × {plain_number(conversion.factor)} ÷ "
        f"{plain_number(switch.iv_interval_weeks)} = {plain_number(round_dose_g(converted))} g "
        "per week (the label's conversion)."
    )
    findings = []
    off = _pct(weekly, converted)
    if off > CONVERSION_PROMPT_PERCENT:
        findings.append(
            DoseFinding(
                blocking=False,
                message=f"{plain_number(round_dose_g(weekly))} g per week is {off}% from the "
                f"label's conversion of the IV dose ({plain_number(round_dose_g(converted))} g "
                "per week); check the prescribed dose.",
            )
        )
    return ScFindings(
        conversion=text,
        conversion_weekly_g=converted,
        conversion_source=conversion.source,
        conversion_unverified=conversion.unverified,
    ), findings


def _ramp_up(case: Case, dose: Dose, product: Product) -> dict[str, object]:
    ramp = product.ramp_up
    interval = dose.interval_weeks
    if ramp is None or case.request_type is not RequestType.INITIAL or interval is None:
        return {}
    if interval != ramp.interval_weeks:
        return {
            "ramp_up_note": f"{product.name} starts with a ramp-up; the notes give it for a "
            f"{plain_number(ramp.interval_weeks)}-week target only: take the schedule for every "
            f"{plain_number(interval)} weeks from the label (unverified).",
            "ramp_up_source": ramp.source,
        }
    doses = ramp_up_doses(dose.per_course_g, ramp)
    return {
        "ramp_up": doses,
        "ramp_up_note": f"{product.name} starts with the label's ramp-up to the "
        f"{plain_number(round_dose_g(dose.per_course_g))} g dose: "
        + ", ".join(f"week {r.week} {plain_number(round_dose_g(r.dose_g))} g" for r in doses)
        + ".",
        "ramp_up_source": ramp.source,
    }


def _quantity_limit(
    dose: Dose, product: Product, definition: IndicationDefinition
) -> tuple[dict[str, object], list[DoseFinding]]:
    limit = product.quantity_limit(definition.id)
    interval = dose.interval_weeks
    if limit is None or interval is None:
        return {}, []
    weekly = dose.per_course_g / interval
    units = ceil_units(dose.per_course_g * MG_PER_G, Decimal(product.billing_unit_mg))
    units_28 = per_28_days(Decimal(units), interval)
    over = []
    if limit.g_per_week is not None and weekly > limit.g_per_week:
        over.append(
            f"{plain_number(round_dose_g(weekly))} g per week (limit "
            f"{plain_number(limit.g_per_week)} g)"
        )
    if limit.units_per_28_days is not None and units_28 > limit.units_per_28_days:
        over.append(
            f"{plain_number(units_28.quantize(Decimal(1)))} units per 28 days (limit "
            f"{limit.units_per_28_days})"
        )
    found = {
        "quantity_limit": f"{product.name}: {describe_limit(limit)}",
        "quantity_limit_source": limit.source,
        "quantity_limit_exceeded": bool(over),
    }
    findings = (
        [
            DoseFinding(
                blocking=False,
                message=f"{product.name} at {' and '.join(over)} is above the payer SCIG quantity "
                f"limit ({limit.source}); a higher quantity needs the payer's exception.",
            )
        ]
        if over
        else []
    )
    return found, findings


def _sites(
    case: Case, dose: Dose, product: Product, definition: IndicationDefinition
) -> dict[str, object]:
    plan = plan_infusion(
        product,
        definition.id,
        dose.dosing_weight.weight_kg,
        dose.per_day_g,
        route=Route.SC,
        premedication=case.regimen.premedication,
    )
    rule = product.sc_sites
    return {
        "sites": plan.sites,
        "minutes": plan.total_minutes_rounded,
        "sites_source": rule.source if rule is not None else "",
        "sites_unverified": plan.unverified,
    }


def sc_findings(
    case: Case,
    dose: Dose,
    limit: DosingLimit,
    product: Product | None,
    definition: IndicationDefinition,
) -> tuple[ScFindings, list[DoseFinding]]:
    """What a subcutaneous regimen's schedule, conversion, sites and limits say."""
    regimen = case.regimen
    findings: list[DoseFinding] = []
    if regimen.days_per_course > MAX_SC_DAYS_PER_COURSE:
        findings.append(
            DoseFinding(
                blocking=True,
                message=f"{regimen.days_per_course} infusion days: a subcutaneous course is given "
                f"over 1–{MAX_SC_DAYS_PER_COURSE} days (weekly, every two weeks, or daily).",
            )
        )
    interval = regimen.interval_weeks
    if interval is None:
        findings.append(
            DoseFinding(
                blocking=True,
                message="A subcutaneous regimen repeats: give the weeks between courses "
                "(1 for weekly, 2 for every two weeks).",
            )
        )
    elif product is not None and interval not in product.sc_intervals_weeks:
        allowed = ", ".join(plain_number(w) for w in product.sc_intervals_weeks)
        findings.append(
            DoseFinding(
                blocking=True,
                message=f"Every {plain_number(interval)} weeks is not a subcutaneous schedule for "
                f"{product.name}: a course spans {allowed} week(s).",
            )
        )
    if product is None:
        return ScFindings(weekly_g=dose.per_week_g), findings
    found, more = _conversion(case, dose, product, definition)
    findings += more
    limits, more = _quantity_limit(dose, product, definition)
    findings += more
    update: dict[str, object] = {"weekly_g": dose.per_week_g}
    update |= _ramp_up(case, dose, product)
    update |= limits
    update |= _sites(case, dose, product, definition)
    return found.model_copy(update=update), findings


def range_finding(what: str, value: Decimal, allowed: Range, label: str) -> DoseFinding | None:
    """A dose outside a phase's range: above it needs an exception and blocks, below it warns."""
    if allowed.contains(value):
        return None
    above = allowed.max is not None and value > allowed.max
    return DoseFinding(
        blocking=above,
        message=f"{what} is {'above' if above else 'below'} the {label.lower()} range of "
        f"{allowed.describe('g/kg')}"
        + ("; this needs a medical-exception request." if above else "."),
    )


def loading_findings(
    case: Case, dose: Dose, definition: IndicationDefinition, route: Route
) -> tuple[str, list[DoseFinding]]:
    """The loading course against the indication's loading phase: its label and what it says."""
    loading = case.regimen.loading
    if loading is None or dose.loading is None:
        return "", []
    limit = definition.loading_phase(route)
    if limit is None:
        return "", [
            DoseFinding(
                blocking=False,
                message=f"{definition.short_name or definition.name} has no loading phase in "
                "its definition: the loading course is not checked against a limit.",
            )
        ]
    findings = []
    outside = range_finding(
        f"Loading course of {plain_number(loading.dose_g_per_kg)} g/kg",
        loading.dose_g_per_kg,
        limit.g_per_kg_per_course,
        limit.label,
    )
    if outside is not None:
        findings.append(outside)
    if not limit.days_per_course.contains(Decimal(loading.days)):
        findings.append(
            DoseFinding(
                blocking=False,
                message=f"Loading course over {loading.days} days; the {limit.label.lower()} "
                f"phase gives {limit.days_per_course.describe('days')}.",
            )
        )
    daily = loading.dose_g_per_kg / loading.days
    if limit.max_g_per_kg_per_day is not None and daily > limit.max_g_per_kg_per_day:
        findings.append(
            DoseFinding(
                blocking=True,
                message=f"Loading course: {plain_number(daily.quantize(Decimal('0.01')))} g/kg "
                f"per day exceeds {plain_number(limit.max_g_per_kg_per_day)} g/kg per day; "
                "spread it over more days.",
            )
        )
    return limit.label, findings
