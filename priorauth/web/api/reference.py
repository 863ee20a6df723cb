"""What a case is made from, over the API: indications, payer profiles, products; drafts."""

from __future__ import annotations

from flask import Blueprint, jsonify, url_for
from werkzeug.wrappers import Response

from priorauth.rules.schema import IndicationDefinition
from priorauth.store import drafts
from priorauth.store.models import IntakeDraft

from .. import context
from ..intake import formdata_for_case
from ..permissions import Permission, draft_action, requires
from . import errors
from .errors import FieldError, fail
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


def _draft_summary(draft: IntakeDraft) -> DraftSummary:
    return DraftSummary(
        id=draft.id,
        indication_id=draft.indication_id,
        request_type=draft.request_type,
        continues_case_id=draft.continues_case_id,
        steps_saved=list(draft.steps_saved),
        version=draft.version_id,
        updated_at=draft.updated_at,
    )


@bp.get("/drafts")
@requires(Permission.CASE_CREATE, action="draft.list")
@spec.validate(resp=answers(list[DraftSummary], 403), tags=["drafts"], skip_validation=True)
def list_drafts() -> Response:
    """The organization's unfinished intakes, most recently changed first."""
    found = drafts.list_drafts(context.db(), context.user().organization_id)
    context.audit("draft.list", "ok", detail=f"{len(found)} drafts")
    return jsonify([_draft_summary(d).model_dump(mode="json") for d in found])


@bp.get("/drafts/<int(max=2147483647):draft_id>")
@draft_action(Permission.CASE_CREATE, action="draft.view")
@spec.validate(resp=answers(DraftOut, 403, 404), tags=["drafts"], skip_validation=True)
def read_draft(draft: IntakeDraft) -> Response:
    """An unfinished intake: the form's values as typed (finish it on the web)."""
    return jsonify(_draft_out(draft).model_dump(mode="json"))


def _draft_out(draft: IntakeDraft) -> DraftOut:
    return DraftOut(
        **_draft_summary(draft).model_dump(),
        formdata=draft.formdata,
        continue_at=url_for("drafts.step", draft_id=draft.id, step="patient"),
    )


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
    indication_id = posted.indication_id or posted.case.get("indication_id")
    if indication_id is not None and indication_id not in context.library().indications:
        field = "indication_id" if posted.indication_id else "case.indication_id"
        fail(422, "", [FieldError(field=field, message=f"unknown indication {indication_id!r}")])
    try:
        # The same mapping that fills the edit form from a stored case.
        pairs = list(formdata_for_case(posted.case).items(multi=True))
    except (AttributeError, TypeError, ValueError, KeyError):
        fail(422, "", [FieldError(field="case", message="a part of the case has the wrong shape")])
    pairs = [(k, v) for k, v in pairs if k not in ("request_type", "form_request_type")]
    pairs += [("request_type", posted.request_type.value)]
    who = context.user()
    db = context.db()
    draft = drafts.create_draft(
        db,
        organization_id=who.organization_id,
        user_id=who.id,
        formdata=pairs,
        indication_id=indication_id,
        request_type=posted.request_type.value,
    )
    context.record("draft.create", "ok", detail=f"draft {draft.id} api")
    db.commit()
    response = jsonify(_draft_out(draft).model_dump(mode="json"))
    response.status_code = 201
    return response
