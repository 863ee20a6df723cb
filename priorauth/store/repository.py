"""Queries and writes the web app and the CLI share; each is scoped to one organization."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, defer, selectinload
from sqlalchemy.orm.exc import StaleDataError

from . import audit, listing, workflow
from .models import (
    AttachmentRecord,
    AuditEvent,
    CaseAssignment,
    CaseRecord,
    CaseState,
    DenialRecord,
    Document,
    Signature,
    User,
    utcnow,
)

# Every session keeps the cases' list columns in step, whatever writes them.
listing.install()


class CaseScope(StrEnum):
    """Which of its organization's cases a person reaches (the web's permission table picks)."""

    ORGANIZATION = "organization"  # every case of the organization
    PRESCRIBED_OR_ASSIGNED = "prescribed_or_assigned"  # their NPI on it, or assigned to it
    ASSIGNED = "assigned"  # assigned to it
    NONE = "none"


@dataclass(frozen=True)
class Reach:
    """A person as case scoping needs them."""

    organization_id: int
    user_id: int
    scope: CaseScope
    npi: str | None = None


class EditConflict(Exception):
    """Someone else saved the case after this editor loaded it."""

    def __init__(self, current_version: int, updated_at: dt.datetime | None) -> None:
        super().__init__("the case was changed by someone else")
        self.current_version = current_version
        self.updated_at = updated_at


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def list_cases(
    session: Session, organization_id: int, reach: Reach | None = None
) -> list[CaseRecord]:
    """The organization's cases (those within ``reach``), most recently changed first."""
    query = (
        select(CaseRecord)
        .where(CaseRecord.organization_id == organization_id)
        .order_by(CaseRecord.updated_at.desc(), CaseRecord.id.desc())
    )
    if reach is not None:
        if reach.organization_id != organization_id or reach.scope is CaseScope.NONE:
            return []
        assigned = select(CaseAssignment.case_id).where(CaseAssignment.user_id == reach.user_id)
        if reach.scope is CaseScope.ASSIGNED:
            query = query.where(CaseRecord.id.in_(assigned))
        elif reach.scope is CaseScope.PRESCRIBED_OR_ASSIGNED:
            mine: ColumnElement[bool] = CaseRecord.id.in_(assigned)
            if reach.npi:
                mine = or_(mine, CaseRecord.prescriber_npi == reach.npi)
            query = query.where(mine)
    return list(session.scalars(query))


def listing_scope(reach: Reach) -> listing.Scope | None:
    """The cases ``reach`` gives, as the list queries filter them; None for none."""
    if reach.scope is CaseScope.NONE:
        return None
    if reach.scope is CaseScope.ORGANIZATION:
        return listing.Scope(reach.organization_id)
    npi = reach.npi if reach.scope is CaseScope.PRESCRIBED_OR_ASSIGNED else None
    return listing.Scope(reach.organization_id, assigned_to=reach.user_id, npi=npi)


def within_reach(session: Session, record: CaseRecord, reach: Reach) -> bool:
    """Whether a case of the person's organization is one they may reach."""
    if record.organization_id != reach.organization_id or reach.scope is CaseScope.NONE:
        return False
    if reach.scope is CaseScope.ORGANIZATION:
        return True
    if (
        reach.scope is CaseScope.PRESCRIBED_OR_ASSIGNED
        and reach.npi
        and record.prescriber_npi == reach.npi
    ):
        return True
    return is_assigned(session, record.id, reach.user_id)


def is_assigned(session: Session, case_id: int, user_id: int) -> bool:
    return (
        session.scalar(
            select(CaseAssignment.id).where(
                CaseAssignment.case_id == case_id, CaseAssignment.user_id == user_id
            )
        )
        is not None
    )


def _prescriber_npi(data: Mapping[str, Any]) -> str | None:
    prescriber = data.get("prescriber")
    npi = prescriber.get("npi") if isinstance(prescriber, Mapping) else None
    return str(npi)[:10] if npi else None


# A case's documents and uploads as its pages list them: metadata only. The PDF
# bytes, the uploads' bytes and the records of what produced each document load
# when something reads them (a download, a packet, a signature check).
CASE_METADATA = (
    selectinload(CaseRecord.documents).options(
        defer(Document.pdf), defer(Document.assessment), defer(Document.case_snapshot)
    ),
    selectinload(CaseRecord.attachments).defer(AttachmentRecord.data),
)


