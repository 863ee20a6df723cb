"""A case's history, from the audit trail: who did what to it, and when.

Built from the audit trail alone, which names people and actions and never
patient data; the people's names come from the accounts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from priorauth.store import history, repository
from priorauth.store.models import ROLE_LABELS, AuditEvent, CaseRecord, User

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
# Changes listed per page of the history; the count above says how many there are.
HISTORY_PAGE = 50
CHANGE_ACTIONS = frozenset({*HISTORY_LABELS, "case.transition"})


@dataclass(frozen=True)
class History:
    """One page of a case's changes, newest first, and what the page needs around it."""

    rows: list[dict[str, str]]
    views: int
    total: int
    number: int
    last: int


def case_history(record: CaseRecord, number: int = 1) -> History:
    """Who did what to the case, and when: page ``number`` of its changes, and its reads.

    Reads (views, previews, downloads) are counted, not listed. A page and two
    counts, whatever the length of the trail.
    """
    db = context.db()
    organization_id = record.organization_id
    total = history.count_changes(db, organization_id, record.id, CHANGE_ACTIONS)
    last = max(1, -(-total // HISTORY_PAGE))
    number = min(max(number, 1), last)
    events = history.changes_page(
        db,
        organization_id,
        record.id,
        CHANGE_ACTIONS,
        limit=HISTORY_PAGE,
        offset=(number - 1) * HISTORY_PAGE,
    )
    views = history.count_reads(db, organization_id, record.id, CHANGE_ACTIONS)
    people = {u.id: u for u in repository.list_users(db, organization_id)}
    kinds = {d.id: DOCUMENT_LABELS.get(d.kind, d.kind) for d in record.documents}
    return History([_row(e, people, kinds) for e in events], views, total, number, last)


def _row(event: AuditEvent, people: Mapping[int, User], kinds: Mapping[int, str]) -> dict[str, str]:
    if event.action == "case.transition":
        what = TRANSITION_HISTORY.get(event.detail, "Changed the case's state")
    else:
        what = HISTORY_LABELS[event.action]
        kind = kinds.get(event.document_id) if event.document_id is not None else None
        if event.action == "document.create" and kind is not None:
            what = f"Made a PDF: {kind.lower()}"
        if event.action in ("case.assign", "case.unassign"):
            # "user 7": a colleague's account, never patient data.
            named = event.detail.removeprefix("user ")
            colleague = people.get(int(named)) if named.isdigit() and len(named) < 10 else None
            if colleague is not None:
                verb = "Assigned" if event.action == "case.assign" else "Unassigned"
                what = f"{verb} {colleague.name}"
    if event.outcome != "ok":
        what = f"{what} ({OUTCOME_NOTES.get(event.outcome, event.outcome)})"
    person = people.get(event.user_id) if event.user_id is not None else None
    return {
        "when": event.at.strftime("%Y-%m-%d %H:%M UTC"),
        "who": person.name if person else "Someone outside the organization",
        "role": ROLE_LABELS.get(event.role, event.role or "")  # type: ignore[call-overload]
        if event.role
        else "",
        "what": what,
        "outcome": event.outcome,
    }
