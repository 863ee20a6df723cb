"""What happens to a case after the letter: submissions, payer decisions, units, assignments.

Each function writes its record and moves the case's state in the caller's
transaction; the web layer has already checked the transition table and the
person's permission.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import (
    AttachmentRecord,
    CaseAssignment,
    CaseRecord,
    CaseState,
    Decision,
    DecisionOutcome,
    DenialRecord,
    Role,
    Submission,
    UnitUsage,
    User,
    utcnow,
)
from .repository import change_state
from .signatures import current_signature


class MissingSignature(Exception):
    """The content to be submitted has no signature that is not superseded."""


@dataclass(frozen=True)
class SubmissionDetails:
    submitted_on: dt.date
    method: str
    payer_reference: str = ""


@dataclass(frozen=True)
class DecisionDetails:
    outcome: DecisionOutcome
    decided_on: dt.date
    authorization_number: str | None = None
    approved_units: int | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    reason: str = ""
    respond_by: dt.date | None = None


def record_submission(
    session: Session, record: CaseRecord, details: SubmissionDetails, *, user_id: int
) -> Submission:
    """The signed packet went to the payer; an appeal when the case was denied before."""
    signature = current_signature(record)
    if signature is None:
        raise MissingSignature(record.id)
    denied_before = any(d.outcome == DecisionOutcome.DENIED.value for d in record.decisions)
    list(record.submissions)  # loaded before the change: no autoflush half-way
    submission = Submission(
        case_id=record.id,
        signature_id=signature.id,
        submitted_on=details.submitted_on,
        method=details.method,
        payer_reference=details.payer_reference,
        appeal=denied_before,
        created_by_id=user_id,
        created_at=utcnow(),
    )
    session.add(submission)
    record.submissions.append(submission)
    change_state(session, record, CaseState.SUBMITTED, user_id=user_id)
    return submission


def last_submission(record: CaseRecord) -> Submission | None:
    return record.submissions[-1] if record.submissions else None


def record_decision(
    session: Session, record: CaseRecord, details: DecisionDetails, *, user_id: int
) -> Decision:
    submission = last_submission(record)
    list(record.decisions)
    decision = Decision(
        case_id=record.id,
        submission_id=submission.id if submission else None,
        outcome=details.outcome.value,
        decided_on=details.decided_on,
        authorization_number=details.authorization_number,
        approved_units=details.approved_units,
        start_date=details.start_date,
        end_date=details.end_date,
        reason=details.reason,
        respond_by=details.respond_by,
        created_by_id=user_id,
        created_at=utcnow(),
    )
    session.add(decision)
    record.decisions.append(decision)
    change_state(session, record, CaseState(details.outcome.value), user_id=user_id)
    return decision


def current_approval(record: CaseRecord) -> Decision | None:
    for decision in reversed(record.decisions):
        if decision.outcome == DecisionOutcome.APPROVED.value:
            return decision
    return None


def units_used(session: Session, decision_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(UnitUsage.units), 0)).where(
            UnitUsage.decision_id == decision_id
        )
    )
    return int(total or 0)


class UsageConflict(Exception):
    """Units for that day are recorded already under this approval."""


def record_usage(
    session: Session,
    record: CaseRecord,
    *,
    used_on: dt.date,
    units: int,
    user_id: int,
    over_reason: str | None = None,
) -> UnitUsage:
    """Record one day's administration; UsageConflict when that day has its entry already."""
    approval = current_approval(record)
    if approval is None:
        raise ValueError("the case has no approval to count units against")
    same_day = session.scalar(
        select(UnitUsage.id).where(
            UnitUsage.decision_id == approval.id, UnitUsage.used_on == used_on
        )
    )
    if same_day is not None:
        raise UsageConflict(used_on)
    usage = UnitUsage(
        case_id=record.id,
        decision_id=approval.id,
        used_on=used_on,
        units=units,
        over_reason=over_reason,
        created_by_id=user_id,
        created_at=utcnow(),
    )
    session.add(usage)
    record.usage.append(usage)
    try:
        session.flush()
    except IntegrityError as error:  # the same day posted twice at once: one wins
        raise UsageConflict(used_on) from error
    return usage


def usage_entries(session: Session, decision_id: int) -> list[UnitUsage]:
    """The days of administration recorded under an approval, in date order."""
    return list(
        session.scalars(
            select(UnitUsage)
            .where(UnitUsage.decision_id == decision_id)
            .order_by(UnitUsage.used_on, UnitUsage.id)
        )
    )


