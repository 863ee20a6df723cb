"""Costs: price tables, administration coding, cost lines, horizons and the patient's share.

Sources (../shared/reference/ivig-products-billing.md §2–§4, §7):
- Medicare Part B pays the lesser of the charge or 106 % of ASP per billing
  unit (42 CFR 414.904); CMS publishes the limits each quarter with a
  two-quarter lag. No current limit is in the notes, so the shipped demo table
  is illustrative and marked so wherever a figure from it appears.
- IV infusion: 96365 for the first hour (the first 16–90 minutes), then one
  96366 for each further hour once more than 30 minutes past the prior hour:
  units = ceil((T − 90) / 60) for T > 90 minutes (clearcostestimate.com CPT
  96365/96366 page; UWHC IV Infusion Mini-Manual 2014).
- Subcutaneous in clinic: 96369 first hour with pump set-up, 96370 each
  additional hour, 96371 an additional pump set-up with new sites.
- Home: 99601 per nursing visit up to 2 hours, 99602 each additional hour;
  S9338 home immunotherapy per diem for commercial payers and Medicaid, drug and
  nursing billed separately (BCBS ND home infusion policy; genhealth.ai S9338).
  Medicare home IVIG (primary immunodeficiency only): Q2052 from Jan 1, 2024
  (Noridian JD DME IVIG page); other home IVIG uses fall under Part D.
- Part B coinsurance 20 % after the deductible is the general rule, unverified
  in the notes; the plan's own figures are inputs here.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .case import SITE_LABELS, PlanType, SiteOfCare
from .catalog import Product, RiskKind, Route
from .dates import add_months
from .dosing import Dose
from .infusion import InfusionPlan, plan_infusion
from .quantities import ceil_units, plain_number, round_money, split_dose_g
from .vials import NO_ROUNDING, VialPlan, VialRounding, billed_lines, plan_vials

SCHEMA_VERSION = 1
MINUTES_PER_HOUR = 60
IV_FIRST_CODE_MAX_MINUTES = 90  # 96365 covers up to 1 h + 30 min before 96366 is due
IV_MIN_MINUTES = 16  # below this 96365 does not apply
HOME_VISIT_BASE_MINUTES = 120  # 99601 covers a visit up to 2 h
MEDICARE_PART_B_COINSURANCE_PERCENT = Decimal(20)  # general Part B rule, unverified in notes

ILLUSTRATIVE_MARK = "ILLUSTRATIVE PRICES — not current payment rates"

CPT_TIME_SOURCE = (
    "clearcostestimate.com CPT 96365/96366 page (cites AMA CPT, CMS IOM 100-04 ch.12 §30.5); "
    "UWHC IV Infusion Mini-Manual 2014"
)
SC_CODE_SOURCE = "clearcostestimate.com CPT 96369-96371 page"
HOME_CODE_SOURCE = "Coding Ahead 99601/99602 pages; pabau.com 99601 guide"
PER_DIEM_SOURCE = "genhealth.ai S9338 page; BCBS ND home infusion reimbursement policy"
Q2052_SOURCE = (
    "Noridian JD DME 'Intravenous Immune Globulin (IVIG)' page (Q2052, DOS from Jan 1, 2024)"
)
SITE_OF_CARE_SOURCE = (
    "Arkansas Blue Cross 'Site of Care or Site of Service Review', policy 2018030, effective "
    "Feb 15, 2026; Premera Immune Globulin policy update, Jun 2025"
)
PART_D_SOURCE = "Medicare Benefit Policy Manual ch.15 §50.6; CSL Privigen coding guide (2020 note)"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- price tables


class PriceKind(StrEnum):
    ASP_PAYMENT_LIMIT = "asp_payment_limit"
    CONTRACTED = "contracted"
    ILLUSTRATIVE = "illustrative"


PRICE_KIND_LABELS = {
    PriceKind.ASP_PAYMENT_LIMIT: "Medicare Part B ASP payment limit",
    PriceKind.CONTRACTED: "Contracted rate",
    PriceKind.ILLUSTRATIVE: "Illustrative price",
}

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def quarter_dates(quarter: str) -> tuple[dt.date, dt.date]:
    """First and last day of a calendar quarter written 2026Q1."""
    match = _QUARTER.match(quarter)
    if match is None:
        raise ValueError(f"{quarter!r} is not a quarter; write it like 2026Q1")
    year, number = int(match[1]), int(match[2])
    first_month = 3 * (number - 1) + 1
    last_month = first_month + 2
    return (
        dt.date(year, first_month, 1),
        dt.date(year, last_month, calendar.monthrange(year, last_month)[1]),
    )


def quarter_label(quarter: str) -> str:
    match = _QUARTER.match(quarter)
    return f"{match[1]} Q{match[2]}" if match else quarter


class DrugPrice(Frozen):
    hcpcs: str = Field(pattern=r"^[A-Z][0-9]{4}$")
    billing_unit_mg: int | None = Field(default=None, gt=0)
    price_per_unit: Decimal = Field(ge=0)
    description: str = ""


class ServicePrice(Frozen):
    code: str = Field(pattern=r"^[A-Z0-9]{5}$")
    price_per_unit: Decimal = Field(ge=0)
    description: str = ""
    unit: str = ""
    sites: tuple[SiteOfCare, ...] = Field(default=(), description="empty: every site")
    source: str = Field(default="", description="when this figure has its own source")
    source_date: str = ""
    illustrative: bool | None = None


class PriceTable(Frozen):
    """Prices per billing unit, with where they come from and when they apply."""

    schema_version: int = SCHEMA_VERSION
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    kind: PriceKind
    illustrative: bool = False
    source: str
    source_date: str = Field(description="when the source published or was read, YYYY-MM-DD")
    effective_quarter: str = ""
    effective_from: dt.date
    effective_to: dt.date | None = None
    payer_profile: str | None = None
    plan_types: tuple[PlanType, ...] = ()
    drugs: tuple[DrugPrice, ...] = ()
    services: tuple[ServicePrice, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> PriceTable:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version} is not {SCHEMA_VERSION}")
        if self.kind is PriceKind.ILLUSTRATIVE and not self.illustrative:
            raise ValueError("an illustrative table must say illustrative = true")
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        if self.effective_quarter:
            first, last = quarter_dates(self.effective_quarter)
            if self.effective_from != first:
                raise ValueError(
                    f"effective_from {self.effective_from} is not the first day of "
                    f"{self.effective_quarter} ({first})"
                )
            if self.effective_to is not None and self.effective_to != last:
                raise ValueError(f"effective_to is not the last day of {self.effective_quarter}")
        codes = [d.hcpcs for d in self.drugs]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"drug code listed twice: {', '.join(twice)}")
        return self

    def in_effect(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def drug(self, hcpcs: str) -> DrugPrice | None:
        return next((d for d in self.drugs if d.hcpcs == hcpcs), None)

    def service(self, code: str, site: SiteOfCare) -> ServicePrice | None:
        matches = [s for s in self.services if s.code == code]
        return next((s for s in matches if site in s.sites), None) or next(
            (s for s in matches if not s.sites), None
        )

    def effective_text(self) -> str:
        quarter = f"{quarter_label(self.effective_quarter)}, " if self.effective_quarter else ""
        if self.effective_to is None:
            return f"{quarter}in effect from {self.effective_from.isoformat()} until replaced"
        return f"{quarter}{self.effective_from.isoformat()} to {self.effective_to.isoformat()}"


def select_price_table(
    tables: Iterable[PriceTable],
    on: dt.date,
    payer_profile: str | None = None,
    plan_type: PlanType | None = None,
) -> PriceTable | None:
    """Pick the prices for a date: the payer's contract, then CMS ASP limits, then the demo."""
    in_effect = [t for t in tables if t.in_effect(on)]

    def fits(table: PriceTable) -> bool:
        return not table.plan_types or plan_type is None or plan_type in table.plan_types

    def newest(candidates: list[PriceTable]) -> PriceTable | None:
        return max(candidates, key=lambda t: (t.effective_from, t.id)) if candidates else None

    contracted = [
        t
        for t in in_effect
        if t.kind is PriceKind.CONTRACTED and t.payer_profile == payer_profile and fits(t)
    ]
    asp = [t for t in in_effect if t.kind is PriceKind.ASP_PAYMENT_LIMIT]
    demo = [t for t in in_effect if t.kind is PriceKind.ILLUSTRATIVE]
    return newest(contracted) or newest(asp) or newest(demo)


