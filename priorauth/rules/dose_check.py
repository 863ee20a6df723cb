"""The dose a case asks for, checked against the indication's limits and the product's label.

The dosing weight and the grams come from the domain's formulas under the payer's
weight policy; this module says whether the regimen is within the indication's
dosing phase, where it goes beyond it, how many billing units the course is, and
which vials each infusion day opens.
"""

from __future__ import annotations

from decimal import Decimal

from priorauth.domain.case import Case
from priorauth.domain.catalog import Product, Route
from priorauth.domain.dosing import (
    Dose,
    MissingDosingInput,
    course_dose,
    dosing_weight,
    rounding_exemption,
)
from priorauth.domain.quantities import ceil_units, plain_number
from priorauth.domain.vials import MG_PER_G, plan_vials

from .assessment import DoseCheck, DoseFinding, InfusionDay
from .citations import cite
from .regimen_check import (
    SC_TOTAL_WEEKS,
    loading_findings,
    phase_for,
    range_finding,
    regimen_route,
    sc_findings,
)
from .schema import DosingLimit, IndicationDefinition, PayerProfile, Range


def infusion_days(dose: Dose, product: Product | None) -> tuple[InfusionDay, ...]:
    """The course split over its days; days with the same dose are grouped ("Days 1–4")."""
    groups: list[InfusionDay] = []
    for number, dose_g in enumerate(dose.day_doses_g, 1):
        if groups and groups[-1].dose_g == dose_g:
            groups[-1] = groups[-1].model_copy(update={"last_day": number})
            continue
        day = InfusionDay(first_day=number, last_day=number, dose_g=dose_g)
        if product is not None and product.vial_sizes_g:
            plan = plan_vials(dose_g, product)
            day = day.model_copy(
                update={
                    "vial_count": plan.vial_count,
                    "vials": plan.describe(),
                    "waste_g": plan.waste_g,
                }
            )
        groups.append(day)
    return tuple(groups)


def dose_per(case: Case, limit: DosingLimit) -> tuple[Decimal, Range, str]:
    """The dose as the phase states its range: g/kg per week (an SC phase) or per course."""
    regimen = case.regimen
    if limit.g_per_kg_per_week is not None and regimen.interval_weeks is not None:
        weekly = (regimen.dose_g_per_kg / regimen.interval_weeks).quantize(Decimal("0.001"))
        return weekly.normalize(), limit.g_per_kg_per_week, "per week"
    return regimen.dose_g_per_kg, limit.g_per_kg_per_course, "per course"


def dose_excess(case: Case, limit: DosingLimit) -> tuple[str, ...]:
    """Where the regimen goes beyond the phase's limits: dose, interval, daily dose."""
    regimen = case.regimen
    label = limit.label.lower()
    found = []
    value, allowed, per = dose_per(case, limit)
    if allowed.max is not None and value > allowed.max:
        found.append(
            f"{plain_number(value)} g/kg {per}, above the {label} dose of "
            f"{allowed.describe('g/kg')}"
        )
    interval = limit.interval_weeks
    given = regimen.interval_weeks
    if interval.min is not None and given is not None and given < interval.min:
        found.append(
            f"every {plain_number(given)} weeks, more often than the {label} "
            f"interval of {interval.describe('weeks')}"
        )
    daily = regimen.dose_g_per_kg / regimen.days_per_course
    cap = limit.max_g_per_kg_per_day
    if cap is not None and daily > cap:
        found.append(
            f"{plain_number(daily.quantize(Decimal('0.01')))} g/kg per infusion day, above "
            f"{plain_number(cap)} g/kg per day"
        )
    return tuple(found)


def _limit_findings(
    case: Case,
    dose: Dose,
    limit: DosingLimit,
    definition: IndicationDefinition,
    product: Product | None,
) -> list[DoseFinding]:
    regimen = case.regimen
    findings: list[DoseFinding] = []
    value, allowed, per = dose_per(case, limit)
    outside = range_finding(f"{plain_number(value)} g/kg {per}", value, allowed, limit.label)
    if outside is not None:
        findings.append(outside)
    if not limit.days_per_course.contains(Decimal(regimen.days_per_course)):
        findings.append(
            DoseFinding(
                blocking=False,
                message=f"{regimen.days_per_course} infusion days per course; the "
                f"usual range is {limit.days_per_course.describe('days')}.",
            )
        )
    given = regimen.interval_weeks
    # One course without an interval is outside no interval range.
    if given is not None and not limit.interval_weeks.contains(given):
        shorter = limit.interval_weeks.min is not None and given < limit.interval_weeks.min
        findings.append(
            DoseFinding(
                blocking=shorter,
                message=f"Every {plain_number(given)} weeks is outside "
                f"the interval of {limit.interval_weeks.describe('weeks')}"
                + ("; more frequent dosing needs a medical-exception request." if shorter else "."),
            )
        )
    caps = [(limit.max_g_per_kg_per_day, f"{definition.short_name or definition.name} dosing")]
    if product is not None and product.max_g_per_kg_per_day is not None:
        caps.append((product.max_g_per_kg_per_day, f"the {product.name} label"))
    for (cap, where), from_policy in zip(caps, (True, False), strict=False):
        if cap is not None and dose.g_per_kg_per_day > cap:
            findings.append(
                DoseFinding(
                    # The indication's limit is the payer's rule; a label's largest
                    # daily dose is a warning the letter must justify (Kawasaki
                    # disease is given as 2 g/kg in one infusion, off-label).
                    blocking=from_policy,
                    message=f"{plain_number(dose.g_per_kg_per_day)} g/kg per day exceeds "
                    f"{plain_number(cap)} g/kg per day ({where}); "
                    + (
                        "spread the course over more days."
                        if from_policy
                        else "the letter must justify the higher daily dose."
                    ),
                )
            )
    return findings