def remove_usage(session: Session, record: CaseRecord, usage_id: int) -> UnitUsage | None:
    """Remove one entry of the case's (to correct it); None when it is not the case's."""
    usage = session.get(UnitUsage, usage_id)
    if usage is None or usage.case_id != record.id:
        return None
    if usage in record.usage:
        record.usage.remove(usage)
    session.delete(usage)
    session.flush()
    return usage


def assign(
    session: Session, record: CaseRecord, user: User, *, assigned_by_id: int
) -> CaseAssignment | None:
    """Assign a person of the case's organization; None when they already are."""
    if user.organization_id != record.organization_id:
        raise ValueError("only a person of the case's organization can be assigned")
    if any(a.user_id == user.id for a in record.assignments):
        return None
    assignment = CaseAssignment(
        case_id=record.id, user_id=user.id, assigned_by_id=assigned_by_id, created_at=utcnow()
    )
    session.add(assignment)
    record.assignments.append(assignment)
    session.flush()
    return assignment


def assign_advocates_on_denial(
    session: Session, record: CaseRecord, *, assigned_by_id: int
) -> list[CaseAssignment]:
    """A denied case with no advocate goes to the organization's active advocates.

    The rule that puts a denial in the advocates' queue without anyone assigning it;
    a case that has an advocate already keeps the one it has.
    """
    advocates = list(
        session.scalars(
            select(User).where(
                User.organization_id == record.organization_id,
                User.role == Role.ADVOCATE.value,
                User.active.is_(True),
            )
        )
    )
    if any(a.user_id in {u.id for u in advocates} for a in record.assignments):
        return []
    made = [assign(session, record, user, assigned_by_id=assigned_by_id) for user in advocates]
    return [assignment for assignment in made if assignment is not None]


def unassign(session: Session, record: CaseRecord, user_id: int) -> bool:
    for assignment in list(record.assignments):
        if assignment.user_id == user_id:
            record.assignments.remove(assignment)
            session.delete(assignment)
            session.flush()
            return True
    return False


# --- denials and attachments (the appeal and the packet) ------------------------------------


def last_denied_decision(record: CaseRecord) -> Decision | None:
    """The payer's last decision if it is a denial (a later approval or pend ends it)."""
    if not record.decisions:
        return None
    last = record.decisions[-1]
    return last if last.outcome == DecisionOutcome.DENIED.value else None


def current_denial(record: CaseRecord) -> DenialRecord | None:
    """The recorded notice of the case's current denial, if one was recorded for it."""
    decision = last_denied_decision(record)
    if decision is None:
        return None
    for denial in reversed(record.denials):
        if denial.decision_id == decision.id:
            return denial
    return None


def active_attachments(record: CaseRecord) -> list[AttachmentRecord]:
    """The case's uploaded files that were not removed, in the order they were added."""
    return [a for a in record.attachments if a.removed_at is None]


@dataclass(frozen=True)
class AttachmentDetails:
    """A file as the documents layer checked it (``CheckedUpload``), to be kept."""

    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    pages: int
    enclosure_id: str | None
    title: str
    data: bytes


def add_attachment(
    session: Session, record: CaseRecord, details: AttachmentDetails, *, user_id: int
) -> AttachmentRecord:
    list(record.attachments)
    attachment = AttachmentRecord(
        case_id=record.id,
        filename=details.filename,
        media_type=details.media_type,
        size_bytes=details.size_bytes,
        sha256=details.sha256,
        pages=details.pages,
        enclosure_id=details.enclosure_id,
        title=details.title,
        data=details.data,
        created_by_id=user_id,
        created_at=utcnow(),
    )
    session.add(attachment)
    record.attachments.append(attachment)
    session.flush()
    return attachment


def get_attachment(
    session: Session, organization_id: int, case_id: int, attachment_id: int
) -> AttachmentRecord | None:
    """An attachment of a case of the organization, or None."""
    return session.scalar(
        select(AttachmentRecord)
        .join(CaseRecord, AttachmentRecord.case_id == CaseRecord.id)
        .where(
            AttachmentRecord.id == attachment_id,
            AttachmentRecord.case_id == case_id,
            CaseRecord.organization_id == organization_id,
        )
    )


def remove_attachment(session: Session, attachment: AttachmentRecord, *, user_id: int) -> bool:
    """Mark an attachment removed (kept for the record); False if it already was."""
    if attachment.removed_at is not None:
        return False
    attachment.removed_at = utcnow()
    attachment.removed_by_id = user_id
    session.flush()
    return True
