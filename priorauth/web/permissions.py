"""Who may do what: the permission table, and the decorators every view goes through.

Three questions, answered in this order for every request:

1. Is the person logged in? (``check_login``, for every endpoint but the public ones)
2. Does their role carry the permission the endpoint declares? (``ROLE_PERMISSIONS``)
   No: 403.
3. For a case: is it their organization's (no: 404, the same as a case that does
   not exist, so nothing is learnt about other clinics), and within their role's
   reach (``ROLE_CASE_SCOPE``: a physician reaches the cases they prescribe or are
   assigned to, an advocate those assigned to them)? No: 403.

Workflow transitions add a fourth: ``priorauth.store.workflow.TRANSITIONS`` says
which roles each belongs to and from which states (wrong state: 409).

Every endpoint declares its permission with ``@requires`` or ``@case_action``;
``check_every_endpoint_declares`` fails the application's start-up otherwise,
and tests/web/test_authorization.py walks the URL map against an explicit table.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, g, request
from flask_login import current_user

from priorauth.store import repository
from priorauth.store.drafts import get_draft
from priorauth.store.models import CaseRecord, Role
from priorauth.store.repository import CaseScope, Reach

from . import context
from .sessions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


class Permission(StrEnum):
    CASE_LIST = "case.list"  # the dashboard's list of cases
    CASE_CREATE = "case.create"
    CASE_READ = "case.read"  # the assessment, the letter preview, stored documents
    CASE_EDIT = "case.edit"  # the intake form: the case's clinical and coverage data
    NARRATIVE_EDIT = "narrative.edit"  # the letter's narrative sections
    LETTER_RENDER = "letter.render"  # store a (draft) letter PDF with the case
    COST_SUMMARY = "cost_summary.read"
    SIGN = "case.sign"
    TRANSITION = "case.transition"  # the workflow table decides which ones
    ASSIGN = "case.assign"
    USAGE_RECORD = "usage.record"
    DENIAL_RECORD = "denial.record"  # the payer's denial notice, for the appeal
    APPEAL_PREPARE = "appeal.prepare"  # store the appeal letter and peer-to-peer sheet PDFs
    ATTACHMENTS_MANAGE = "attachments.manage"  # upload and remove files for the packet
    PACKET_ASSEMBLE = "packet.assemble"  # store the fax packet PDF
    VERIFY = "document.verify"
    REFERENCE_READ = "reference.read"
    ACCOUNTS_MANAGE = "accounts.manage"
    AUDIT_READ = "audit.read"
    PAYERS_READ = "payers.read"
    PAYERS_EDIT = "payers.edit"  # the organization's own versions of payer profiles
    DIRECTORY_MANAGE = "directory.manage"  # the clinic's prescribers, payers and letterhead
    SESSION = "session"  # log out: anyone logged in


P = Permission
_EVERYONE = frozenset({P.SESSION, P.VERIFY, P.REFERENCE_READ})

# The table. Billing staff run the case; physicians review, write the narrative
# and sign; advocates record denials and prepare appeals on the cases assigned
# to them; administrators run accounts and payer data and make no clinical edits.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.BILLING: _EVERYONE
    | {
        P.CASE_LIST,
        P.CASE_CREATE,
        P.CASE_READ,
        P.CASE_EDIT,
        P.LETTER_RENDER,
        P.COST_SUMMARY,
        P.TRANSITION,
        P.ASSIGN,
        P.USAGE_RECORD,
        P.DENIAL_RECORD,
        P.APPEAL_PREPARE,
        P.ATTACHMENTS_MANAGE,
        P.PACKET_ASSEMBLE,
        P.DIRECTORY_MANAGE,
    },
    Role.PHYSICIAN: _EVERYONE
    | {
        P.CASE_LIST,
        P.CASE_READ,
        P.NARRATIVE_EDIT,
        P.LETTER_RENDER,
        P.COST_SUMMARY,
        P.SIGN,
        P.TRANSITION,
        P.APPEAL_PREPARE,
    },
    Role.ADVOCATE: _EVERYONE
    | {
        P.CASE_LIST,
        P.CASE_READ,
        P.COST_SUMMARY,
        P.TRANSITION,
        P.DENIAL_RECORD,
        P.APPEAL_PREPARE,
        P.ATTACHMENTS_MANAGE,
        P.PACKET_ASSEMBLE,
    },
    Role.ADMIN: _EVERYONE
    | {P.ACCOUNTS_MANAGE, P.AUDIT_READ, P.PAYERS_READ, P.PAYERS_EDIT, P.DIRECTORY_MANAGE},
}

# Which of the organization's cases each role reaches at all.
ROLE_CASE_SCOPE: dict[Role, CaseScope] = {
    Role.BILLING: CaseScope.ORGANIZATION,
    Role.PHYSICIAN: CaseScope.PRESCRIBED_OR_ASSIGNED,
    Role.ADVOCATE: CaseScope.ASSIGNED,
    Role.ADMIN: CaseScope.NONE,
}

# Endpoints anyone may reach without logging in.
# The API's OpenAPI document and its readable page hold no patient data.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "health.check", "api.openapi", "api.docs"})
PERMISSION_ATTRIBUTE = "priorauth_permission"
CASE_ATTRIBUTE = "priorauth_case_route"


def has(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def reach(who: context.SessionUser) -> Reach:
    try:
        scope = ROLE_CASE_SCOPE[Role(who.role)]
    except ValueError:
        scope = CaseScope.NONE
    return Reach(
        organization_id=who.organization_id, user_id=who.id, scope=scope, npi=who.npi or None
    )


def may(permission: Permission, record: CaseRecord | None = None) -> bool:
    """For templates: may the current user do this (to this case)?"""
    if not current_user.is_authenticated:
        return False
    who = context.user()
    if not has(who.role, permission):
        return False
    if record is None:
        return True
    return repository.within_reach(context.db(), record, reach(who))


def _refuse(action: str, status: int, case_id: int | None = None, **ids: int | None) -> None:
    context.audit(action, "refused", case_id=case_id, document_id=ids.get("document_id"))
    abort(status)


def requires(permission: Permission, *, action: str | None = None) -> Callable[[F], F]:
    """Declare an endpoint's permission; refuse (403, audited) a role without it."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not has(context.user().role, permission):
                _refuse(action or f"{request.endpoint}", 403)
            return view(*args, **kwargs)

        setattr(wrapper, PERMISSION_ATTRIBUTE, permission)
        return wrapper  # type: ignore[return-value]

    return decorate