# --------------------------------------------------------------------------- coding


class LineKind(StrEnum):
    DRUG = "drug"
    WASTE = "waste"
    ADMINISTRATION = "administration"
    PER_DIEM = "per_diem"


LINE_KIND_LABELS = {
    LineKind.DRUG: "Drug given",
    LineKind.WASTE: "Drug discarded",
    LineKind.ADMINISTRATION: "Administration",
    LineKind.PER_DIEM: "Home infusion per diem",
}


class CodedService(Frozen):
    code: str
    units: int
    kind: LineKind
    description: str
    source: str
    note: str = ""
    unverified: bool = False


def additional_hours(minutes: int, covered_minutes: int) -> int:
    """Further hours past what the first code covers, each counted once more than 30 min in."""
    if minutes <= covered_minutes:
        return 0
    return ceil_units(Decimal(minutes - covered_minutes), Decimal(MINUTES_PER_HOUR))


def iv_infusion_codes(minutes: int | None) -> tuple[CodedService, ...]:
    """96365 for the first hour, 96366 for each further hour (the > 30-minute rule)."""
    if minutes is None:
        return (
            CodedService(
                code="96365",
                units=1,
                kind=LineKind.ADMINISTRATION,
                description="IV infusion, initial, up to 1 hour",
                source=CPT_TIME_SOURCE,
                note="infusion time unknown: add one 96366 per further hour as documented",
                unverified=True,
            ),
        )
    codes = [
        CodedService(
            code="96365",
            units=1,
            kind=LineKind.ADMINISTRATION,
            description="IV infusion, initial, up to 1 hour",
            source=CPT_TIME_SOURCE,
            note=(
                f"infusion of {minutes} min is under {IV_MIN_MINUTES} min, too short for "
                "96365; what applies is unverified"
                if minutes < IV_MIN_MINUTES
                else ""
            ),
            unverified=minutes < IV_MIN_MINUTES,
        )
    ]
    extra = additional_hours(minutes, IV_FIRST_CODE_MAX_MINUTES)
    if extra:
        codes.append(
            CodedService(
                code="96366",
                units=extra,
                kind=LineKind.ADMINISTRATION,
                description="IV infusion, each additional hour",
                source=CPT_TIME_SOURCE,
                note=f"{minutes} min infusion",
            )
        )
    return tuple(codes)


