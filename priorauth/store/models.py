"""The tables: organizations, users, cases, stored documents, audit events.

Every row that holds patient data belongs to an organization, and every query
for it filters on that organization (see ``repository``). Case data is stored
as the JSON the domain model dumps, so the schema does not change each time an
indication gains a question.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Role(StrEnum):
    BILLING = "billing"
    PHYSICIAN = "physician"
    ADVOCATE = "advocate"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.BILLING: "Billing staff",
    Role.PHYSICIAN: "Physician",
    Role.ADVOCATE: "Patient advocate",
    Role.ADMIN: "Administrator",
}


class CaseState(StrEnum):
    """The case workflow; issue 6 adds the transitions and who may make them."""

    DRAFT = "draft"
    READY_FOR_SIGNATURE = "ready_for_signature"
    SIGNED = "signed"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DENIED = "denied"
    PENDED = "pended"
    CLOSED = "closed"


STATE_LABELS = {
    CaseState.DRAFT: "Draft",
    CaseState.READY_FOR_SIGNATURE: "Ready for signature",
    CaseState.SIGNED: "Signed",
    CaseState.SUBMITTED: "Submitted",
    CaseState.APPROVED: "Approved",
    CaseState.DENIED: "Denied",
    CaseState.PENDED: "Pended for information",
    CaseState.CLOSED: "Closed",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Store naive UTC, hand back aware UTC: SQLite keeps no time zone, PostgreSQL does."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing a naive datetime: pass an aware UTC time")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


JSONDoc = JSON().with_variant(JSONB(), "postgresql")


def _enum_check(name: str, column: str, values: type[StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organization")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (_enum_check("role", "role", Role),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Stored lower-cased: one account per address whatever the capitals typed.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    credentials: Mapped[str] = mapped_column(String(40), default="")
    npi: Mapped[str | None] = mapped_column(String(10), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="users")


class CaseRecord(Base):
    """One prior-authorization case; ``data`` is ``Case.model_dump(mode="json")``."""

    __tablename__ = "cases"
    __table_args__ = (_enum_check("state", "state", CaseState),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    indication_id: Mapped[str] = mapped_column(String(60))
    request_type: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(30), default=CaseState.DRAFT.value)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    assessment: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, default=None)
    # Optimistic locking: SQLAlchemy adds "AND version_id = :loaded" to every
    # UPDATE and raises StaleDataError when another writer got there first.
    version_id: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    documents: Mapped[list[Document]] = relationship(
        back_populates="case", order_by="Document.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012 - SQLAlchemy reads it


class Document(Base):
    """A rendered document, kept byte for byte with what produced it."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # The case version it was rendered from: a later edit makes it out of date.
    case_version: Mapped[int] = mapped_column(Integer)
    letter_date: Mapped[dt.date] = mapped_column(Date)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    definition_versions: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    assessment: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    case_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[CaseRecord] = relationship(back_populates="documents")


class AuditEvent(Base):
    """Who did what to which case, when, and whether it was allowed. Never patient data."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_case_id_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id"), default=None, index=True
    )
    role: Mapped[str | None] = mapped_column(String(20), default=None)
    action: Mapped[str] = mapped_column(String(60))
    # Plain integers, not foreign keys: the trail outlives what it mentions, and a
    # refused attempt may name a case that is not the caller's or does not exist.
    case_id: Mapped[int | None] = mapped_column(Integer, default=None)
    document_id: Mapped[int | None] = mapped_column(Integer, default=None)
    outcome: Mapped[str] = mapped_column(String(20))
    remote_addr: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[str] = mapped_column(Text, default="")
