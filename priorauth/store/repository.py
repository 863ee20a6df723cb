"""Queries and writes the web app and the CLI share; each is scoped to one organization."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .models import AuditEvent, CaseRecord, CaseState, Document, User, utcnow


class EditConflict(Exception):
    """Someone else saved the case after this editor loaded it."""

    def __init__(self, current_version: int, updated_at: dt.datetime | None) -> None:
        super().__init__("the case was changed by someone else")
        self.current_version = current_version
        self.updated_at = updated_at


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def list_cases(session: Session, organization_id: int) -> list[CaseRecord]:
    """The organization's cases, most recently changed first."""
    query = (
        select(CaseRecord)
        .where(CaseRecord.organization_id == organization_id)
        .order_by(CaseRecord.updated_at.desc(), CaseRecord.id.desc())
    )
    return list(session.scalars(query))


def get_case(session: Session, organization_id: int, case_id: int) -> CaseRecord | None:
    """One case, only if it belongs to the organization (None otherwise, same as absent)."""
    return session.scalar(
        select(CaseRecord).where(
            CaseRecord.id == case_id, CaseRecord.organization_id == organization_id
        )
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
        assessment=dict(assessment) if assessment is not None else None,
    )
    session.add(record)
    session.flush()
    return record


def update_case(
    session: Session,
    record: CaseRecord,
    *,
    expected_version: int | None,
    user_id: int,
    data: Mapping[str, Any],
    assessment: Mapping[str, Any] | None,
) -> CaseRecord:
    """Save an edit made to ``expected_version``; raise EditConflict if it is not current.

    The version check covers an editor who loaded the form long ago; SQLAlchemy's
    version counter covers two saves racing each other between load and flush.
    """
    if expected_version is None or record.version_id != expected_version:
        raise EditConflict(record.version_id, record.updated_at)
    record.data = dict(data)
    record.indication_id = str(data["indication_id"])
    record.request_type = str(data["request_type"])
    record.assessment = dict(assessment) if assessment is not None else None
    record.updated_by_id = user_id
    record.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError as error:
        session.rollback()
        fresh = session.get(CaseRecord, record.id, populate_existing=True)
        raise EditConflict(
            fresh.version_id if fresh else -1, fresh.updated_at if fresh else None
        ) from error
    return record


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
) -> Document:
    document = Document(
        case_id=record.id,
        kind=kind,
        case_version=record.version_id,
        letter_date=letter_date,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size_bytes=len(pdf),
        definition_versions=dict(definition_versions),
        assessment=dict(assessment),
        case_snapshot=dict(case_snapshot),
        created_by_id=user_id,
    )
    session.add(document)
    session.flush()
    return document


def reusable_document(
    record: CaseRecord, *, kind: str, letter_date: dt.date, definition_versions: Mapping[str, str]
) -> Document | None:
    """A stored document made from this very case version, date and definitions, if any."""
    for document in reversed(record.documents):
        if (
            document.kind == kind
            and document.case_version == record.version_id
            and document.letter_date == letter_date
            and document.definition_versions == dict(definition_versions)
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
    """Append one audit event; ``detail`` must never carry patient data."""
    event = AuditEvent(
        user_id=actor.user_id,
        organization_id=actor.organization_id,
        role=actor.role,
        remote_addr=actor.remote_addr,
        action=action,
        outcome=outcome,
        case_id=case_id,
        document_id=document_id,
        detail=detail,
    )
    session.add(event)
    return event