def sc_infusion_codes(minutes: int | None, extra_pump_setups: int = 0) -> tuple[CodedService, ...]:
    """96369 first hour with pump set-up, 96370 each further hour, 96371 per extra set-up."""
    codes = [
        CodedService(
            code="96369",
            units=1,
            kind=LineKind.ADMINISTRATION,
            description="SC infusion, initial hour, including pump set-up and sites",
            source=SC_CODE_SOURCE,
            note="" if minutes is not None else "infusion time unknown",
            unverified=minutes is None,
        )
    ]
    extra = 0 if minutes is None else additional_hours(minutes, IV_FIRST_CODE_MAX_MINUTES)
    if extra:
        codes.append(
            CodedService(
                code="96370",
                units=extra,
                kind=LineKind.ADMINISTRATION,
                description="SC infusion, each additional hour",
                source=SC_CODE_SOURCE,
                note="counted with the 96366 rule (more than 30 minutes into the hour); "
                "the SC rule itself is unverified in the notes",
                unverified=True,
            )
        )
    if extra_pump_setups:
        codes.append(
            CodedService(
                code="96371",
                units=extra_pump_setups,
                kind=LineKind.ADMINISTRATION,
                description="SC infusion, additional pump set-up with new sites",
                source=SC_CODE_SOURCE,
            )
        )
    return tuple(codes)


