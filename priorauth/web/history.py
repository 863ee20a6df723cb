"""A case's history, from the audit trail: who did what to it, and when.

Built from the audit trail alone, which names people and actions and never
patient data; the people's names come from the accounts.
"""

from __future__ import annotations

from priorauth.store import repository
from priorauth.store.models import ROLE_LABELS, AuditEvent, CaseRecord

from . import context
from .pages import DOCUMENT_LABELS

# What each recorded change reads as. Reads (views, previews, downloads) are counted, not listed.
HISTORY_LABELS = {
    "case.create": "Created the case",
    "case.update": "Edited the case",
    "narrative.update": "Rewrote the letter's narrative",
    "case.sign": "Signed the letter",
    "document.create": "Made a PDF",
    "signature.supersede": "The signature no longer matches the case (superseded)",
    "case.assign": "Assigned someone to the case",
    "case.unassign": "Removed an assignment",
    "usage.record": "Recorded units given",
    "denial.record": "Recorded the denial notice",
    "attachment.add": "Attached a file",
    "attachment.remove": "Removed an attachment",
    "case.continue": "Started a continuation",
}
TRANSITION_HISTORY = {
    "send_for_signature": "Sent the letter to the physician for signature",
    "return_to_draft": "Sent the case back to draft",
    "submit": "Recorded the submission to the payer",
    "approve": "Recorded the payer's approval",
    "deny": "Recorded the payer's denial",
    "pend": "Recorded the payer's request for more information",
    "appeal": "Sent the appeal for signature",
    "close": "Closed the case",
    "close_without_appeal": "Closed the case without an appeal",
}
OUTCOME_NOTES = {
    "conflict": "not done: someone changed the case first",
    "refused": "refused",
    "invalid": "not done: what was sent needed correcting",
    "failed": "failed",
}
MAX_HISTORY = 200


def case_history(record: CaseRecord) -> tuple[list[dict[str, str]], int]:
    """Who did what to the case, and when, newest first; and how many reads there were."""
    db = context.db()
    people = {u.id: u for u in repository.list_users(db, record.organization_id)}
    kinds = {d.id: DOCUMENT_LABELS.get(d.kind, d.kind) for d in record.documents}
    rows = []
    views = 0
    events: list[AuditEvent] = repository.list_events(
        db, record.organization_id, case_id=record.id, limit=2000
    )
    for event in events:
        if event.action == "case.transition":
            what = TRANSITION_HISTORY.get(event.detail, "Changed the case's state")
        elif event.action in HISTORY_LABELS:
            what = HISTORY_LABELS[event.action]
            if event.action == "document.create" and event.document_id in kinds:
                what = f"Made a PDF: {kinds[event.document_id].lower()}"
            if event.action in ("case.assign", "case.unassign"):
                # "user 7": a colleague's account, never patient data.
                named = event.detail.removeprefix("user ")
                colleague = people.get(int(named)) if named.isdigit() else None
                if colleague is not None:
                    verb = "Assigned" if event.action == "case.assign" else "Unassigned"
                    what = f"{verb} {colleague.name}"
        else:
            if event.outcome == "ok":
                views += 1
            continue
        if event.outcome != "ok":
            what = f"{what} ({OUTCOME_NOTES.get(event.outcome, event.outcome)})"
        person = people.get(event.user_id) if event.user_id is not None else None
        rows.append(
            {
                "when": event.at.strftime("%Y-%m-%d %H:%M UTC"),
                "who": person.name if person else "Someone outside the organization",
                "role": ROLE_LABELS.get(event.role, event.role or "")  # type: ignore[call-overload]
                if event.role
                else "",
                "what": what,
                "outcome": event.outcome,
            }
        )
        if len(rows) >= MAX_HISTORY:
            break
    return rows, views
