"""The case workflow: every transition, the states it leaves from, and the roles it belongs to.

This table is the only place that says who may move a case where. Signing
("sign") is a transition like the others, with its own page because it asks for
the password and stores the signed PDF (``signatures``).

    draft ──send_for_signature──▶ ready_for_signature ──sign──▶ signed ──submit──▶ submitted
      ▲◀────────return_to_draft─────────┘                                             │
      │                                    approve / deny / pend ◀────────────────────┘
      │   pended ──submit (nothing changed) or send_for_signature (after an edit)
      │   denied ──(edit to answer the denial)──appeal──▶ ready_for_signature → signed → submitted
      └── any edit of a signed case: back to draft, the signature superseded
    close: draft, approved, pended → closed;  close_without_appeal: denied → closed
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import CaseState, Role

S = CaseState


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[CaseState]
    target: CaseState
    roles: frozenset[Role]
    label: str
    # What the transition asks for: "" (a confirmation), "submission", "approval",
    # "denial", "pend", or "signature" (the signing page).
    details: str = ""
    # The content being sent must carry a signature that is not superseded.
    needs_current_signature: bool = False
    # The content must not be signed yet: asking for a signature of a signed
    # version, or appealing with the letter the payer denied, makes no sense.
    needs_unsigned_content: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "send_for_signature",
            frozenset({S.DRAFT, S.PENDED}),
            S.READY_FOR_SIGNATURE,
            frozenset({Role.BILLING}),
            "Send to the physician for signature",
            needs_unsigned_content=True,
        ),
        Transition(
            "return_to_draft",
            frozenset({S.READY_FOR_SIGNATURE}),
            S.DRAFT,
            frozenset({Role.BILLING, Role.PHYSICIAN}),
            "Send back to draft",
        ),
        Transition(
            "sign",
            frozenset({S.READY_FOR_SIGNATURE}),
            S.SIGNED,
            frozenset({Role.PHYSICIAN}),
            "Read and sign the letter",
            details="signature",
        ),
        Transition(
            "submit",
            frozenset({S.SIGNED, S.PENDED}),
            S.SUBMITTED,
            frozenset({Role.BILLING}),
            "Record the submission to the payer",
            details="submission",
            needs_current_signature=True,
        ),
        Transition(
            "approve",
            frozenset({S.SUBMITTED}),
            S.APPROVED,
            frozenset({Role.BILLING}),
            "Record an approval",
            details="approval",
        ),
        Transition(
            "deny",
            frozenset({S.SUBMITTED}),
            S.DENIED,
            frozenset({Role.BILLING, Role.ADVOCATE}),
            "Record a denial",
            details="denial",
        ),
        Transition(
            "pend",
            frozenset({S.SUBMITTED}),
            S.PENDED,
            frozenset({Role.BILLING}),
            "Record a request for more information",
            details="pend",
        ),
        Transition(
            "appeal",
            frozenset({S.DENIED}),
            S.READY_FOR_SIGNATURE,
            frozenset({Role.ADVOCATE, Role.BILLING}),
            "Appeal: send the updated letter for signature",
            needs_unsigned_content=True,
        ),
        Transition(
            "close",
            frozenset({S.DRAFT, S.APPROVED, S.PENDED}),
            S.CLOSED,
            frozenset({Role.BILLING}),
            "Close the case",
        ),
        Transition(
            "close_without_appeal",
            frozenset({S.DENIED}),
            S.CLOSED,
            frozenset({Role.ADVOCATE, Role.BILLING}),
            "Close without an appeal",
        ),
    )
}

# States in which the case data or the narrative may be edited. A submitted
# case waits for the payer, an approved or closed one is finished: the packet
# of record stays as it was sent.
EDITABLE_STATES = frozenset({S.DRAFT, S.READY_FOR_SIGNATURE, S.SIGNED, S.PENDED, S.DENIED})
# Where an edit moves a case: a signed letter no longer says what the case says.
STATE_AFTER_EDIT = {S.SIGNED: S.DRAFT}


def transition(name: str) -> Transition | None:
    return TRANSITIONS.get(name)


def role_may(name: str, role: str) -> bool:
    """Whether the role is one the transition belongs to (whatever the case's state)."""
    found = TRANSITIONS.get(name)
    return found is not None and role in found.roles


def leaves_from(name: str, state: str) -> bool:
    found = TRANSITIONS.get(name)
    return found is not None and state in found.sources


def available(state: str, role: str) -> list[Transition]:
    """The transitions this role may make from this state, in the table's order."""
    return [t for t in TRANSITIONS.values() if state in t.sources and role in t.roles]


def state_after_edit(state: str) -> CaseState:
    return STATE_AFTER_EDIT.get(CaseState(state), CaseState(state))
