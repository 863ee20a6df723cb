"""The cost summary: each infusion day, a course, the authorization period and a year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field

from ..case import PlanType, SiteOfCare
from ..catalog import Frozen, Product, RiskKind
from ..dates import add_months
from ..dosing import Dose
from ..infusion import InfusionPlan, plan_infusion
from ..quantities import ceil_units, plain_number, round_money, split_dose_g
from ..vials import NO_ROUNDING, VialPlan, VialRounding, plan_vials
from .codes import LineKind, administration_codes
from .lines import CostLine, drug_cost_lines, merge_lines, service_cost_line, sum_amounts
from .prices import PriceTable
from .share import OutOfPocket, PatientPlan, estimate_out_of_pocket


def courses_between(start: dt.date, months: int, interval_weeks: Decimal) -> int:
    """Courses that start within some months from the first course, one every interval."""
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
    rounding: VialRounding = NO_ROUNDING
    risks: tuple[RiskKind, ...] = ()
    medicare_home_benefit: bool = False
    extra_pump_setups: int = Field(default=0, ge=0)
    patient_plan: PatientPlan | None = None


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
    infusion = plan_infusion(
        product, inputs.indication_id, inputs.rate_weight_kg, vials.dose_g, inputs.risks
    )
    coded, notes = administration_codes(
        product.route,
        site,
        inputs.plan_type,
        infusion.total_minutes_rounded,
        medicare_home_benefit=inputs.medicare_home_benefit,
        extra_pump_setups=inputs.extra_pump_setups,
    )
    lines = drug_cost_lines(product, vials, table) + tuple(
        service_cost_line(c, table, site) for c in coded
    )
    return DayCost(day=day, vials=vials, infusion=infusion, lines=lines, notes=notes)


def summarize_costs(
    product: Product, site: SiteOfCare, table: PriceTable | None, inputs: CostInputs
) -> CostSummary:
    """Cost per infusion, per course, per authorization period and per year."""
    doses = split_dose_g(inputs.dose.per_course_g, inputs.dose.days_per_course)
    days = tuple(
        day_cost(index + 1, dose_g, product, site, table, inputs)
        for index, dose_g in enumerate(doses)
    )
    lines = merge_lines(line for day in days for line in day.lines)
    course_total = sum_amounts(lines)
    per_infusion_day = len(days)

    def horizon(label: str, months: int | None, courses: int) -> Horizon:
        total = course_total * courses
        share = (
            estimate_out_of_pocket(total, inputs.patient_plan)
            if inputs.patient_plan is not None
            else None
        )
        return Horizon(
            label=label,
            months=months,
            courses=courses,
            infusions=courses * per_infusion_day,
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
    year_courses = courses_between(inputs.start_date, 12, interval)

    notes: list[str] = []
    for day in days:
        for note in (*day.notes, *day.infusion.notes):
            if note not in notes:
                notes.append(note)
    notes.append(
        f"Per year assumes the same dose every {plain_number(interval)} weeks for 12 months from "
        f"{inputs.start_date.isoformat()}."
    )
    missing = tuple(
        sorted({line.code for line in lines if line.amount is None}, key=lambda code: code)
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
        per_year=horizon("Per year", 12, year_courses),
        patient_plan=inputs.patient_plan,
        missing_prices=missing,
        notes=tuple(notes),
    )