def get_case(session: Session, organization_id: int, case_id: int) -> CaseRecord | None:
    """One case, only if it belongs to the organization (None otherwise, same as absent)."""
    return session.scalar(
        select(CaseRecord)
        .where(CaseRecord.id == case_id, CaseRecord.organization_id == organization_id)
        .options(*CASE_METADATA)
    )


def create_case(
    session: Session,
    *,
    organization_id: int,
    user_id: int,
    data: Mapping[str, Any],
    assessment: Mapping[str, Any] | None,
) -> CaseRecord:
    record = CaseRecord(
        organization_id=organization_id,
        created_by_id=user_id,
        indication_id=str(data["indication_id"]),
        request_type=str(data["request_type"]),
        state=CaseState.DRAFT.value,
        data=dict(data),
        prescriber_npi=_prescriber_npi(data),
        assessment=dict(assessment) if assessment is not None else None,
        content_version=1,
    )
    session.add(record)
    session.flush()
    return record


class NotEditable(Exception):
    """The case is in a state in which its content cannot change (submitted, approved, closed)."""

    def __init__(self, state: str) -> None:
        super().__init__(f"a case in state {state} cannot be edited")
        self.state = state


def flush_or_conflict(session: Session, record: CaseRecord) -> None:
    try:
        session.flush()
    except StaleDataError as error:
        session.rollback()
        fresh = session.get(CaseRecord, record.id, populate_existing=True)
        raise EditConflict(
            fresh.version_id if fresh else -1, fresh.updated_at if fresh else None
        ) from error


def _new_content(session: Session, record: CaseRecord, user_id: int) -> list[Signature]:
    """Count a change of content: a new version, the old signature superseded.

    Returns the signatures it superseded (their documents stay, marked so).
    """
    if CaseState(record.state) not in workflow.EDITABLE_STATES:
        raise NotEditable(record.state)
    now = utcnow()
    signatures = list(record.signatures)  # loaded before any change: one UPDATE, one version
    record.content_version += 1
    superseded = []
    for signature in signatures:
        if signature.superseded_at is None:
            signature.superseded_at = now
            signature.superseded_by_version = record.content_version
            superseded.append(signature)
    record.state = workflow.state_after_edit(record.state).value
    record.updated_by_id = user_id
    record.updated_at = now
    return superseded


def new_content_version(session: Session, record: CaseRecord, *, user_id: int) -> list[Signature]:
    """A change to what a signed document covers other than an edit (an enclosure removed).

    The same versioning as an edit: returns the signatures it superseded.
    """
    superseded = _new_content(session, record, user_id)
    flush_or_conflict(session, record)
    return superseded


def update_case(
    session: Session,
    record: CaseRecord,
    *,
    expected_version: int | None,
    user_id: int,
    data: Mapping[str, Any],
    assessment: Mapping[str, Any] | None,
) -> list[Signature]:
    """Save an edit made to ``expected_version``; raise EditConflict if it is not current.

    The version check covers an editor who loaded the form long ago; SQLAlchemy's
    version counter covers two saves racing each other between load and flush.
    An edit makes a new content version: a signature of the old one is superseded
    (returned), and a signed case goes back to draft. NotEditable when the state
    does not allow edits.
    """
    if expected_version is None or record.version_id != expected_version:
        raise EditConflict(record.version_id, record.updated_at)
    superseded = _new_content(session, record, user_id)
    record.data = dict(data)
    record.indication_id = str(data["indication_id"])
    record.request_type = str(data["request_type"])
    record.prescriber_npi = _prescriber_npi(data)
    record.assessment = dict(assessment) if assessment is not None else None
    flush_or_conflict(session, record)
    return superseded


def update_narrative(
    session: Session,
    record: CaseRecord,
    *,
    expected_version: int | None,
    user_id: int,
    narrative: Mapping[str, str],
) -> list[Signature]:
    """Save the physician's narrative sections; the same versioning as ``update_case``."""
    if expected_version is None or record.version_id != expected_version:
        raise EditConflict(record.version_id, record.updated_at)
    superseded = _new_content(session, record, user_id)
    record.narrative = dict(narrative) or None
    flush_or_conflict(session, record)
    return superseded


