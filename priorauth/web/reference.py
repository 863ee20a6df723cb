"""Reference: read-only pages showing what each indication definition asks and why."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import Blueprint, abort, render_template

from priorauth.domain.case import RequestType
from priorauth.domain.facts import FACTS
from priorauth.rules.payer_compare import compare_payers
from priorauth.rules.schema import AnyOfCriterion, CoverageStatus, CriterionBase

from . import context
from .permissions import Permission, requires

bp = Blueprint("reference", __name__)

COVERAGE_LABELS = {
    CoverageStatus.STANDARD: "Standard coverage",
    CoverageStatus.NOT_COVERED: "Not covered",
    CoverageStatus.RARELY_COVERED: "Rarely covered (needs an exception)",
}


def _applies(applies_to: tuple[RequestType, ...]) -> str:
    return " and ".join(RequestType(t).value for t in applies_to)


def _criterion(item: CriterionBase, citations: dict[str, Any]) -> dict[str, Any]:
    children = item.criteria if isinstance(item, AnyOfCriterion) else ()
    return {
        "id": item.id,
        "title": item.title,
        "why": item.why,
        "required": item.required,
        "applies": _applies(item.applies_to),
        "citations": [citations[ref] for ref in item.citations if ref in citations],
        "unverified": item.unverified,
        "note": item.note,
        "min_met": item.min_met if isinstance(item, AnyOfCriterion) else None,
        "children": [_criterion(child, citations) for child in children],
    }


@bp.get("/reference")
@requires(Permission.REFERENCE_READ)
def index() -> str:
    groups: dict[str, list[Any]] = defaultdict(list)
    for definition in context.library().indications.values():
        groups[definition.category].append(definition)
    categories = [
        (category, sorted(items, key=lambda d: d.name.lower()))
        for category, items in sorted(groups.items(), key=lambda item: item[0].lower())
    ]
    return render_template(
        "pages/reference_index.html", categories=categories, coverage_labels=COVERAGE_LABELS
    )


@bp.get("/reference/<indication_id>")
@requires(Permission.REFERENCE_READ)
def show(indication_id: str) -> str:
    definition = context.library().indications.get(indication_id)
    if definition is None:
        abort(404)
    citations = {c.id: c for c in definition.citations}
    questions = [
        {
            "label": FACTS[q.fact].label if q.fact in FACTS else q.fact,
            "why": q.why,
            "required": q.required,
            "applies": _applies(q.applies_to),
        }
        for q in definition.questions
    ]
    dosing = [
        {
            "label": limit.label,
            "applies": _applies(limit.applies_to),
            "route": "Subcutaneous" if limit.route.value == "sc" else "Intravenous",
            "loading": limit.loading,
            "per_course": limit.describe_dose(),
            "days": limit.days_per_course.describe("days"),
            "interval": limit.interval_weeks.describe("weeks"),
            "max_per_day": limit.max_g_per_kg_per_day,
            "citations": [citations[ref] for ref in limit.citations if ref in citations],
            "unverified": limit.unverified,
            "note": limit.note,
        }
        for limit in definition.dosing
    ]
    authorization = definition.authorization
    return render_template(
        "pages/reference_show.html",
        definition=definition,
        coverage_label=COVERAGE_LABELS.get(definition.coverage, str(definition.coverage)),
        questions=questions,
        criteria=[_criterion(item, citations) for item in definition.criteria],
        dosing=dosing,
        authorization=authorization,
        authorization_citations=[
            citations[ref] for ref in authorization.citations if ref in citations
        ],
        enclosures=[
            {"title": e.title, "required": e.required, "applies": _applies(e.applies_to)}
            for e in definition.enclosures
        ],
    )


# --- payers side by side, payer pages, product pages (issue 14) ------------------------------


@bp.get("/reference/<indication_id>/payers")
@requires(Permission.REFERENCE_READ)
def compare(indication_id: str) -> str:
    library = context.library()
    if indication_id not in library.indications:
        abort(404)
    return render_template(
        "pages/reference_compare.html",
        definition=library.indications[indication_id],
        comparison=compare_payers(library, indication_id),
    )


@bp.get("/reference/payers/<payer_id>")
@requires(Permission.REFERENCE_READ)
def payer(payer_id: str) -> str:
    library = context.library()
    profile = library.payers.get(payer_id)
    if profile is None:
        abort(404)
    overrides = [
        {
            "override": o,
            "indication": library.indications[o.indication].name,
            "criterion": next(
                (c.title for c in library.indications[o.indication].all_criteria()
                 if c.id == o.criterion),
                o.criterion,
            ),
        }
        for o in profile.overrides
        if o.indication in library.indications
    ]  # fmt: skip
    return render_template(
        "pages/reference_payer.html",
        profile=profile,
        overrides=overrides,
        products=library.products,
        payers=sorted(library.payers.values(), key=lambda p: p.name.lower()),
    )


@bp.get("/reference/products")
@requires(Permission.REFERENCE_READ)
def products() -> str:
    library = context.library()
    return render_template(
        "pages/reference_products.html",
        products=sorted(library.products.values(), key=lambda p: p.name.lower()),
        payers=sorted(library.payers.values(), key=lambda p: p.name.lower()),
        catalog_as_of=library.catalog_as_of,
    )


@bp.get("/reference/products/<product_id>")
@requires(Permission.REFERENCE_READ)
def product(product_id: str) -> str:
    library = context.library()
    item = library.products.get(product_id)
    if item is None:
        abort(404)
    hcpcs = library.hcpcs.get(item.hcpcs) if library.hcpcs is not None else None
    labelled = [
        library.indications[i].name if i in library.indications else i
        for i in item.labeled_indications
    ]
    return render_template(
        "pages/reference_product.html",
        product=item,
        hcpcs=hcpcs,
        hcpcs_source=library.hcpcs.source_of(hcpcs) if library.hcpcs and hcpcs else "",
        labelled=labelled,
        catalog_as_of=library.catalog_as_of,
    )