def home_codes(
    minutes: int | None, plan_type: PlanType, medicare_home_benefit: bool
) -> tuple[tuple[CodedService, ...], tuple[str, ...]]:
    """Home-infusion codes for one infusion day, and what the reader should know about them."""
    if plan_type is PlanType.MEDICARE:
        if not medicare_home_benefit:
            return (), (
                "Medicare Part B covers IVIG at home only for primary immunodeficiency; other "
                f"uses at home fall under Part D ({PART_D_SOURCE}).",
            )
        return (
            CodedService(
                code="Q2052",
                units=1,
                kind=LineKind.PER_DIEM,
                description="Services, supplies and accessories for home IVIG (Medicare)",
                source=Q2052_SOURCE,
                note="Noridian describes billing per administration in 15-minute increments; "
                "confirm the unit count with the DME MAC",
                unverified=True,
            ),
        ), ()
    codes = [
        CodedService(
            code="99601",
            units=1,
            kind=LineKind.ADMINISTRATION,
            description="Home infusion, per visit up to 2 hours",
            source=HOME_CODE_SOURCE,
            note="the nursing standard counts preparation, travel, care and documentation "
            "time, so a visit may run longer than the infusion",
        )
    ]
    if minutes is not None:
        extra = additional_hours(minutes, HOME_VISIT_BASE_MINUTES)
        if extra:
            codes.append(
                CodedService(
                    code="99602",
                    units=extra,
                    kind=LineKind.ADMINISTRATION,
                    description="Home infusion, each additional hour",
                    source=HOME_CODE_SOURCE,
                    note="a partial hour counted as one; how partial hours count is unverified",
                    unverified=True,
                )
            )
    per_diem_confirmed = plan_type in (PlanType.COMMERCIAL, PlanType.MEDICAID)
    codes.append(
        CodedService(
            code="S9338",
            units=1,
            kind=LineKind.PER_DIEM,
            description="Home infusion therapy, immunotherapy, per diem",
            source=PER_DIEM_SOURCE,
            note="" if per_diem_confirmed else "S9338 for this plan type is unverified",
            unverified=not per_diem_confirmed,
        )
    )
    return tuple(codes), ()


def administration_codes(
    route: Route,
    site: SiteOfCare,
    plan_type: PlanType,
    minutes: int | None,
    *,
    medicare_home_benefit: bool = False,
    extra_pump_setups: int = 0,
) -> tuple[tuple[CodedService, ...], tuple[str, ...]]:
    """Administration codes for one infusion day at a site, with notes."""
    if site is SiteOfCare.HOME:
        return home_codes(minutes, plan_type, medicare_home_benefit)
    if route is Route.SC:
        return sc_infusion_codes(minutes, extra_pump_setups), ()
    return iv_infusion_codes(minutes), ()


# --------------------------------------------------------------------------- cost lines


class CostLine(Frozen):
    kind: LineKind
    code: str
    modifier: str = ""
    description: str
    units: int
    unit_price: Decimal | None
    amount: Decimal | None
    price_source: str
    price_date: str
    illustrative: bool
    note: str = ""
    unverified: bool = False

    @property
    def priced(self) -> bool:
        return self.amount is not None


def _price_fields(table: PriceTable | None) -> tuple[str, str, bool]:
    if table is None:
        return "no price table", "", False
    return table.name, table.effective_text(), table.illustrative


def drug_cost_lines(
    product: Product, plan: VialPlan, table: PriceTable | None
) -> tuple[CostLine, ...]:
    """The drug and waste lines of one infusion, priced per billing unit."""
    source, date, illustrative = _price_fields(table)
    price = table.drug(product.hcpcs) if table else None
    note = ""
    unit_price: Decimal | None = None
    if price is None:
        note = f"no price for {product.hcpcs} in the price table"
    elif price.billing_unit_mg is not None and price.billing_unit_mg != product.billing_unit_mg:
        note = (
            f"the price table bills {product.hcpcs} per {price.billing_unit_mg} mg, the catalog "
            f"per {product.billing_unit_mg} mg: not priced until they agree"
        )
    else:
        unit_price = price.price_per_unit
    unverified_code = product.is_unverified("hcpcs") or product.is_unverified("billing_unit_mg")
    lines = []
    for billed in billed_lines(plan, product.hcpcs):
        kind = LineKind.WASTE if billed.discarded else LineKind.DRUG
        what = "discarded" if billed.discarded else "given"
        lines.append(
            CostLine(
                kind=kind,
                code=billed.hcpcs,
                modifier=billed.modifier.value if billed.modifier else "",
                description=f"{product.name}, {what}, {product.billing_unit_mg} mg units",
                units=billed.units,
                unit_price=unit_price,
                amount=None if unit_price is None else round_money(unit_price * billed.units),
                price_source=source,
                price_date=date,
                illustrative=illustrative,
                note="; ".join(n for n in (billed.note, note) if n),
                unverified=billed.unverified or unverified_code,
            )
        )
    return tuple(lines)