def record_denial(
    session: Session,
    record: CaseRecord,
    *,
    expected_version: int | None,
    user_id: int,
    data: Mapping[str, Any],
    decision_id: int | None,
) -> tuple[DenialRecord, list[Signature]]:
    """Record the denial notice an appeal answers: a new content version of the case.

    The appeal letter is made from it, so the letter the payer denied no longer
    says what the case says: its signature is superseded (returned), and the
    appeal goes for a new signature. The same versioning as ``update_case``.
    """
    if expected_version is None or record.version_id != expected_version:
        raise EditConflict(record.version_id, record.updated_at)
    superseded = _new_content(session, record, user_id)
    list(record.denials)  # loaded before the change: no autoflush half-way
    denial = DenialRecord(
        case_id=record.id,
        decision_id=decision_id,
        case_version=record.content_version,
        data=dict(data),
        created_by_id=user_id,
        created_at=utcnow(),
    )
    session.add(denial)
    record.denials.append(denial)
    flush_or_conflict(session, record)
    return denial, superseded


def change_state(session: Session, record: CaseRecord, target: CaseState, *, user_id: int) -> None:
    """Move the case to another state (the caller checked the transition table)."""
    record.state = target.value
    record.updated_by_id = user_id
    record.updated_at = utcnow()
    flush_or_conflict(session, record)


def add_document(
    session: Session,
    record: CaseRecord,
    *,
    kind: str,
    pdf: bytes,
    letter_date: dt.date,
    definition_versions: Mapping[str, str],
    assessment: Mapping[str, Any],
    case_snapshot: Mapping[str, Any],
    user_id: int,
    record_data: Mapping[str, Any] | None = None,
) -> Document:
    """Store a rendered PDF; ``record_data`` is what the renderer says produced it."""
    document = Document(
        case_id=record.id,
        kind=kind,
        case_version=record.content_version,
        letter_date=letter_date,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size_bytes=len(pdf),
        definition_versions=dict(definition_versions),
        assessment=dict(assessment),
        case_snapshot=dict(case_snapshot),
        record=dict(record_data) if record_data is not None else None,
        created_by_id=user_id,
    )
    session.add(document)
    session.flush()
    return document


def reusable_document(
    record: CaseRecord,
    *,
    kind: str,
    letter_date: dt.date,
    definition_versions: Mapping[str, str],
    record_data: Mapping[str, Any] | None = None,
) -> Document | None:
    """A stored document made from this very case version, date and definitions, if any.

    With ``record_data``, the stored document's record must be the same too (an
    appeal or a packet also depends on the attachments).
    """
    for document in reversed(record.documents):
        if (
            document.kind == kind
            and document.case_version == record.content_version
            and document.letter_date == letter_date
            and document.definition_versions == dict(definition_versions)
            and (record_data is None or document.record == dict(record_data))
        ):
            return document
    return None


def get_document(
    session: Session, organization_id: int, case_id: int, document_id: int
) -> Document | None:
    """A document of a case of the organization, or None."""
    return session.scalar(
        select(Document)
        .join(CaseRecord, Document.case_id == CaseRecord.id)
        .where(
            Document.id == document_id,
            Document.case_id == case_id,
            CaseRecord.organization_id == organization_id,
        )
    )


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the audit trail records it."""

    user_id: int | None
    organization_id: int | None
    role: str | None
    remote_addr: str | None = None


def record_event(
    session: Session,
    actor: Actor,
    action: str,
    outcome: str,
    *,
    case_id: int | None = None,
    document_id: int | None = None,
    detail: str = "",
) -> AuditEvent:
    """Append one audit event to the chain; ``detail`` must never carry patient data."""
    return audit.append(
        session,
        action=action,
        outcome=outcome,
        user_id=actor.user_id,
        organization_id=actor.organization_id,
        role=actor.role,
        remote_addr=actor.remote_addr,
        case_id=case_id,
        document_id=document_id,
        detail=detail,
    )


def list_events(
    session: Session, organization_id: int, *, case_id: int | None = None, limit: int = 200
) -> list[AuditEvent]:
    """The organization's audit events, newest first."""
    query = select(AuditEvent).where(AuditEvent.organization_id == organization_id)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    return list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit)))


def list_users(session: Session, organization_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User).where(User.organization_id == organization_id).order_by(User.name)
        )
    )


def continuations_of(session: Session, record: CaseRecord) -> list[int]:
    """The ids of the organization's cases that renew this one."""
    return list(
        session.scalars(
            select(CaseRecord.id)
            .where(
                CaseRecord.continues_case_id == record.id,
                CaseRecord.organization_id == record.organization_id,
            )
            .order_by(CaseRecord.id)
        )
    )
