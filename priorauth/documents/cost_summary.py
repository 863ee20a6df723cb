"""The cost summary: what a course of IVIG is expected to cost, for the patient to read.

Built like the letter: a frozen context of plain values (text, numbers as text,
tuples of small records), rendered by ``templates/documents/cost_summary.html``.
The figures are the cost estimate's (``rules.estimate``); this module writes
them out. Every money figure carries the number of the price source it came
from, and a figure from an illustrative table is marked so beside it and in a
banner at the top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from priorauth.domain.case import PLAN_LABELS, SITE_LABELS, Case, PlanType, SiteOfCare
from priorauth.domain.catalog import Route
from priorauth.domain.costs import ILLUSTRATIVE_MARK, SITE_OF_CARE_SOURCE, PatientPlan, PriceTable
from priorauth.domain.dosing import BASIS_LABELS, Dose
from priorauth.domain.quantities import plain_number
from priorauth.domain.safety import SafetyInputs
from priorauth.domain.vials import NO_ROUNDING, VialRounding
from priorauth.rules.assessment import Assessment
from priorauth.rules.estimate import CostEstimate, estimate_costs
from priorauth.rules.library import Library

from .cost_rows import (
    WITH_THE_STAY,
    DayRow,
    HorizonColumn,
    LineRow,
    ProductRow,
    SiteRow,
    Source,
    Sources,
    day_rows,
    format_money,
    horizon_columns,
    line_row,
    product_row,
    shown_products,
    site_row,
    table_source,
    unverified_items,
)
from .dose_words import grams, loading_sentence, schedule
from .output import Rendered, document_record, render_document
from .parts import InternalRow
from .wording import format_date, plural

COST_SUMMARY_TEMPLATE = "documents/cost_summary.html"
PDF_TITLE = "IVIG cost estimate"


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
    about_rows: tuple[InternalRow, ...]
    dose_text: str
    weight_text: str
    rounding_text: str
    days: tuple[DayRow, ...]
    horizons: tuple[HorizonColumn, ...]
    lines: tuple[LineRow, ...]
    course_total: str
    incomplete_text: str
    share_rows: tuple[InternalRow, ...]
    share_note: str
    products: tuple[ProductRow, ...]
    products_note: str
    sites: tuple[SiteRow, ...]
    sites_source: str
    sources: tuple[Source, ...]
    notes: tuple[str, ...]
    unverified_items: tuple[str, ...]
    has_unverified: bool


def _dose_text(dose: Dose, route: Route) -> str:
    weight = dose.dosing_weight
    text = (
        f"{grams(dose.per_course_g)} g per course: {plain_number(dose.dose_g_per_kg)} "
        f"g/kg × {plain_number(weight.weight_kg)} kg ({BASIS_LABELS[weight.basis]}), "
        f"given over {plural(dose.days_per_course, 'day')}, {schedule(dose.interval_weeks, route)}."
    )
    loading = loading_sentence(dose)
    return f"{text} {loading}" if loading else text


def _rounding_text(estimate: CostEstimate) -> str:
    notes = sorted({day.vials.rounding_note for day in estimate.summary.days})
    text = " ".join(n for n in notes if n != "Dose not rounded.")
    step_g = estimate.dose.rounding_step_g
    if step_g:
        text = (
            f"The course dose is rounded to the nearest {plain_number(step_g)} g "
            f"under this payer's policy. {text}"
        ).strip()
    return text


def _share(plan: PatientPlan | None) -> tuple[tuple[InternalRow, ...], str]:
    """The patient's plan as entered, and how the share is worked out."""
    if plan is None:
        return (), (
            "Enter the plan's deductible, coinsurance and out-of-pocket maximum to estimate "
            "the patient's share."
        )
    oop = plan.out_of_pocket_max_remaining
    share = (
        InternalRow("Copay per infusion", format_money(plan.copay_per_infusion))
        if plan.copay_per_infusion is not None
        else InternalRow("Coinsurance", f"{plain_number(plan.coinsurance_percent or Decimal(0))}%")
    )
    rows = (
        InternalRow("Deductible left", format_money(plan.deductible_remaining)),
        share,
        InternalRow(
            "Out-of-pocket maximum left", format_money(oop) if oop is not None else "not given"
        ),
    )
    return rows, f"Infusion by infusion in one plan year; {plan.source}."


def cost_summary_context(
    case: Case, library: Library, estimate: CostEstimate, *, prepared_on: dt.date
) -> CostSummaryContext:
    """Write out a cost estimate for the patient to read."""
    product, site, table = estimate.product, estimate.site, estimate.table
    summary = estimate.summary
    plan_type = case.coverage.plan_type
    definition = library.indications[case.indication_id]
    sources = Sources()
    if table is not None:
        sources.cite(table_source(table), table.effective_text(), table.illustrative)
    lines = tuple(line_row(line, table, sources) for line in summary.course_lines)

    options = estimate.product_options
    shown = shown_products(options)
    products_note = estimate.products_note
    if len(options) > len(shown):
        products_note += f" {len(options) - len(shown)} more in the app."
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
    about_rows = (
        InternalRow("Patient", case.patient.full_name),
        InternalRow("Plan", f"{case.coverage.payer_name} ({PLAN_LABELS[plan_type]})"),
        InternalRow("Treatment for", definition.short_name or definition.name),
        InternalRow(
            "Product",
            f"{product.name} ({product.hcpcs}, billed per {product.billing_unit_mg} mg)",
            unverified=product.is_unverified("hcpcs") or product.is_unverified("billing_unit_mg"),
        ),
        InternalRow("Site of care", SITE_LABELS[site]),
    )
    share_rows, share_note = _share(summary.patient_plan)
    unverified = unverified_items(product, summary)
    return CostSummaryContext(
        title="Cost estimate: immune globulin treatment",
        pdf_title=PDF_TITLE,
        running_head=f"Cost estimate · {product.name} · {SITE_LABELS[site]}",
        prepared_on=format_date(prepared_on),
        illustrative=summary.illustrative,
        illustrative_text=(
            f"{ILLUSTRATIVE_MARK}: made-up demo figures, not what any plan pays."
            if summary.illustrative
            else ""
        ),
        intro="An estimate: actual amounts depend on the plan's contract and the claim as filed.",
        about_rows=about_rows,
        dose_text=_dose_text(estimate.dose, estimate.route),
        weight_text=estimate.dose.dosing_weight.reason,
        rounding_text=_rounding_text(estimate),
        days=day_rows(summary, product),
        horizons=horizon_columns(summary),
        lines=lines,
        course_total=WITH_THE_STAY if summary.inpatient else format_money(summary.per_course.total),
        incomplete_text=incomplete,
        share_rows=share_rows,
        share_note=share_note,
        products=tuple(product_row(o, summary.inpatient) for o in shown),
        products_note=products_note,
        sites=tuple(site_row(o) for o in estimate.site_options),
        sites_source=str(site_source) if site_source else "",
        sources=sources.items(),
        notes=summary.notes,
        unverified_items=unverified,
        has_unverified=bool(unverified),
    )


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
    return cost_summary_context(case, library, estimate, prepared_on=prepared_on)


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
