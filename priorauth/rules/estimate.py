"""What a course is expected to cost: the numbers behind the cost summary.

The price table in effect for the payer, the course priced with the chosen
product at the chosen site of care, and the same course with each other product
the payer allows and at each other site. The cost summary document only writes
these figures out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from priorauth.domain.case import Case, SiteOfCare
from priorauth.domain.catalog import Product, Route
from priorauth.domain.costs import (
    CostInputs,
    CostSummary,
    PatientPlan,
    PriceTable,
    ProductOption,
    SiteOption,
    allowed_products,
    compare_products,
    compare_sites,
    plan_from_terms,
    select_price_table,
    summarize_costs,
)
from priorauth.domain.dosing import Dose
from priorauth.domain.safety import SafetyInputs, patient_risks
from priorauth.domain.vials import NO_ROUNDING, VialRounding

from .assessment import Assessment
from .library import Library


class CostSummaryUnavailable(ValueError):
    """The case cannot be priced (no dose, unknown product or price table)."""


@dataclass(frozen=True)
class CostEstimate:
    """One course priced, with the other products and sites for comparison."""

    dose: Dose
    product: Product
    site: SiteOfCare
    # The route the course is given by (an IV product may be given under the skin).
    route: Route
    table: PriceTable | None
    summary: CostSummary
    product_options: tuple[ProductOption, ...]
    products_note: str
    site_options: tuple[SiteOption, ...]


def _period_months(case: Case, assessment: Assessment) -> int | None:
    """The months this request covers: as requested, but never past the payer's period."""
    requested = case.regimen.months_requested
    allowed = assessment.authorization_months
    if requested is not None and allowed is not None:
        return min(requested, allowed)
    return requested or allowed


def _price_table(
    tables: list[PriceTable],
    table_id: str | None,
    prepared_on: dt.date,
    payer_id: str,
    case: Case,
) -> PriceTable | None:
    if table_id is None:
        return select_price_table(tables, prepared_on, payer_id, case.coverage.plan_type)
    table = next((t for t in tables if t.id == table_id), None)
    if table is None:
        raise CostSummaryUnavailable(f"unknown price table {table_id!r}")
    return table


def estimate_costs(
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
) -> CostEstimate:
    """Price the assessed course for a product and site (the case's own by default).

    The patient's share uses the plan terms on the case unless a plan is passed.
    """
    dose = assessment.dose.dose
    if dose is None:
        findings = assessment.dose.findings
        reason = findings[0].message if findings else "no dose"
        raise CostSummaryUnavailable(f"no dose can be computed: {reason}")
    chosen_id = product_id or case.regimen.product_id
    product = library.products.get(chosen_id)
    if product is None:
        raise CostSummaryUnavailable(f"unknown product {chosen_id!r}")
    site = site or case.site_of_care
    payer = library.payers.get(assessment.payer_id) or library.payers["reference"]
    if prices is None:
        tables = list(library.prices.values())
    elif isinstance(prices, Mapping):
        tables = list(prices.values())
    else:
        tables = list(prices)
    table = _price_table(tables, price_table_id, prepared_on, payer.id, case)
    # The safety findings' risks lower the infusion rate; a caller may pass other facts.
    risks = patient_risks(safety) if safety is not None else assessment.safety.risks
    if patient_plan is None and case.coverage.plan_terms is not None:
        patient_plan = plan_from_terms(case.coverage.plan_terms)
    route = assessment.dose.route
    if not product.given_by(route, case.indication_id):
        route = product.route
    inputs = CostInputs(
        indication_id=case.indication_id,
        plan_type=case.coverage.plan_type,
        dose=dose,
        rate_weight_kg=dose.dosing_weight.weight_kg,
        start_date=case.regimen.start_date,
        period_months=_period_months(case, assessment),
        courses_in_period=case.regimen.courses_requested,
        months_requested=case.regimen.months_requested,
        rounding=rounding,
        risks=risks,
        medicare_home_benefit=bool(set(payer.home_infusion_codes) & set(case.icd10_codes)),
        patient_plan=patient_plan,
        route=route,
        tolerated_rate_mg_per_kg_per_min=case.regimen.tolerated_rate_mg_per_kg_per_min,
        premedication=case.regimen.premedication,
    )
    candidates, products_note = allowed_products(
        library.products.values(),
        case.indication_id,
        route,
        payer.preferred_products,
        payer.excluded_products,
    )
    return CostEstimate(
        dose=dose,
        product=product,
        site=site,
        route=route,
        table=table,
        summary=summarize_costs(product, site, table, inputs),
        product_options=compare_products(
            candidates, product, site, table, inputs, payer.preferred_products
        ),
        products_note=products_note,
        site_options=compare_sites(product, site, table, inputs),
    )
