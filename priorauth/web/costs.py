"""The cost summary: the patient's estimate for a product and site of care, page and PDF.

The estimate is the documents layer's (``priorauth.documents.cost_summary``, which
asks ``priorauth.rules.estimate``); the price tables are the library's, loaded
at start-up. Only the product and the site travel in the URL, never anything
about the patient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response

from priorauth.documents import cost_summary, patient_sheet
from priorauth.domain.case import SITE_LABELS, Case, SiteOfCare
from priorauth.rules.assessment import Assessment
from priorauth.rules.estimate import CostSummaryUnavailable
from priorauth.store.models import CaseRecord

from . import casefile, context, delivery
from .context import View
from .pages import case_heading
from .permissions import Permission, case_action

bp = Blueprint("costs", __name__)

T = TypeVar("T")

MAX_QUERY_CHARS = 100


def _choices() -> tuple[str | None, SiteOfCare | None, list[str]]:
    """The product and site asked for in the query string, and what was wrong with them."""
    problems = []
    product_id = request.args.get("product", "").strip()[:MAX_QUERY_CHARS] or None
    if product_id is not None and product_id not in context.library().products:
        problems.append("That product is not in the catalog: choose one from the list.")
        product_id = None
    site_value = request.args.get("site", "").strip()[:MAX_QUERY_CHARS]
    site = None
    if site_value:
        try:
            site = SiteOfCare(site_value)
        except ValueError:
            problems.append("That site of care is not known: choose one from the list.")
    return product_id, site, problems


def _estimate(
    make: Callable[..., T],
    case: Case,
    result: Assessment,
    product_id: str | None,
    site: SiteOfCare | None,
) -> T:
    """Build (or render) the cost summary for the chosen product and site, as of today."""
    library = context.library()
    return make(
        case,
        result,
        library,
        library.prices,
        prepared_on=context.today(),
        product_id=product_id,
        site=site,
    )


def _chosen(record: CaseRecord) -> tuple[Case, Assessment, str | None, SiteOfCare | None]:
    """The case, its assessment and a valid choice of product and site (else 400)."""
    case, result = casefile.assessed(record)
    product_id, site, problems = _choices()
    if problems:
        abort(400)
    return case, result, product_id, site


@bp.get("/cases/<int:case_id>/cost-summary")
@case_action(Permission.COST_SUMMARY, action="cost_summary.view")
def summary(record: CaseRecord) -> View:
    """The cost summary for a product and site of care chosen with a small GET form."""
    case, result = casefile.assessed(record)
    product_id, site, problems = _choices()
    built = None
    unavailable = ""
    if not problems:
        try:
            built = _estimate(
                cost_summary.build_cost_summary_context, case, result, product_id, site
            )
        except CostSummaryUnavailable as error:
            unavailable = str(error)
    context.audit("cost_summary.view", "ok" if built else "invalid", case_id=record.id)
    products = sorted(context.library().products.values(), key=lambda p: p.name.lower())
    query = {
        k: v for k, v in (("product", product_id), ("site", site.value if site else None)) if v
    }
    return (
        render_template(
            "pages/cost_summary.html",
            heading=case_heading(record),
            summary=built,
            unavailable=unavailable,
            problems=problems,
            products=products,
            sites=list(SITE_LABELS.items()),
            chosen_product=product_id or case.regimen.product_id,
            chosen_site=(site or case.site_of_care).value,
            query=query,
        ),
        400 if problems else 200,
    )


@bp.get("/cases/<int:case_id>/cost-summary/preview")
@case_action(Permission.COST_SUMMARY, action="cost_summary.preview")
def preview(record: CaseRecord) -> Response:
    """The cost summary as the patient reads it, for the preview frame."""
    case, result, product_id, site = _chosen(record)
    try:
        built = _estimate(cost_summary.build_cost_summary_context, case, result, product_id, site)
    except CostSummaryUnavailable:
        abort(409)
    return delivery.preview_page(cost_summary.COST_SUMMARY_TEMPLATE, built)


@bp.get("/cases/<int:case_id>/cost-summary.pdf")
@case_action(Permission.COST_SUMMARY, action="cost_summary.download")
def pdf(record: CaseRecord) -> Response:
    """The cost summary as a PDF download; not stored with the case."""
    case, result, product_id, site = _chosen(record)
    try:
        with casefile.rendering():
            rendered = _estimate(cost_summary.render_cost_summary, case, result, product_id, site)
    except CostSummaryUnavailable:
        abort(409)
    return delivery.send_pdf(rendered.pdf, f"cost-summary-case-{record.id}.pdf")


@bp.get("/cases/<int:case_id>/patient-sheet.pdf")
@case_action(Permission.COST_SUMMARY, action="patient_sheet.download")
def patient_sheet_pdf(record: CaseRecord) -> Response:
    """The patient information sheet as a PDF download; not stored with the case."""
    case, result = casefile.assessed(record)
    with casefile.rendering():
        rendered = patient_sheet.render_patient_sheet(
            case, result, context.library(), prepared_on=context.today()
        )
    return delivery.send_pdf(rendered.pdf, f"patient-sheet-case-{record.id}.pdf")
