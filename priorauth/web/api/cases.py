"""Cases over the API: list, read, create, update (with the version check), assessment.

The same permission checks (``permissions.requires`` / ``case_action``) and audit
events as the web pages, and the same store and assessment functions
(``casefile``); a view reads the body, calls them, and answers JSON.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from priorauth.domain.case import Case
from priorauth.rules.assessment import Assessment
from priorauth.rules.engine import case_problems
from priorauth.store import repository
from priorauth.store.models import CaseRecord, CaseState
from priorauth.store.repository import EditConflict, NotEditable
from priorauth.store.workflow import EDITABLE_STATES

from .. import casefile, context
from ..permissions import Permission, case_action, reach, requires
from . import errors
from .errors import FieldError, fail
from .schemas import (
    API_PREFIX,
    CaseOut,
    CasePage,
    CaseSummary,
    CaseUpdate,
    Pagination,
    answers,
    read_body,
    read_query,
    spec,
)

bp = Blueprint("api_cases", __name__, url_prefix=API_PREFIX)
errors.register(bp)
TAGS = ["cases"]
# Problems that leave nothing to assess (as ``priorauth assess`` refuses them).
FATAL_FIELDS = frozenset({"indication_id", "regimen.product_id", "coverage.payer_profile"})


def summary(record: CaseRecord) -> CaseSummary:
    return CaseSummary(
        id=record.id,
        state=record.state,
        indication_id=record.indication_id,
        request_type=record.request_type,
        version=record.version_id,
        content_version=record.content_version,
        continues_case_id=record.continues_case_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _case_out(record: CaseRecord, status: int = 200) -> Response:
    body = CaseOut(**summary(record).model_dump(), case=record.data)
    response = jsonify(body.model_dump(mode="json"))
    response.status_code = status
    return response


def _check_against_definitions(case: Case, prefix: str = "") -> None:
    """422 when the case names an indication, product or payer profile that is not known."""
    fatal = [p for p in case_problems(case, context.library()) if p.field in FATAL_FIELDS]
    if fatal:
        fail(
            422,
            "The case does not fit the definitions.",
            [FieldError(field=f"{prefix}{p.field}", message=p.message) for p in fatal],
        )


@bp.get("/cases")
@requires(Permission.CASE_LIST, action="api.cases.list")
@spec.validate(query=Pagination, resp=answers(CasePage, 403, 422), tags=TAGS, skip_validation=True)
def list_cases() -> Response:
    """The cases within your reach, most recently changed first, a page at a time."""
    paging = read_query(Pagination)
    who = context.user()
    records = repository.list_cases(context.db(), who.organization_id, reach(who))
    start = (paging.page - 1) * paging.per_page
    page = CasePage(
        items=[summary(r) for r in records[start : start + paging.per_page]],
        page=paging.page,
        per_page=paging.per_page,
        total=len(records),
    )
    context.audit("api.cases.list", "ok", detail=f"{len(page.items)} cases")
    return jsonify(page.model_dump(mode="json"))


@bp.post("/cases")
@requires(Permission.CASE_CREATE, action="case.create")
@spec.validate(
    json=Case,
    resp=answers(CaseOut, 400, 403, 413, 415, 422, ok_status=201),
    tags=TAGS,
    skip_validation=True,
)
def create() -> Response:
    """Create a case from its JSON (the shape `priorauth schema` prints); it is assessed."""
    case = read_body(Case)
    _check_against_definitions(case)
    who = context.user()
    db = context.db()
    record = repository.create_case(
        db,
        organization_id=who.organization_id,
        user_id=who.id,
        data=case.model_dump(mode="json"),
        assessment=casefile.assess(case).model_dump(mode="json"),
    )
    context.record("case.create", "ok", case_id=record.id, detail="api")
    db.commit()
    return _case_out(record, 201)


@bp.get("/cases/<int(max=2147483647):case_id>")
@case_action(Permission.CASE_READ, action="case.view")
@spec.validate(resp=answers(CaseOut, 403, 404), tags=TAGS, skip_validation=True)
def read(record: CaseRecord) -> Response:
    """A case: its state, its versions and its data."""
    return _case_out(record)


@bp.put("/cases/<int(max=2147483647):case_id>")
@case_action(Permission.CASE_EDIT, action="case.edit")
@spec.validate(
    json=CaseUpdate,
    resp=answers(CaseOut, 400, 403, 404, 409, 413, 415, 422),
    tags=TAGS,
    skip_validation=True,
)
def update(record: CaseRecord) -> Response:
    """Replace a case with a new version; 409 when `version` is not the current one."""
    if CaseState(record.state) not in EDITABLE_STATES:
        fail(409, f"A case in state {record.state} cannot be edited.")
    change = read_body(CaseUpdate)
    _check_against_definitions(change.case, "case.")
    db = context.db()
    try:
        superseded = repository.update_case(
            db,
            record,
            expected_version=change.version,
            user_id=context.user().id,
            data=change.case.model_dump(mode="json"),
            assessment=casefile.assess(change.case).model_dump(mode="json"),
        )
    except NotEditable:
        db.rollback()
        fail(409, f"A case in state {record.state} cannot be edited.")
    except EditConflict as conflict:
        db.rollback()
        context.record("case.update", "conflict", case_id=record.id)
        db.commit()
        fail(
            409,
            f"The case was changed by someone else: the current version is "
            f"{conflict.current_version}, not {change.version}. Read it again, then send "
            "your change with the current version.",
            [FieldError(field="version", message="not the current version")],
        )
    context.record("case.update", "ok", case_id=record.id, detail="api")
    casefile.record_superseded(superseded)
    db.commit()
    return _case_out(record)


@bp.get("/cases/<int(max=2147483647):case_id>/assessment")
@case_action(Permission.CASE_READ, action="case.assessment")
@spec.validate(resp=answers(Assessment, 403, 404, 409), tags=TAGS, skip_validation=True)
def assessment(record: CaseRecord) -> Response:
    """The case's current assessment: every criterion, the dose, the findings, the verdict."""
    case = casefile.stored_case(record)
    if case is None or case.indication_id not in context.library().indications:
        fail(409, "The stored case no longer matches the installed definitions; edit it.")
    result = casefile.assessment_of(record, case)
    return jsonify(result.model_dump(mode="json"))
