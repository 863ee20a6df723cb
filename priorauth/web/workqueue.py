"""The work queue: what needs each person, built from the cases they reach.

Plain values for the dashboard template: sections of items, each naming a case,
what is due and when, most urgent first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from priorauth.rules.assessment import VERDICT_LABELS, Verdict
from priorauth.store import casework
from priorauth.store.models import CaseRecord, CaseState, Decision, DecisionOutcome, Role
from priorauth.store.signatures import current_signature

RENEWAL_WINDOWS_DAYS = (30, 60)


@dataclass(frozen=True)
class Item:
    case_id: int
    patient: str
    what: str
    when: str = ""
    urgent: bool = False
    sort_key: str = ""


@dataclass
class Section:
    key: str
    title: str
    hint: str
    items: list[Item] = field(default_factory=list)


def _days(n: int) -> str:
    return f"{n} day{'' if abs(n) == 1 else 's'}"


def _last_decision(record: CaseRecord, outcome: DecisionOutcome) -> Decision | None:
    for decision in reversed(record.decisions):
        if decision.outcome == outcome.value:
            return decision
    return None


def build(
    session: Session,
    records: Sequence[CaseRecord],
    *,
    role: str,
    today: dt.date,
    decision_days: int,
    names: Mapping[int | None, str],
    verdicts: Mapping[int, Verdict],
) -> list[Section]:
    """The sections of the work queue for a role, over the cases the person reaches.

    ``verdicts`` are the cases' current verdicts (``casefile.current_assessments``).
    """
    to_complete = Section(
        "to_complete",
        "Cases to complete",
        "Drafts: finish the form, then send the letter for signature.",
    )
    to_sign = Section(
        "to_sign",
        "Letters to sign",
        "Read each letter, then sign it; it goes back to billing to submit.",
    )
    to_submit = Section("to_submit", "Signed, ready to submit", "Send the packet to the payer.")
    pended = Section(
        "pended", "Payer asked for more information", "Add what the payer asked for, by its date."
    )
    overdue = Section(
        "overdue",
        "Submissions without a decision",
        f"No decision recorded more than {_days(decision_days)} after the submission: "
        "call the payer.",
    )
    appeals = Section("appeals", "Denials and appeal deadlines", "Prepare the appeal in time.")
    renewals = Section(
        "renewals",
        "Authorizations ending within 60 days",
        "Start the continuation request before the authorization runs out.",
    )
    units = Section("units", "Units used of units approved", "From the usage recorded.")

    for record in records:
        name = names.get(record.id, "")
        state = record.state
        if state == CaseState.DRAFT:
            verdict = verdicts.get(record.id)
            to_complete.items.append(
                Item(record.id, name, VERDICT_LABELS[verdict] if verdict else "Draft")
            )
        elif state == CaseState.READY_FOR_SIGNATURE:
            to_sign.items.append(Item(record.id, name, f"Version {record.content_version}"))
        elif state == CaseState.SIGNED and current_signature(record) is not None:
            to_submit.items.append(Item(record.id, name, "Signed"))
        elif state == CaseState.PENDED:
            decision = _last_decision(record, DecisionOutcome.PENDED)
            due = decision.respond_by if decision else None
            pended.items.append(
                Item(
                    record.id,
                    name,
                    "Information requested",
                    f"due {due.isoformat()}" if due else "",
                    urgent=bool(due and due <= today + dt.timedelta(days=7)),
                    sort_key=due.isoformat() if due else "9999",
                )
            )
        elif state == CaseState.SUBMITTED:
            submission = casework.last_submission(record)
            if submission is not None:
                waited = (today - submission.submitted_on).days
                if waited > decision_days:
                    overdue.items.append(
                        Item(
                            record.id,
                            name,
                            ("Appeal" if submission.appeal else "Request")
                            + f" submitted {submission.submitted_on.isoformat()}",
                            f"{_days(waited)} ago",
                            urgent=True,
                            sort_key=submission.submitted_on.isoformat(),
                        )
                    )
        elif state == CaseState.DENIED:
            decision = _last_decision(record, DecisionOutcome.DENIED)
            deadline = decision.respond_by if decision else None
            if deadline is None:
                when, urgent = "no appeal deadline recorded", False
            elif deadline < today:
                when, urgent = f"deadline {deadline.isoformat()} has passed", True
            else:
                left = (deadline - today).days
                when, urgent = f"appeal by {deadline.isoformat()} ({_days(left)} left)", left <= 14
            appeals.items.append(
                Item(
                    record.id,
                    name,
                    "Denied",
                    when,
                    urgent=urgent,
                    sort_key=deadline.isoformat() if deadline else "9999",
                )
            )
        elif state == CaseState.APPROVED:
            approval = casework.current_approval(record)
            if approval is None:
                continue
            if approval.end_date is not None:
                left = (approval.end_date - today).days
                if left <= RENEWAL_WINDOWS_DAYS[-1]:
                    renewals.items.append(
                        Item(
                            record.id,
                            name,
                            f"Authorization {approval.authorization_number or ''}".strip(),
                            f"ends {approval.end_date.isoformat()}"
                            + (f" ({_days(left)} left)" if left >= 0 else " (ended)"),
                            urgent=left <= RENEWAL_WINDOWS_DAYS[0],
                            sort_key=approval.end_date.isoformat(),
                        )
                    )
            if approval.approved_units:
                used = casework.units_used(session, approval.id)
                units.items.append(
                    Item(
                        record.id,
                        name,
                        f"{used} of {approval.approved_units} units used",
                        f"{approval.approved_units - used} left"
                        if used <= approval.approved_units
                        else f"{used - approval.approved_units} past the approved total",
                        urgent=used >= approval.approved_units * 0.9,
                    )
                )

    by_role = {
        Role.BILLING.value: [to_complete, to_submit, pended, overdue, appeals, renewals, units],
        Role.PHYSICIAN.value: [to_sign],
        Role.ADVOCATE.value: [appeals, overdue],
    }
    sections = by_role.get(role, [])
    for section in sections:
        section.items.sort(key=lambda item: (not item.urgent, item.sort_key, item.case_id))
    return sections