def case_action(
    permission: Permission, *, action: str, page_action: str | None = None
) -> Callable[[F], F]:
    """Declare a case endpoint: check role, organization and reach; audit the outcome.

    The view receives the case record in place of ``case_id``. A view that changes
    the case records its own event in its transaction; any other request on a
    case is recorded here after the view answers, refusals included, so no
    request on a case goes unrecorded. ``page_action`` names a GET of a route
    that changes the case on POST (opening the form is not the change).
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(case_id: int, **kwargs: Any) -> Any:
            who = context.user()
            document_id = kwargs.get("document_id")
            if not has(who.role, permission):
                _refuse(action, 403, case_id, document_id=document_id)
            record = repository.get_case(context.db(), who.organization_id, case_id)
            if record is None:
                _refuse(action, 404, case_id, document_id=document_id)
            assert record is not None
            if not repository.within_reach(context.db(), record, reach(who)):
                _refuse(action, 403, case_id, document_id=document_id)
            reading = request.method in ("GET", "HEAD") and page_action is not None
            g.priorauth_case_action = page_action if reading else action
            return view(record, **kwargs)

        setattr(wrapper, PERMISSION_ATTRIBUTE, permission)
        setattr(wrapper, CASE_ATTRIBUTE, True)
        return wrapper  # type: ignore[return-value]

    return decorate


def draft_action(
    permission: Permission, *, action: str, page_action: str | None = None
) -> Callable[[F], F]:
    """Declare an intake draft endpoint: check role and organization; audit the outcome.

    The view receives the draft in place of ``draft_id``. A draft of another
    organization answers 404, like one that does not exist. Requests are audited
    like a case's (``detail`` names the draft; a draft has no case yet).
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(draft_id: int, **kwargs: Any) -> Any:
            who = context.user()
            detail = f"draft {draft_id}"
            if not has(who.role, permission):
                context.audit(action, "refused", detail=detail)
                abort(403)
            draft = get_draft(context.db(), who.organization_id, draft_id)
            if draft is None:
                context.audit(action, "refused", detail=detail)
                abort(404)
            reading = request.method in ("GET", "HEAD") and page_action is not None
            g.priorauth_draft_action = page_action if reading else action
            return view(draft, **kwargs)

        setattr(wrapper, PERMISSION_ATTRIBUTE, permission)
        return wrapper  # type: ignore[return-value]

    return decorate


def _outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status == 409:
        return "conflict"
    if status in (401, 403, 404, 429):
        return "refused"
    if status < 500:
        return "invalid"
    return "failed"


def audit_unrecorded_case_request(response: Any) -> Any:
    """After a case or draft request, record it if the view did not (reads, invalid input)."""
    draft_action_name = g.pop("priorauth_draft_action", None)
    if draft_action_name is not None and not g.get("priorauth_audited"):
        draft_id = (request.view_args or {}).get("draft_id")
        outcome = _outcome(response.status_code)
        context.audit(draft_action_name, outcome, detail=f"draft {draft_id}")
        return response
    action = g.pop("priorauth_case_action", None)
    if action is None or g.get("priorauth_audited"):
        return response
    case_id = (request.view_args or {}).get("case_id")
    document_id = (request.view_args or {}).get("document_id")
    context.audit(action, _outcome(response.status_code), case_id=case_id, document_id=document_id)
    return response


def check_login() -> Any:
    """Every endpoint but the public ones needs a logged-in user."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def check_every_endpoint_declares(app: Flask) -> None:
    """Refuse to start when a view forgot to declare its permission."""
    missing = sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in PUBLIC_ENDPOINTS and not hasattr(view, PERMISSION_ATTRIBUTE)
    )
    if missing:
        raise RuntimeError(f"endpoints without a declared permission: {', '.join(missing)}")


def endpoint_permission(app: Flask, endpoint: str) -> Permission | None:
    return getattr(app.view_functions[endpoint], PERMISSION_ATTRIBUTE, None)
