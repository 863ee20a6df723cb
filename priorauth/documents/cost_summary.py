"""The cost summary: what a course of IVIG is expected to cost, for the patient to read.

Built like the letter: a frozen context of plain values (text, numbers as text,
tuples of small records), rendered by ``templates/documents/cost_summary.html``
and turned into PDF by ``pdf.html_to_pdf``. Every money figure carries the
number of the price source it came from, and a figure from an illustrative
table is marked so beside it and in a banner at the top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from priorauth.domain.case import PLAN_LABELS, SITE_LABELS, Case, PlanType, SiteOfCare
from priorauth.domain.catalog import Product
from priorauth.domain.costs import (
    ILLUSTRATIVE_MARK,
    LINE_KIND_LABELS,
    PRICE_KIND_LABELS,
    SITE_OF_CARE_SOURCE,
    CostLine,
    CostSummary,
    Horizon,
    PatientPlan,
    PriceTable,
    ProductOption,
)
from priorauth.domain.dosing import BASIS_LABELS
from priorauth.domain.quantities import plain_number
from priorauth.domain.safety import SafetyInputs
from priorauth.domain.vials import NO_ROUNDING, VialRounding
from priorauth.rules.assessment import Assessment
from priorauth.rules.estimate import estimate_costs
from priorauth.rules.library import Library

from .output import Rendered, document_record, render_document
from .parts import Row
from .wording import format_date, plural

COST_SUMMARY_TEMPLATE = "documents/cost_summary.html"
PDF_TITLE = "IVIG cost estimate"
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


@dataclass(frozen=True, slots=True)
class CostSummaryContext:
    """Everything the cost summary shows; plain values only."""

    title: str
    pdf_title: str
    running_head: str
    prepared_on: str
    illustrative: bool
    illustrative_text: str
    intro: str
    about_rows: tuple[Row, ...]
    dose_text: str
    weight_text: str
    rounding_text: str
    days: tuple[DayRow, ...]
    horizons: tuple[HorizonColumn, ...]
    lines: tuple[LineRow, ...]
    course_total: str
    incomplete_text: str
    share_rows: tuple[Row, ...]
    share_note: str
    products: tuple[ProductRow, ...]
    products_note: str
    sites: tuple[SiteRow, ...]
    sites_source: str
    sources: tuple[Source, ...]
    notes: tuple[str, ...]
    unverified_items: tuple[str, ...]
    has_unverified: bool


def format_money(amount: Decimal | None) -> str:
    """Write money the way a US bill does: $16,920.00."""
    if amount is None:
        return "not priced"
    return f"${amount:,.2f}"


def _option_money(amount: Decimal, option: ProductOption) -> str:
    if option.missing_prices:
        return "not priced"
    if option.infusion_minutes is None:
        return f"from {format_money(amount)}"
    return format_money(amount)


def _same_day(a: DayRow, b: DayRow) -> bool:
    return replace(a, days="") == replace(b, days="")


class _Sources:
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


def _line_row(line: CostLine, table: PriceTable | None, sources: _Sources) -> LineRow:
    number = None
    if line.amount is not None:
        text = line.price_source
        if table is not None and line.price_source == table.name:
            text = f"{PRICE_KIND_LABELS[table.kind]}: {table.name} ({table.source})"
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


def _horizon_column(horizon: Horizon, per_infusion: bool = False) -> HorizonColumn:
    share = horizon.out_of_pocket
    if per_infusion:
        detail = "average day"
    else:
        months = f" in {horizon.months} mo" if horizon.months else ""
        detail = f"{plural(horizon.courses, 'course')}, {plural(horizon.infusions, 'day')}{months}"
    return HorizonColumn(
        label=horizon.label,
        detail=detail,
        total=format_money(horizon.total),
        patient_share=format_money(share.patient_pays) if share else "—",
        capped=bool(share and share.capped),
    )


def _unverified_items(product: Product, summary: CostSummary) -> list[str]:
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
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def build_cost_summary_context(
    case: Case,
    assessment: Assessment,
    library: Library,
    prices: Iterable[PriceTable] | Mapping[str, PriceTable] | None = None,
    *,
    prepared_on: dt.date,
    product_id: str | None = None,
    site: SiteOfCare | None = None,
    patient_plan: PatientPlan | None = None,
    rounding: VialRounding = NO_ROUNDING,
    safety: SafetyInputs | None = None,
    price_table_id: str | None = None,
) -> CostSummaryContext:
    """Build the cost summary's context for an assessed case, a product and a site of care."""
    estimate = estimate_costs(
        case,
        assessment,
        library,
        prices,
        prepared_on=prepared_on,
        product_id=product_id,
        site=site,
        patient_plan=patient_plan,
        rounding=rounding,
        safety=safety,
        price_table_id=price_table_id,
    )
    dose, product, site, table = estimate.dose, estimate.product, estimate.site, estimate.table
    summary = estimate.summary
    plan_type = case.coverage.plan_type
    definition = library.indications[case.indication_id]
    sources = _Sources()
    if table is not None:
        sources.cite(
            f"{PRICE_KIND_LABELS[table.kind]}: {table.name} ({table.source})",
            table.effective_text(),
            table.illustrative,
        )

    lines = tuple(_line_row(line, table, sources) for line in summary.course_lines)
    illustrative = summary.illustrative

    weight = dose.dosing_weight
    dose_text = (
        f"{plain_number(dose.per_course_g)} g per course: {plain_number(dose.dose_g_per_kg)} "
        f"g/kg × {plain_number(weight.weight_kg)} kg ({BASIS_LABELS[weight.basis]}), "
        f"given over {plural(dose.days_per_course, 'day')}, every "
        f"{plain_number(dose.interval_weeks)} weeks."
    )
    rounding_notes = sorted({day.vials.rounding_note for day in summary.days})
    rounding_text = " ".join(n for n in rounding_notes if n != "Dose not rounded.")
    if dose.rounding_step_g:
        rounding_text = (
            f"The course dose is rounded to the nearest {plain_number(dose.rounding_step_g)} g "
            f"under this payer's policy. {rounding_text}"
        ).strip()

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
        # Identical days share a row ("1–4"): the summary must fit on one page.
        if days and _same_day(days[-1], row):
            first = days[-1].days.split("–")[0]
            days[-1] = replace(days[-1], days=f"{first}–{day.day}")
        else:
            days.append(row)

    per_infusion = Horizon(
        label="Per infusion",
        months=None,
        courses=0,
        infusions=1,
        total=summary.per_infusion_average,
        out_of_pocket=None,
    )
    horizons = (
        _horizon_column(per_infusion, per_infusion=True),
        _horizon_column(summary.per_course),
        _horizon_column(summary.per_period),
        _horizon_column(summary.per_year),
    )

    share_rows: list[Row] = []
    share_note = (
        "Enter the plan's deductible, coinsurance and out-of-pocket maximum to estimate "
        "the patient's share."
    )
    if patient_plan is not None:
        oop = patient_plan.out_of_pocket_max_remaining
        share_rows = [
            Row("Deductible left", format_money(patient_plan.deductible_remaining)),
            Row("Coinsurance", f"{plain_number(patient_plan.coinsurance_percent)}%"),
            Row(
                "Out-of-pocket maximum left",
                format_money(oop) if oop is not None else "not given",
            ),
        ]
        share_note = (
            f"Deductible first, then coinsurance, up to the maximum; each column on its own "
            f"({patient_plan.source})."
        )

    options = estimate.product_options
    products_note = estimate.products_note
    chosen_option = [o for o in options if o.chosen]

    def partial(option: ProductOption) -> bool:
        # Without an infusion time the administration hours are not counted.
        return bool(option.missing_prices) or option.infusion_minutes is None

    others = sorted(
        (o for o in options if not o.chosen),
        key=lambda o: (not o.preferred, partial(o), o.course_total, o.name),
    )
    shown = chosen_option + others[: MAX_PRODUCT_ROWS - 1]
    if len(options) > len(shown):
        products_note += f" {len(options) - len(shown)} more in the app."
    product_rows = tuple(
        ProductRow(
            name=o.name,
            code=o.hcpcs,
            vials=o.vials_per_infusion,
            discarded_units=str(o.discarded_units_per_course),
            time=f"{o.infusion_minutes} min" if o.infusion_minutes is not None else "not known",
            course=_option_money(o.course_total, o),
            year=_option_money(o.year_total, o),
            chosen=o.chosen,
            preferred=o.preferred,
            labeled=o.labeled,
            unverified=bool(o.unverified_fields),
            note="" if o.labeled else "not labeled for this indication",
        )
        for o in shown
    )

    site_rows = tuple(
        SiteRow(
            label=o.label,
            codes=o.codes,
            administration=format_money(o.administration_per_course),
            course=format_money(o.course_total),
            year=format_money(o.year_total),
            chosen=o.chosen,
            preference=o.preferred_note,
            available=o.available,
            note=o.note,
        )
        for o in estimate.site_options
    )

    site_source = (
        sources.cite(f"Site-of-care programs: {SITE_OF_CARE_SOURCE}", "", False)
        if plan_type is PlanType.COMMERCIAL
        else None
    )
    incomplete = ""
    if summary.missing_prices:
        incomplete = (
            "Totals leave out codes the price table has no price for: "
            + ", ".join(summary.missing_prices)
            + "."
        )
    intro = "An estimate: actual amounts depend on the plan's contract and the claim as filed."
    about_rows = (
        Row("Patient", case.patient.full_name),
        Row("Plan", f"{case.coverage.payer_name} ({PLAN_LABELS[plan_type]})"),
        Row("Treatment for", definition.short_name or definition.name),
        Row(
            "Product",
            f"{product.name} ({product.hcpcs}, billed per {product.billing_unit_mg} mg)",
            unverified=product.is_unverified("hcpcs") or product.is_unverified("billing_unit_mg"),
        ),
        Row("Site of care", SITE_LABELS[site]),
    )
    unverified_items = tuple(_unverified_items(product, summary))
    return CostSummaryContext(
        title="Cost estimate: immune globulin treatment",
        pdf_title=PDF_TITLE,
        running_head=f"Cost estimate · {product.name} · {SITE_LABELS[site]}",
        prepared_on=format_date(prepared_on),
        illustrative=illustrative,
        illustrative_text=(
            f"{ILLUSTRATIVE_MARK}: made-up demo figures, not what any plan pays."
            if illustrative
            else ""
        ),
        intro=intro,
        about_rows=about_rows,
        dose_text=dose_text,
        weight_text=weight.reason,
        rounding_text=rounding_text,
        days=tuple(days),
        horizons=horizons,
        lines=lines,
        course_total=format_money(summary.per_course.total),
        incomplete_text=incomplete,
        share_rows=tuple(share_rows),
        share_note=share_note,
        products=product_rows,
        products_note=products_note,
        sites=site_rows,
        sites_source=str(site_source) if site_source else "",
        sources=sources.items(),
        notes=summary.notes,
        unverified_items=unverified_items,
        has_unverified=bool(unverified_items),
    )


def render_cost_summary(
    case: Case,
    assessment: Assessment,
    library: Library,
    prices: Iterable[PriceTable] | Mapping[str, PriceTable] | None = None,
    *,
    prepared_on: dt.date,
    product_id: str | None = None,
    site: SiteOfCare | None = None,
    patient_plan: PatientPlan | None = None,
    rounding: VialRounding = NO_ROUNDING,
    safety: SafetyInputs | None = None,
    price_table_id: str | None = None,
) -> Rendered[CostSummaryContext]:
    """Render the cost summary to HTML and PDF."""
    context = build_cost_summary_context(
        case,
        assessment,
        library,
        prices,
        prepared_on=prepared_on,
        product_id=product_id,
        site=site,
        patient_plan=patient_plan,
        rounding=rounding,
        safety=safety,
        price_table_id=price_table_id,
    )
    record = document_record("cost_summary", case, assessment, document_date=prepared_on)
    return render_document(COST_SUMMARY_TEMPLATE, context, record, title=context.pdf_title)
