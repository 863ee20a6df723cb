"""What a case is made from, over the API: indications, payer profiles, products; drafts."""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from priorauth.rules.schema import IndicationDefinition
from priorauth.store import drafts
from priorauth.store.models import IntakeDraft

from .. import context
from ..permissions import Permission, draft_action, requires
from . import errors
from .drafting import draft_out, draft_summary, start_draft
from .errors import fail
from .schemas import (
    API_PREFIX,
    DraftIn,
    DraftOut,
    DraftSummary,
    IndicationSummary,
    PayerSummary,
    ProductSummary,
    answers,
    read_body,
    spec,
)

bp = Blueprint("api_reference", __name__, url_prefix=API_PREFIX)
errors.register(bp)


@bp.get("/indications")
@requires(Permission.REFERENCE_READ)
@spec.validate(resp=answers(list[IndicationSummary]), tags=["definitions"], skip_validation=True)
def indications() -> Response:
    """Every indication the app knows, with its ICD-10-CM codes."""
    return jsonify(
        [
            IndicationSummary(
                id=d.id, name=d.name, coverage=d.coverage.value, codes=[c.code for c in d.codes]
            ).model_dump()
            for d in sorted(context.library().indications.values(), key=lambda d: d.name)
        ]
    )


@bp.get("/indications/<indication_id>")
@requires(Permission.REFERENCE_READ)
@spec.validate(resp=answers(IndicationDefinition, 404), tags=["definitions"], skip_validation=True)
def indication(indication_id: str) -> Response:
    """One indication's whole definition: questions, criteria, dosing, sources."""
    definition = context.library().indications.get(indication_id)
    if definition is None:
        fail(404, "No such indication.")
    return jsonify(definition.model_dump(mode="json"))


@bp.get("/payer-profiles")
@requires(Permission.REFERENCE_READ)
@spec.validate(resp=answers(list[PayerSummary]), tags=["definitions"], skip_validation=True)
def payer_profiles() -> Response:
    """The payer profiles a case may name in `coverage.payer_profile`."""
    return jsonify(
        [
            PayerSummary(
                id=p.id, name=p.name, description=p.description, as_of=p.as_of
            ).model_dump()
            for p in sorted(context.library().payers.values(), key=lambda p: p.id)
        ]
    )


@bp.get("/products")
@requires(Permission.REFERENCE_READ)
@spec.validate(resp=answers(list[ProductSummary]), tags=["definitions"], skip_validation=True)
def products() -> Response:
    """The immune globulin products a case may name in `regimen.product_id`."""
    return jsonify(
        [
            ProductSummary(
                id=p.id,
                name=p.name,
                manufacturer=p.manufacturer,
                route=str(p.route.value),
                hcpcs=p.hcpcs,
                billing_unit_mg=p.billing_unit_mg,
                concentration_percent=str(p.concentration_percent),
                vial_sizes_g=[str(v) for v in p.vial_sizes_g],
            ).model_dump()
            for p in sorted(context.library().products.values(), key=lambda p: p.id)
        ]
    )


@bp.get("/drafts")
@requires(Permission.CASE_CREATE, action="draft.list")
@spec.validate(resp=answers(list[DraftSummary], 403), tags=["drafts"], skip_validation=True)
def list_drafts() -> Response:
    """The organization's unfinished intakes, most recently changed first."""
    found = drafts.list_drafts(context.db(), context.user().organization_id)
    context.audit("draft.list", "ok", detail=f"{len(found)} drafts")
    return jsonify([draft_summary(d).model_dump(mode="json") for d in found])


@bp.get("/drafts/<int(max=2147483647):draft_id>")
@draft_action(Permission.CASE_CREATE, action="draft.view")
@spec.validate(resp=answers(DraftOut, 403, 404), tags=["drafts"], skip_validation=True)
def read_draft(draft: IntakeDraft) -> Response:
    """An unfinished intake: the form's values as typed (finish it on the web)."""
    return jsonify(draft_out(draft).model_dump(mode="json"))


@bp.post("/drafts")
@requires(Permission.CASE_CREATE, action="draft.create")
@spec.validate(
    json=DraftIn,
    resp=answers(DraftOut, 400, 403, 413, 415, 422, ok_status=201),
    tags=["drafts"],
    skip_validation=True,
)
def create_draft() -> Response:
    """Start an intake from what is known of a case; staff finish it on the web."""
    posted = read_body(DraftIn)
    given = posted.indication_id is not None
    draft = start_draft(
        posted.case,
        indication_id=posted.indication_id if given else posted.case.get("indication_id"),
        indication_field="indication_id" if given else "case.indication_id",
        request_type=posted.request_type,
        detail="api",
    )
    context.db().commit()
    response = jsonify(draft_out(draft).model_dump(mode="json"))
    response.status_code = 201
    return response
