"""The rows of the cost summary's tables: infusion days, billing lines, totals over
time, other products and other sites, and the numbered price sources.

Each builder writes figures the cost estimate (``rules.estimate``) already
worked out; none computes a price, a vial or a dose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from priorauth.domain.case import SiteOfCare
from priorauth.domain.catalog import Product
from priorauth.domain.costs import (
    LINE_KIND_LABELS,
    PRICE_KIND_LABELS,
    CostLine,
    CostSummary,
    Horizon,
    PriceTable,
    ProductOption,
    SiteOption,
)
from priorauth.domain.quantities import plain_number

from .wording import plural

# Keep the summary to one page: the chosen product and the four best alternatives.
MAX_PRODUCT_ROWS = 5

# Product facts a cost estimate rests on, as a reader would name them.
COST_FIELD_LABELS = {
    "vial_sizes_g": "vial sizes",
    "hcpcs": "billing code",
    "hcpcs_descriptor": "billing code description",
    "billing_unit_mg": "billing unit",
    "concentration_percent": "concentration (sets the volume)",
    "rate_schedules": "infusion rates",
}
RATE_FIELD_LABELS = {
    "start_mg_per_kg_per_min": "start rate",
    "start_minutes": "time at the start rate",
    "steps_mg_per_kg_per_min": "intermediate rates",
    "increment_mg_per_kg_per_min": "rate increment",
    "step_minutes": "time per step",
    "max_mg_per_kg_per_min": "maximum rate",
    "at_risk_max_mg_per_kg_per_min": "maximum rate for patients at risk",
}


@dataclass(frozen=True, slots=True)
class DayRow:
    days: str
    dose: str
    vials: str
    units: str
    discarded: str
    time: str
    volume: str
    pump_rates: str
    vials_unverified: bool
    time_unverified: bool


@dataclass(frozen=True, slots=True)
class LineRow:
    kind: str
    code: str
    modifier: str
    description: str
    units: str
    unit_price: str
    amount: str
    source: int | None
    illustrative: bool
    unverified: bool
    note: str


@dataclass(frozen=True, slots=True)
class HorizonColumn:
    label: str
    detail: str
    total: str
    patient_share: str
    capped: bool
    # Under the share: how later infusions differ from the first.
    share_detail: str = ""


@dataclass(frozen=True, slots=True)
class ProductRow:
    name: str
    code: str
    vials: str
    discarded_units: str
    time: str
    course: str
    year: str
    chosen: bool
    preferred: bool
    labeled: bool
    unverified: bool
    note: str


@dataclass(frozen=True, slots=True)
class SiteRow:
    label: str
    codes: str
    administration: str
    course: str
    year: str
    chosen: bool
    preference: str
    available: bool
    note: str


@dataclass(frozen=True, slots=True)
class Source:
    number: int
    text: str
    date: str
    illustrative: bool


# An inpatient stay pays for the drug with the stay: no amount is written for it.
WITH_THE_STAY = "paid with the stay"


def format_money(amount: Decimal | None) -> str:
    """Write money the way a US bill does: $16,920.00."""
    if amount is None:
        return "not priced"
    return f"${amount:,.2f}"


def _money(amount: Decimal | None, inpatient: bool) -> str:
    return WITH_THE_STAY if inpatient else format_money(amount)


class Sources:
    """Number each price source once, in the order the summary first uses it."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str], int] = {}
        self._items: list[Source] = []

    def cite(self, text: str, date: str, illustrative: bool) -> int:
        key = (text, date)
        if key not in self._numbers:
            self._numbers[key] = len(self._items) + 1
            self._items.append(Source(len(self._items) + 1, text, date, illustrative))
        return self._numbers[key]

    def items(self) -> tuple[Source, ...]:
        return tuple(self._items)


def table_source(table: PriceTable) -> str:
    """A price table named as the list of sources names it."""
    return f"{PRICE_KIND_LABELS[table.kind]}: {table.name} ({table.source})"


def line_row(line: CostLine, table: PriceTable | None, sources: Sources) -> LineRow:
    number = None
    if line.amount is not None:
        text = line.price_source
        if table is not None and line.price_source == table.name:
            text = table_source(table)
        number = sources.cite(text, line.price_date, line.illustrative)
    return LineRow(
        kind=LINE_KIND_LABELS[line.kind],
        code=line.code,
        modifier=line.modifier,
        description=line.description,
        units=str(line.units),
        unit_price=format_money(line.unit_price),
        amount=format_money(line.amount),
        source=number,
        illustrative=line.illustrative and line.amount is not None,
        unverified=line.unverified,
        note=line.note,
    )


def horizon_columns(summary: CostSummary) -> tuple[HorizonColumn, ...]:
    """Per infusion day on average, per course, per authorization period, per year."""
    first_share, later_shares = _infusion_share(summary)
    average = HorizonColumn(
        label="Per infusion",
        detail="average day",
        total=_money(summary.per_infusion_average, summary.inpatient),
        patient_share=first_share,
        capped=False,
        share_detail=later_shares,
    )
    return (
        average,
        *(
            _horizon_column(h, summary.inpatient)
            for h in (summary.per_course, summary.per_period, summary.per_year)
        ),
    )


