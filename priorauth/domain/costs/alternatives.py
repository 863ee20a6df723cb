"""Alternatives: the same course with another product or at another site of care."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from ..case import SITE_LABELS, PlanType, SiteOfCare
from ..catalog import Frozen, Product, Route
from .codes import LineKind
from .prices import PriceTable
from .summary import CostInputs, summarize_costs

SITE_OF_CARE_SOURCE = (
    "Arkansas Blue Cross 'Site of Care or Site of Service Review', policy 2018030, effective "
    "Feb 15, 2026; Premera Immune Globulin policy update, Jun 2025"
)


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
    # An administration or per-diem code has no price: the figure is not $0.00.
    administration_missing: bool = False
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
    """Products given by the route that the payer does not exclude, labeled ones if any exist."""
    candidates = [p for p in products if p.given_by(route, indication_id) and p.id not in excluded]
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
        # A hospital stay is not an alternative to an outpatient course, nor the reverse.
        if (site is SiteOfCare.INPATIENT) != (chosen_site is SiteOfCare.INPATIENT):
            continue
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
                administration_missing=any(line.amount is None for line in admin),
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