def service_cost_line(coded: CodedService, table: PriceTable | None, site: SiteOfCare) -> CostLine:
    """Price one administration or per-diem code at a site."""
    source, date, illustrative = _price_fields(table)
    price = table.service(coded.code, site) if table else None
    if price is not None and price.source:
        source, date = price.source, price.source_date or date
    if price is not None and price.illustrative is not None:
        illustrative = price.illustrative
    missing = "" if price else f"no price for {coded.code} in the price table"
    return CostLine(
        kind=coded.kind,
        code=coded.code,
        description=coded.description,
        units=coded.units,
        unit_price=price.price_per_unit if price else None,
        amount=round_money(price.price_per_unit * coded.units) if price else None,
        price_source=source,
        price_date=date,
        illustrative=illustrative,
        note="; ".join(n for n in (coded.note, missing) if n),
        unverified=coded.unverified,
    )


def sum_amounts(lines: Iterable[CostLine], kinds: Iterable[LineKind] | None = None) -> Decimal:
    wanted = set(kinds) if kinds is not None else set(LineKind)
    return sum(
        (line.amount for line in lines if line.kind in wanted and line.amount is not None),
        Decimal(0),
    )


def merge_lines(lines: Iterable[CostLine]) -> tuple[CostLine, ...]:
    """Add up lines that bill the same code, modifier and price (a course's days)."""
    merged: dict[tuple[str, str, LineKind, Decimal | None], CostLine] = {}
    for line in lines:
        key = (line.code, line.modifier, line.kind, line.unit_price)
        held = merged.get(key)
        if held is None:
            merged[key] = line
            continue
        amount = None if held.amount is None or line.amount is None else held.amount + line.amount
        notes = held.note if line.note in held.note else f"{held.note}; {line.note}".strip("; ")
        merged[key] = held.model_copy(
            update={
                "units": held.units + line.units,
                "amount": amount,
                "note": notes,
                "unverified": held.unverified or line.unverified,
            }
        )
    return tuple(merged.values())


# --------------------------------------------------------------------------- the patient's share


class PatientPlan(Frozen):
    """The patient's cost sharing, as staff enter it from the plan's documents."""

    deductible_remaining: Decimal = Field(default=Decimal(0), ge=0)
    coinsurance_percent: Decimal = Field(ge=0, le=100)
    out_of_pocket_max_remaining: Decimal | None = Field(default=None, ge=0)
    source: str = "entered by staff from the patient's plan"
    unverified: bool = False


def medicare_part_b_plan(deductible_remaining: Decimal) -> PatientPlan:
    """Part B cost sharing without a supplement: 20 % after the deductible (unverified)."""
    return PatientPlan(
        deductible_remaining=deductible_remaining,
        coinsurance_percent=MEDICARE_PART_B_COINSURANCE_PERCENT,
        source="Medicare Part B: 20 % coinsurance after the deductible (general rule, "
        "unverified in the reference notes); a Medigap plan may pay the remainder",
        unverified=True,
    )


class OutOfPocket(Frozen):
    allowed: Decimal
    deductible: Decimal
    coinsurance: Decimal
    patient_pays: Decimal
    plan_pays: Decimal
    capped: bool


def estimate_out_of_pocket(allowed: Decimal, plan: PatientPlan) -> OutOfPocket:
    """Deductible first, then coinsurance on the rest, capped at the out-of-pocket maximum."""
    deductible = min(allowed, plan.deductible_remaining)
    coinsurance = round_money((allowed - deductible) * plan.coinsurance_percent / 100)
    patient = deductible + coinsurance
    capped = False
    if plan.out_of_pocket_max_remaining is not None and patient > plan.out_of_pocket_max_remaining:
        patient, capped = plan.out_of_pocket_max_remaining, True
        coinsurance = max(Decimal(0), patient - deductible)
        deductible = min(deductible, patient)
    patient = round_money(patient)
    return OutOfPocket(
        allowed=round_money(allowed),
        deductible=round_money(deductible),
        coinsurance=round_money(coinsurance),
        patient_pays=patient,
        plan_pays=round_money(allowed - patient),
        capped=capped,
    )


# --------------------------------------------------------------------------- horizons


def courses_between(start: dt.date, months: int, interval_weeks: Decimal) -> int:
    """Courses that start within some months from the first course, one every interval."""
    days = Decimal((add_months(start, months) - start).days)
    return ceil_units(days, interval_weeks * 7)


# --------------------------------------------------------------------------- the summary


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


# --------------------------------------------------------------------------- comparisons