def _infusion_share(summary: CostSummary) -> tuple[str, str]:
    """The first infusion's share, and what each later one costs the patient."""
    shares = [s.patient_pays for s in summary.infusion_shares]
    if not shares or summary.inpatient:
        return "—", ""
    later = shares[1:]
    if not later:
        return format_money(shares[0]), ""
    low, high = min(later), max(later)
    if low == high:
        return format_money(shares[0]), f"first; then {format_money(low)}"
    return format_money(shares[0]), f"first; then {format_money(low)}–{format_money(high)}"


def _horizon_column(horizon: Horizon, inpatient: bool = False) -> HorizonColumn:
    share = horizon.out_of_pocket
    months = f" in {horizon.months} mo" if horizon.months else ""
    return HorizonColumn(
        label=horizon.label,
        detail=f"{plural(horizon.courses, 'course')}, {plural(horizon.infusions, 'day')}{months}",
        total=_money(horizon.total, inpatient),
        patient_share=format_money(share.patient_pays) if share and not inpatient else "—",
        capped=bool(share and share.capped),
    )


def day_rows(summary: CostSummary, product: Product) -> tuple[DayRow, ...]:
    """One row per infusion day; identical days share a row ("1–4")."""
    days: list[DayRow] = []
    for day in summary.days:
        plan = day.infusion
        rates = " → ".join(f"{plain_number(s.pump_rate_ml_per_h)}" for s in plan.steps)
        row = DayRow(
            days=str(day.day),
            dose=f"{plain_number(day.vials.dose_g)} g",
            vials=day.vials.describe(),
            units=str(day.vials.units_administered),
            discarded=str(day.vials.units_discarded),
            time=plan.duration_text(),
            volume=f"{plain_number(plan.volume_ml_rounded)} mL",
            pump_rates=f"{rates} mL/h" if rates else "",
            vials_unverified=product.is_unverified("vial_sizes_g"),
            time_unverified=plan.unverified or not plan.available,
        )
        # The summary must fit on one page.
        if days and replace(days[-1], days="") == replace(row, days=""):
            first = days[-1].days.split("–")[0]
            days[-1] = replace(days[-1], days=f"{first}–{day.day}")
        else:
            days.append(row)
    return tuple(days)


def _option_money(amount: Decimal, option: ProductOption) -> str:
    if option.missing_prices:
        return "not priced"
    if option.infusion_minutes is None:
        return f"from {format_money(amount)}"
    return format_money(amount)


def _partial(option: ProductOption) -> bool:
    # Without an infusion time the administration hours are not counted.
    return bool(option.missing_prices) or option.infusion_minutes is None


def shown_products(options: Sequence[ProductOption]) -> tuple[ProductOption, ...]:
    """The chosen product first, then the best alternatives the page has room for."""
    chosen = [o for o in options if o.chosen]
    others = sorted(
        (o for o in options if not o.chosen),
        key=lambda o: (not o.preferred, _partial(o), o.course_total, o.name),
    )
    return (*chosen, *others[: MAX_PRODUCT_ROWS - 1])


def product_row(option: ProductOption, inpatient: bool = False) -> ProductRow:
    return ProductRow(
        name=option.name,
        code=option.hcpcs,
        vials=option.vials_per_infusion,
        discarded_units=str(option.discarded_units_per_course),
        time=(
            f"{option.infusion_minutes} min" if option.infusion_minutes is not None else "not known"
        ),
        course=WITH_THE_STAY if inpatient else _option_money(option.course_total, option),
        year=WITH_THE_STAY if inpatient else _option_money(option.year_total, option),
        chosen=option.chosen,
        preferred=option.preferred,
        labeled=option.labeled,
        unverified=bool(option.unverified_fields),
        note="" if option.labeled else "not labeled for this indication",
    )


def site_row(option: SiteOption) -> SiteRow:
    inpatient = option.site is SiteOfCare.INPATIENT
    return SiteRow(
        label=option.label,
        codes=option.codes,
        administration=(
            "not priced"
            if option.administration_missing and not inpatient
            else _money(option.administration_per_course, inpatient)
        ),
        course=_money(option.course_total, inpatient),
        year=_money(option.year_total, inpatient),
        chosen=option.chosen,
        preference=option.preferred_note,
        available=option.available,
        note=option.note,
    )


def unverified_items(product: Product, summary: CostSummary) -> tuple[str, ...]:
    """Every fact behind the figures that no source confirmed, named once."""
    items = [
        f"{product.name}: {COST_FIELD_LABELS[field]}"
        for field in product.unverified
        if field in COST_FIELD_LABELS
    ]
    for day in summary.days[:1]:
        plan = day.infusion
        for field in plan.unverified_fields:
            label = RATE_FIELD_LABELS.get(field) or COST_FIELD_LABELS.get(field, field)
            items.append(f"{product.name} infusion plan: {label}")
        if plan.schedule_is_default:
            items.append(f"{product.name}: rate ladder for this indication")
    for line in summary.course_lines:
        if line.unverified:
            items.append(f"{line.code}{' ' + line.modifier if line.modifier else ''}: {line.note}")
    if summary.patient_plan is not None and summary.patient_plan.unverified:
        items.append(f"Patient's share: {summary.patient_plan.source}")
    return tuple(dict.fromkeys(items))