def check_dose(
    case: Case, definition: IndicationDefinition, payer: PayerProfile, product: Product | None
) -> DoseCheck:
    """The course dose on the payer's dosing weight, and what the limits say of it."""
    policy = payer.dosing_weight
    limit = phase_for(case, definition, product)
    route = regimen_route(case, definition, product)
    weight_unverified = payer.dosing_weight_unverified
    try:
        weight = dosing_weight(case.measurements, case.patient.sex, policy, definition.id)
    except MissingDosingInput as error:
        return DoseCheck(
            dose=None,
            weight_policy=policy.describe(),
            weight_source=payer.dosing_weight_source,
            findings=(DoseFinding(blocking=True, message=str(error)),),
            weight_unverified=weight_unverified,
            route=route,
        )
    exemption = rounding_exemption(
        policy,
        case.measurements,
        case.patient.sex,
        case.patient.age_years(case.regimen.start_date),
        definition.id,
    )
    switch = case.regimen.switch_from_iv
    dose = course_dose(
        weight,
        case.regimen,
        policy.rounding,
        exemption=exemption,
        vial_sizes_g=product.vial_sizes_g if product is not None else (),
        # A subcutaneous course is a share of a total over several weeks (Ontario).
        step_total_weeks=(switch.iv_interval_weeks if switch is not None else SC_TOTAL_WEEKS)
        if route is Route.SC
        else None,
    )
    billing_units = _units(dose.per_course_g, product)
    loading_units = _units(dose.loading.per_course_g, product) if dose.loading else None
    days = infusion_days(dose, product)
    if limit is None:
        return DoseCheck(
            dose=dose,
            weight_policy=policy.describe(),
            weight_source=payer.dosing_weight_source,
            findings=(
                DoseFinding(blocking=True, message="No dosing limits apply to this request type."),
            ),
            weight_unverified=weight_unverified,
            billing_units=billing_units,
            infusion_days=days,
            route=route,
            loading_billing_units=loading_units,
        )
    text = limit.describe_dose()
    if not limit.days_per_course.is_open():
        text += f" over {limit.days_per_course.describe('days')}"
    if not limit.interval_weeks.is_open():
        text += f", every {limit.interval_weeks.describe('weeks')}"
    dose_range = limit.g_per_kg_per_week or limit.g_per_kg_per_course
    if dose_range.is_open() and limit.days_per_course.is_open() and limit.interval_weeks.is_open():
        # A phase that bounds nothing (a condition outside the library, an exception's
        # "dose requested") has no limits to state: the letter claims none.
        text = ""
    findings = _limit_findings(case, dose, limit, definition, product)
    sc = None
    if route is Route.SC:
        sc, more = sc_findings(case, dose, limit, product, definition)
        findings += more
    loading_label, more = loading_findings(case, dose, definition, route)
    findings += more
    return DoseCheck(
        dose=dose,
        limit_label=limit.label,
        limit_text=text,
        weight_policy=policy.describe(),
        weight_source=payer.dosing_weight_source,
        findings=tuple(findings),
        unverified=limit.unverified or weight_unverified,
        limit_unverified=limit.unverified,
        weight_unverified=weight_unverified,
        limit_citations=cite(definition, limit.citations, payer),
        limit_note=limit.note,
        excess=dose_excess(case, limit),
        billing_units=billing_units,
        infusion_days=days,
        route=route,
        sc=sc,
        loading_limit_label=loading_label,
        loading_billing_units=loading_units,
    )


def _units(grams: Decimal, product: Product | None) -> int | None:
    if product is None:
        return None
    return ceil_units(grams * MG_PER_G, Decimal(product.billing_unit_mg))
