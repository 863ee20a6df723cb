"""The workflow part of the case page: the state, the next steps, signatures, decisions.

Which transitions a person may take is ``priorauth.store.workflow``'s table; this
only lists them, with the case's submissions, decisions, units and assignments.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for

from priorauth.store import casework, repository
from priorauth.store import workflow as table
from priorauth.store.models import (
    STATE_LABELS,
    SUBMISSION_METHOD_LABELS,
    CaseRecord,
    CaseState,
    Role,
)
from priorauth.store.signatures import current_signature

from . import context
from .pages import document_label
from .permissions import Permission, has, may

ASSIGNABLE_ROLES = (Role.PHYSICIAN.value, Role.ADVOCATE.value)
# Transitions that step back or stop: shown after the step forward, as secondary buttons.
STEPS_BACK = frozenset({"return_to_draft", "close", "close_without_appeal"})


def state_label(state: str) -> str:
    return STATE_LABELS.get(CaseState(state), state)


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def panel(record: CaseRecord) -> dict[str, Any]:
    """Plain values for the workflow part of the case page."""
    who = context.user()
    db = context.db()
    users = {u.id: u for u in repository.list_users(db, record.organization_id)}
    signature = current_signature(record)
    actions = [
        {
            "name": t.name,
            "label": t.label,
            "url": url_for("signing.sign", case_id=record.id)
            if t.details == "signature"
            else url_for("workflow.transition", case_id=record.id, name=t.name),
            "direct": t.details == "",
            "primary": t.name not in STEPS_BACK,
        }
        for t in table.available(record.state, who.role)
        if not (t.needs_current_signature and signature is None)
        and not (t.needs_unsigned_content and signature is not None)
    ]
    actions.sort(key=lambda action: not action["primary"])
    approval = casework.current_approval(record)
    assigned_ids = {a.user_id for a in record.assignments}
    return {
        "state": state_label(record.state),
        "state_key": record.state,
        "version": record.version_id,
        "content_version": record.content_version,
        "actions": actions,
        "can_edit": has(who.role, Permission.CASE_EDIT)
        and CaseState(record.state) in table.EDITABLE_STATES,
        "can_edit_narrative": may(Permission.NARRATIVE_EDIT, record)
        and CaseState(record.state) in table.EDITABLE_STATES,
        "can_render": has(who.role, Permission.LETTER_RENDER),
        "can_cost": has(who.role, Permission.COST_SUMMARY),
        "can_assign": has(who.role, Permission.ASSIGN),
        "can_continue": has(who.role, Permission.CASE_CREATE)
        and record.state in (CaseState.APPROVED, CaseState.CLOSED),
        "can_record_usage": has(who.role, Permission.USAGE_RECORD)
        and record.state == CaseState.APPROVED
        and approval is not None,
        "signatures": [
            {
                "document_id": s.document_id,
                "label": document_label(s.document.kind),
                "signer": f"{s.signer_name}, {s.signer_credentials}",
                "npi": s.signer_npi,
                "signed_at": s.signed_at.strftime("%Y-%m-%d %H:%M UTC"),
                "version": s.case_version,
                "superseded": s.superseded_at is not None,
                "superseded_by": s.superseded_by_version,
            }
            for s in reversed(record.signatures)
        ],
        "submissions": [
            {
                "submitted_on": _date(s.submitted_on),
                "method": SUBMISSION_METHOD_LABELS.get(s.method, s.method),  # type: ignore[call-overload]
                "payer_reference": s.payer_reference,
                "appeal": s.appeal,
            }
            for s in reversed(record.submissions)
        ],
        "decisions": [
            {
                "outcome": STATE_LABELS.get(CaseState(d.outcome), d.outcome),
                "outcome_key": d.outcome,
                "decided_on": _date(d.decided_on),
                "authorization_number": d.authorization_number or "",
                "approved_units": d.approved_units,
                "start_date": _date(d.start_date),
                "end_date": _date(d.end_date),
                "reason": d.reason,
                "respond_by": _date(d.respond_by),
            }
            for d in reversed(record.decisions)
        ],
        "units_used": casework.units_used(db, approval.id) if approval else None,
        "usage": [
            {"id": u.id, "used_on": _date(u.used_on), "units": u.units, "reason": u.over_reason}
            for u in (casework.usage_entries(db, approval.id) if approval else [])
        ],
        "units_approved": approval.approved_units if approval else None,
        "assigned": [
            {"id": uid, "name": users[uid].name, "role": users[uid].role}
            for uid in sorted(assigned_ids)
            if uid in users
        ],
        "assignable": [
            {"id": u.id, "name": u.name, "role": u.role}
            for u in users.values()
            if u.active and u.role in ASSIGNABLE_ROLES and u.id not in assigned_ids
        ],
    }
