"""The cost summary: each infusion day, a course, the authorization period and a year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field

from ..case import PlanType, SiteOfCare
from ..catalog import Frozen, Product, RiskKind, Route
from ..dates import add_months
from ..dosing import Dose
from ..infusion import InfusionPlan, plan_infusion
from ..quantities import ceil_units, plain_number, round_money, split_dose_g
from ..vials import NO_ROUNDING, VialPlan, VialRounding, plan_vials
from .codes import LineKind, administration_codes
from .lines import CostLine, drug_cost_lines, merge_lines, service_cost_line, sum_amounts
from .prices import PriceTable
from .share import OutOfPocket, PatientPlan, add_shares, shares_in_order


def courses_between(start: dt.date, months: int, interval_weeks: Decimal | None) -> int:
    """Courses that start within some months from the first course, one every interval.

    Without an interval the course is given once.
    """
    if interval_weeks is None:
        return 1
    days = Decimal((add_months(start, months) - start).days)
    return ceil_units(days, interval_weeks * 7)


class DayCost(Frozen):
    day: int
    vials: VialPlan
    infusion: InfusionPlan
    lines: tuple[CostLine, ...]
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal:
        return sum_amounts(self.lines)

    @property
    def infusion_minutes(self) -> int | None:
        return self.infusion.total_minutes_rounded


class Horizon(Frozen):
    label: str
    months: int | None
    courses: int
    infusions: int
    total: Decimal
    out_of_pocket: OutOfPocket | None = None


class CostSummary(Frozen):
    product: Product
    indication_id: str
    site: SiteOfCare
    plan_type: PlanType
    price_table: PriceTable | None
    dose: Dose
    days: tuple[DayCost, ...]
    course_lines: tuple[CostLine, ...]
    per_course: Horizon
    per_period: Horizon
    per_year: Horizon
    patient_plan: PatientPlan | None
    missing_prices: tuple[str, ...]
    notes: tuple[str, ...]
    loading_days: tuple[DayCost, ...] = ()
    # The patient's share of each infusion day of the year, in order (with a plan).
    infusion_shares: tuple[OutOfPocket, ...] = ()

    @property
    def inpatient(self) -> bool:
        """Priced as an inpatient stay: the drug is not priced per code."""
        return self.site is SiteOfCare.INPATIENT

    @property
    def illustrative(self) -> bool:
        return any(line.illustrative for line in self.course_lines) or bool(
            self.price_table and self.price_table.illustrative
        )

    @property
    def drug_total(self) -> Decimal:
        return sum_amounts(self.course_lines, [LineKind.DRUG])

    @property
    def waste_total(self) -> Decimal:
        return sum_amounts(self.course_lines, [LineKind.WASTE])

    @property
    def administration_total(self) -> Decimal:
        return sum_amounts(self.course_lines, [LineKind.ADMINISTRATION, LineKind.PER_DIEM])

    @property
    def per_infusion_average(self) -> Decimal:
        return round_money(self.per_course.total / len(self.days))


class CostInputs(Frozen):
    """Everything a cost summary needs beyond the product and the site."""

    indication_id: str
    plan_type: PlanType
    dose: Dose
    rate_weight_kg: Decimal = Field(gt=0, description="weight the pump rates are computed on")
    start_date: dt.date
    period_months: int | None = Field(default=None, ge=1, le=24)
    courses_in_period: int | None = Field(default=None, ge=1)
    # What the request asks for, which the yearly figure follows (None: not said).
    months_requested: int | None = Field(default=None, ge=1, le=24)
    rounding: VialRounding = NO_ROUNDING
    risks: tuple[RiskKind, ...] = ()
    medicare_home_benefit: bool = False
    extra_pump_setups: int = Field(default=0, ge=0)
    patient_plan: PatientPlan | None = None
    # The regimen's route (an IV product given under the skin); None: the product's own.
    route: Route | None = None
    tolerated_rate_mg_per_kg_per_min: Decimal | None = None
    premedication: str = ""


def day_cost(
    day: int,
    dose_g: Decimal,
    product: Product,
    site: SiteOfCare,
    table: PriceTable | None,
    inputs: CostInputs,
) -> DayCost:
    """Vials, infusion plan, codes and prices for one infusion day."""
    vials = plan_vials(dose_g, product, inputs.rounding)
    route = inputs.route if inputs.route is not None else product.route
    infusion = plan_infusion(
        product,
        inputs.indication_id,
        inputs.rate_weight_kg,
        vials.dose_g,
        inputs.risks,
        route=route,
        tolerated_rate_mg_per_kg_per_min=inputs.tolerated_rate_mg_per_kg_per_min,
        premedication=inputs.premedication,
    )
    coded, notes = administration_codes(
        route,
        site,
        inputs.plan_type,
        infusion.total_minutes_rounded,
        medicare_home_benefit=inputs.medicare_home_benefit,
        extra_pump_setups=inputs.extra_pump_setups,
        time_unverified=infusion.unverified,
    )
    drug = drug_cost_lines(product, vials, table)
    if site is SiteOfCare.INPATIENT:
        # Paid with the hospital stay: the units are counted, not priced per code.
        drug = tuple(
            line.model_copy(update={"unit_price": None, "amount": None, "note": "inpatient stay"})
            for line in drug
        )
    lines = drug + tuple(service_cost_line(c, table, site) for c in coded)
    return DayCost(day=day, vials=vials, infusion=infusion, lines=lines, notes=notes)


def summarize_costs(
    product: Product, site: SiteOfCare, table: PriceTable | None, inputs: CostInputs
) -> CostSummary:
    """Cost per infusion, per course, per authorization period and per year.

    A loading course takes the place of the first course in the period and the year.
    """
    doses = split_dose_g(inputs.dose.per_course_g, inputs.dose.days_per_course)
    days = tuple(
        day_cost(index + 1, dose_g, product, site, table, inputs)
        for index, dose_g in enumerate(doses)
    )
    lines = merge_lines(line for day in days for line in day.lines)
    course_total = sum_amounts(lines)
    per_infusion_day = len(days)
    loading = inputs.dose.loading
    loading_days: tuple[DayCost, ...] = ()
    if loading is not None:
        loading_days = tuple(
            day_cost(index + 1, dose_g, product, site, table, inputs)
            for index, dose_g in enumerate(loading.day_doses_g)
        )
    loading_total = sum_amounts(line for day in loading_days for line in day.lines)

    def infusions_in(courses: int) -> int:
        if loading_days:
            return len(loading_days) + (courses - 1) * per_infusion_day
        return courses * per_infusion_day

    def horizon(label: str, months: int | None, courses: int) -> Horizon:
        if loading_days:
            total = loading_total + course_total * (courses - 1)
        else:
            total = course_total * courses
        infusions = infusions_in(courses)
        share = add_shares(shares[:infusions]) if shares else None
        return Horizon(
            label=label,
            months=months,
            courses=courses,
            infusions=infusions,
            total=total,
            out_of_pocket=share,
        )

    interval = inputs.dose.interval_weeks
    if inputs.courses_in_period is not None:
        period_courses = inputs.courses_in_period
    elif inputs.period_months is not None:
        period_courses = courses_between(inputs.start_date, inputs.period_months, interval)
    else:
        period_courses = 1
    year_courses, year_months = _year_courses(inputs)

    # The share of each infusion day in order: the deductible and the maximum are
    # used up by the first days, so a later day costs the patient less.
    shares: tuple[OutOfPocket, ...] = ()
    if inputs.patient_plan is not None:
        in_order = [day.total for day in (loading_days or days)]
        in_order += [day.total for day in days] * (max(period_courses, year_courses) - 1)
        shares = shares_in_order(in_order, inputs.patient_plan)

    notes: list[str] = []
    for day in (*days, *loading_days):
        for note in (*day.notes, *day.infusion.notes):
            if note not in notes:
                notes.append(note)
    if interval is None:
        notes.append("One course: no repeat course is counted in the period or the year.")
    elif inputs.courses_in_period is not None and year_months is None:
        notes.append(
            f"Per year counts the {plural_courses(year_courses)} requested, not a repeat "
            "of the course for 12 months."
        )
    else:
        every = "every week" if interval == 1 else f"every {plain_number(interval)} weeks"
        span = f"{year_months} months" if year_months != 12 else "12 months"
        notes.append(
            f"Per year assumes the same dose {every} for the {span} requested "
            f"from {inputs.start_date.isoformat()}"
            + ("; a renewal would add to it." if year_months and year_months < 12 else ".")
        )
    if inputs.premedication:
        notes.append(f"Premedication as ordered: {inputs.premedication}.")
    if loading is not None:
        notes.append(
            f"The first course is the loading course ({plain_number(loading.per_course_g)} g over "
            f"{len(loading_days)} day{'s' if len(loading_days) != 1 else ''}); the "
            "maintenance courses follow it."
        )
    # Inpatient drug lines are paid with the stay: not a missing price.
    missing = tuple(
        sorted(
            {
                line.code
                for line in lines
                if line.amount is None and site is not SiteOfCare.INPATIENT
            },
            key=lambda code: code,
        )
    )
    return CostSummary(
        product=product,
        indication_id=inputs.indication_id,
        site=site,
        plan_type=inputs.plan_type,
        price_table=table,
        dose=inputs.dose,
        days=days,
        course_lines=lines,
        per_course=horizon("Per course", None, 1),
        per_period=horizon(
            "Per authorization period",
            None if inputs.courses_in_period is not None else inputs.period_months,
            period_courses,
        ),
        per_year=horizon("Per year", year_months, year_courses),
        patient_plan=inputs.patient_plan,
        missing_prices=missing,
        notes=tuple(notes),
        loading_days=loading_days,
        infusion_shares=shares[: infusions_in(year_courses)],
    )


def plural_courses(count: int) -> str:
    return f"{count} course{'s' if count != 1 else ''}"


def _year_courses(inputs: CostInputs) -> tuple[int, int | None]:
    """Courses in the yearly figure, and the months it spans (None: counted in courses).

    The year follows what was requested: a number of courses is given once (never
    more than fit in 12 months), a number of months up to 12; a one-off course is
    one course. It is never the induction repeated for a year.
    """
    interval = inputs.dose.interval_weeks
    if interval is None:
        return 1, None
    in_a_year = courses_between(inputs.start_date, 12, interval)
    if inputs.courses_in_period is not None and inputs.months_requested is None:
        return min(inputs.courses_in_period, in_a_year), None
    months = min(inputs.months_requested or 12, 12)
    return courses_between(inputs.start_date, months, interval), months
