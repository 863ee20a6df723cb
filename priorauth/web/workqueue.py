"""The work queue: what needs each person, from the cases they reach.

Plain values for the dashboard template: sections of items, each naming a case,
what is due and when, most urgent first. Each section is one indexed query on
the cases' list columns (``queues.queue``), its first items and its count,
however many cases there are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from priorauth.rules.assessment import VERDICT_LABELS, Verdict
from priorauth.rules.policy_change import VersionChange, change_label
from priorauth.store import listing, queues, rechecks
from priorauth.store.models import CaseRecord, CaseState, Role
from priorauth.store.queues import QueueEntry, QueueRule
from priorauth.store.signatures import SIGNED_EXCEPTION, current_signature

from .signing_terms import needs_resigning

RENEWAL_WINDOWS_DAYS = (30, 60)
PENDED_URGENT_DAYS = 7
APPEAL_URGENT_DAYS = 14
# Items shown per section; the section's count says how many there are in all.
SECTION_ITEMS = 10


@dataclass(frozen=True)
class Item:
    case_id: int
    patient: str
    what: str
    when: str = ""
    urgent: bool = False


@dataclass
class Section:
    key: str
    title: str
    hint: str
    items: list[Item] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        """How many items of the section are not shown."""
        return max(0, self.total - len(self.items))


def _days(n: int) -> str:
    return f"{n} day{'' if abs(n) == 1 else 's'}"


Verdicts = Callable[[Sequence[CaseRecord]], Mapping[int, Verdict | None]]
Describe = Callable[[QueueEntry], Item]


def _draft(verdicts: Mapping[int, Verdict | None]) -> Describe:
    def describe(entry: QueueEntry) -> Item:
        verdict = verdicts.get(entry.record.id)
        what = VERDICT_LABELS[verdict] if verdict else "Draft"
        resign = needs_resigning(entry.record)
        if resign:
            what = f"{what}; the signed letter was superseded: it needs signing again"
        return Item(entry.record.id, entry.record.patient_name, what, urgent=resign)

    return describe


def _to_sign(entry: QueueEntry) -> Item:
    record = entry.record
    return Item(record.id, record.patient_name, f"Version {record.content_version}")


def _signed(entry: QueueEntry) -> Item:
    signature = current_signature(entry.record)
    exception = signature is not None and signature.document.kind == SIGNED_EXCEPTION
    what = "Signed medical-exception request" if exception else "Signed"
    return Item(entry.record.id, entry.record.patient_name, what)


def _signed_not_ready(entry: QueueEntry) -> Item:
    # Signed as a standard letter, but the rules now judge it not ready (or the
    # signature was superseded): it is not to be submitted as it stands.
    return Item(
        entry.record.id,
        entry.record.patient_name,
        "Signed, but not ready: complete it or sign it as a medical exception",
        urgent=True,
    )


def _pended(entry: QueueEntry) -> Item:
    due = entry.record.respond_by
    when = f"due {due.isoformat()}" if due else ""
    return Item(
        entry.record.id, entry.record.patient_name, "Information requested", when, entry.urgent
    )


def _overdue(today: dt.date) -> Describe:
    def describe(entry: QueueEntry) -> Item:
        record = entry.record
        submitted = record.submitted_on
        assert submitted is not None  # the section's query asks for one
        what = ("Appeal" if record.submitted_appeal else "Request") + (
            f" submitted {submitted.isoformat()}"
        )
        return Item(
            record.id, record.patient_name, what, f"{_days((today - submitted).days)} ago", True
        )

    return describe


def _appeal(today: dt.date) -> Describe:
    def describe(entry: QueueEntry) -> Item:
        deadline = entry.record.respond_by
        if deadline is None:
            when = "no appeal deadline recorded"
        elif deadline < today:
            when = f"deadline {deadline.isoformat()} has passed"
        else:
            left = (deadline - today).days
            when = f"appeal by {deadline.isoformat()} ({_days(left)} left)"
        return Item(entry.record.id, entry.record.patient_name, "Denied", when, entry.urgent)

    return describe


def _renewal(today: dt.date) -> Describe:
    def describe(entry: QueueEntry) -> Item:
        record = entry.record
        end = record.authorization_end
        assert end is not None  # the section's query asks for one
        left = (end - today).days
        return Item(
            record.id,
            record.patient_name,
            f"Authorization {record.authorization_number or ''}".strip(),
            f"ends {end.isoformat()}" + (f" ({_days(left)} left)" if left >= 0 else " (ended)"),
            entry.urgent,
        )

    return describe


def _units(entry: QueueEntry) -> Item:
    record = entry.record
    approved = record.approved_units or 0
    return Item(
        record.id,
        record.patient_name,
        f"{entry.units_used} of {approved} units used",
        f"{approved - entry.units_used} left"
        if entry.units_used <= approved
        else f"{entry.units_used - approved} past the approved total",
        entry.urgent,
    )


# Who sees cases a new policy version affects: those who complete and appeal them.
RECHECK_ROLES = frozenset({Role.BILLING.value, Role.ADVOCATE.value})


def shows_rechecks(role: str) -> bool:
    return role in RECHECK_ROLES


def _recheck_item(found: rechecks.Recheck) -> Item:
    before, after = (verdict_words(v) for v in (found.verdict_before, found.verdict_after))
    files = "; ".join(
        change_label(VersionChange(c["key"], c["before"], c["after"])) for c in found.changes
    )
    return Item(
        found.case_id,
        found.patient,
        f"Was {before.lower()}, now {after.lower()}: {files}",
        f"found {found.found_at.date().isoformat()}",
        urgent=True,
    )


def verdict_words(value: str) -> str:
    try:
        return VERDICT_LABELS[Verdict(value)]
    except ValueError:
        return value


def build(
    session: Session,
    scope: listing.Scope | None,
    *,
    role: str,
    today: dt.date,
    decision_days: int,
    verdicts: Verdicts,
) -> list[Section]:
    """The sections of the work queue for a role, over the cases in ``scope``.

    ``verdicts`` gives the current verdicts of the draft cases shown (refreshing
    stale ones): the queue and the case page never disagree.
    """
    S = CaseState
    day = dt.timedelta(days=1)
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
    to_resign = Section(
        "to_resign",
        "Signed, but not to be submitted",
        "Not ready under the rules: complete the case, or have it signed as a medical exception.",
    )
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
    policy = Section(
        "rechecks",
        "Policy changed: re-check",
        "A definition or payer profile these cases were assessed under has a new version, "
        "and the verdict changed: read the case again before it goes on.",
    )
    rules: dict[str, tuple[QueueRule, Describe | None]] = {
        "to_complete": (QueueRule(S.DRAFT, with_signatures=True), None),
        "to_sign": (QueueRule(S.READY_FOR_SIGNATURE), _to_sign),
        "to_submit": (
            QueueRule(S.SIGNED, needs_current_signature=True, with_signatures=True),
            _signed,
        ),
        "to_resign": (QueueRule(S.SIGNED, lacks_current_signature=True), _signed_not_ready),
        "pended": (
            QueueRule(
                S.PENDED,
                due="respond_by",
                urgent_until=today + PENDED_URGENT_DAYS * day,
            ),
            _pended,
        ),
        "overdue": (
            # Waited more than decision_days: submitted before today - decision_days.
            QueueRule(
                S.SUBMITTED,
                due="submitted_on",
                due_until=today - (decision_days + 1) * day,
                always_urgent=True,
            ),
            _overdue(today),
        ),
        "appeals": (
            QueueRule(S.DENIED, due="respond_by", urgent_until=today + APPEAL_URGENT_DAYS * day),
            _appeal(today),
        ),
        "renewals": (
            QueueRule(
                S.APPROVED,
                due="authorization_end",
                due_until=today + RENEWAL_WINDOWS_DAYS[-1] * day,
                urgent_until=today + RENEWAL_WINDOWS_DAYS[0] * day,
            ),
            _renewal(today),
        ),
        "units": (QueueRule(S.APPROVED, units=True), _units),
    }
    by_role = {
        Role.BILLING.value: [
            policy,
            to_complete,
            to_resign,
            to_submit,
            pended,
            overdue,
            appeals,
            renewals,
            units,
        ],
        Role.PHYSICIAN.value: [to_sign],
        Role.ADVOCATE.value: [policy, appeals, overdue],
    }
    sections = by_role.get(role, [])
    if scope is None:
        return sections
    for section in sections:
        if section is policy:
            found, section.total = rechecks.open_rechecks(session, scope, limit=SECTION_ITEMS)
            section.items = [_recheck_item(item) for item in found]
            continue
        rule, describe = rules[section.key]
        entries, section.total = queues.queue(session, scope, rule, limit=SECTION_ITEMS)
        if describe is None:
            describe = _draft(verdicts([entry.record for entry in entries]))
        section.items = [describe(entry) for entry in entries]
    return sections