class ProductOption(Frozen):
    product_id: str
    name: str
    hcpcs: str
    chosen: bool
    preferred: bool
    labeled: bool
    vials_per_infusion: str
    units_per_course: int
    discarded_units_per_course: int
    infusion_minutes: int | None
    course_total: Decimal
    year_total: Decimal
    missing_prices: tuple[str, ...]
    unverified_fields: tuple[str, ...]
    illustrative: bool
    note: str = ""


class SiteOption(Frozen):
    site: SiteOfCare
    label: str
    chosen: bool
    codes: str
    administration_per_course: Decimal
    course_total: Decimal
    year_total: Decimal
    missing_prices: tuple[str, ...]
    preferred_note: str
    available: bool
    illustrative: bool
    note: str = ""


def allowed_products(
    products: Iterable[Product],
    indication_id: str,
    route: Route,
    preferred: Sequence[str] = (),
    excluded: Sequence[str] = (),
) -> tuple[list[Product], str]:
    """Products on the same route that the payer does not exclude, labeled ones if any exist."""
    candidates = [p for p in products if p.route is route and p.id not in excluded]
    labeled = [p for p in candidates if p.labeled_for(indication_id)]
    if labeled:
        chosen = labeled
        note = "Products labeled for this indication that the plan does not exclude."
    else:
        chosen = candidates
        note = (
            "No product in the catalog is labeled for this indication; all products on "
            "this route that the payer does not exclude are compared (off-label use)."
        )
    if preferred:
        chosen.sort(key=lambda p: (p.id not in preferred, p.name))
    else:
        chosen.sort(key=lambda p: p.name)
    return chosen, note


def compare_products(
    products: Sequence[Product],
    chosen: Product,
    site: SiteOfCare,
    table: PriceTable | None,
    inputs: CostInputs,
    preferred: Sequence[str] = (),
) -> tuple[ProductOption, ...]:
    """The same course with each product: vials, units, waste, time and cost."""
    options = []
    seen = set()
    for product in [chosen, *products]:
        if product.id in seen:
            continue
        seen.add(product.id)
        summary = summarize_costs(product, site, table, inputs)
        first = summary.days[0]
        options.append(
            ProductOption(
                product_id=product.id,
                name=product.name,
                hcpcs=product.hcpcs,
                chosen=product.id == chosen.id,
                preferred=product.id in preferred,
                labeled=product.labeled_for(inputs.indication_id),
                vials_per_infusion=first.vials.describe(),
                units_per_course=sum(d.vials.units_administered for d in summary.days),
                discarded_units_per_course=sum(d.vials.units_discarded for d in summary.days),
                infusion_minutes=first.infusion_minutes,
                course_total=summary.per_course.total,
                year_total=summary.per_year.total,
                missing_prices=summary.missing_prices,
                unverified_fields=product.unverified,
                illustrative=summary.illustrative,
            )
        )
    return tuple(options)


def site_preference(site: SiteOfCare, plan_type: PlanType) -> str:
    """What commercial site-of-care programs say about a site, where the notes say it."""
    if plan_type is not PlanType.COMMERCIAL:
        return ""
    if site is SiteOfCare.HOSPITAL_OUTPATIENT:
        return "non-preferred site"
    return "preferred site"


def compare_sites(
    product: Product,
    chosen_site: SiteOfCare,
    table: PriceTable | None,
    inputs: CostInputs,
) -> tuple[SiteOption, ...]:
    """The same course at each site of care: codes, administration cost and total."""
    options = []
    for site in SiteOfCare:
        summary = summarize_costs(product, site, table, inputs)
        admin = [
            line
            for line in summary.course_lines
            if line.kind in (LineKind.ADMINISTRATION, LineKind.PER_DIEM)
        ]
        available = not (
            site is SiteOfCare.HOME
            and inputs.plan_type is PlanType.MEDICARE
            and not inputs.medicare_home_benefit
        )
        options.append(
            SiteOption(
                site=site,
                label=SITE_LABELS[site],
                chosen=site is chosen_site,
                codes=", ".join(f"{line.code} × {line.units}" for line in admin) or "none",
                administration_per_course=summary.administration_total,
                course_total=summary.per_course.total,
                year_total=summary.per_year.total,
                missing_prices=summary.missing_prices,
                preferred_note=site_preference(site, inputs.plan_type),
                available=available,
                illustrative=summary.illustrative,
                note="" if available else "; ".join(summary.days[0].notes),
            )
        )
    return tuple(options)
