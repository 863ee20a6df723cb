"""The tables: organizations, users, cases, documents, signatures, the workflow, the audit.

Every row that holds patient data belongs to an organization, and every query
for it filters on that organization (see ``repository``). Case data is stored
as the JSON the domain model dumps, so the schema does not change each time an
indication gains a question.

Documents and audit events are append-only, and a signature can only be marked
superseded, once: the ORM refuses anything else here, and database triggers
(migration 0002) refuse it from any other client of the database.
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
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship

# Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The kinds of signed document. After a denial, what the physician signs is the
# appeal letter; a case the rules judge not ready is signed only as a
# medical-exception request.
SIGNED_LETTER = "signed_letter"
SIGNED_APPEAL = "signed_appeal"
SIGNED_EXCEPTION = "signed_exception"
SIGNED_KINDS = frozenset({SIGNED_LETTER, SIGNED_APPEAL, SIGNED_EXCEPTION})


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
    """The case workflow; ``workflow.TRANSITIONS`` says who may move a case between them."""

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
    __table_args__ = (
        _enum_check("role", "role", Role),
        # One account per address in an organization; two organizations may each
        # have one, so creating an account never tells whether another
        # organization has that address (migration 0004).
        UniqueConstraint("organization_id", "email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Stored lower-cased: one account per address whatever the capitals typed.
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    credentials: Mapped[str] = mapped_column(String(40), default="")
    npi: Mapped[str | None] = mapped_column(String(10), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="users")


# The cases' list indexes (see ``listing``); migration 0004 creates the same.
LISTING_INDEXES = (
    ("organization_id", "updated_at", "id"),
    ("organization_id", "state", "id"),
    ("organization_id", "state", "signed_current", "approved_units"),
    ("organization_id", "state", "respond_by"),
    ("organization_id", "state", "submitted_on"),
    ("organization_id", "state", "authorization_end"),
    ("organization_id", "payer_name"),
    ("organization_id", "prescriber_npi"),
    ("organization_id", "search_text"),
)


class CaseRecord(Base):
    """One prior-authorization case; ``data`` is ``Case.model_dump(mode="json")``."""

    __tablename__ = "cases"
    __table_args__ = (
        _enum_check("state", "state", CaseState),
        # The dashboard's pages, newest first, and one index per queue order. Each
        # covers what its counts and filters read: a row holds the case's JSON,
        # so reading rows to count or filter them costs pages of it per case.
        *(Index(f"ix_cases_{'_'.join(c)}", *c) for c in LISTING_INDEXES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    indication_id: Mapped[str] = mapped_column(String(60))
    request_type: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(30), default=CaseState.DRAFT.value)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    assessment: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, default=None)
    # The physician's narrative sections of the letter, where they rewrote them.
    narrative: Mapped[dict[str, str] | None] = mapped_column(JSONDoc, default=None)
    # Copied from data["prescriber"]["npi"] on every save, so "the cases this
    # physician prescribes" is one indexed query on every database.
    prescriber_npi: Mapped[str | None] = mapped_column(String(10), default=None, index=True)
    # Optimistic locking: SQLAlchemy adds "AND version_id = :loaded" to every
    # UPDATE and raises StaleDataError when another writer got there first.
    # It counts every change to the row, a change of state included.
    version_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # Counts changes to what the letter says (the case data and the narrative);
    # documents and signatures name the content version they were made from.
    content_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The case this one renews (a continuation started from it), if any. A plain
    # integer like the audit trail's: the link is for finding, not for integrity.
    continues_case_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # What lists show and sort by, copied from the data, the assessment and the
    # case's records on every flush (``listing.refresh``), so a page of the
    # dashboard or a queue is one indexed query that reads no JSON.
    patient_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    payer_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Payer's numbers (submission and denial references, authorization numbers).
    payer_references: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The name and the references, case-folded: what the dashboard's search matches.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    verdict: Mapped[str | None] = mapped_column(String(30), default=None)
    verdict_as_of: Mapped[dt.date | None] = mapped_column(Date, default=None)
    verdict_payer_id: Mapped[str | None] = mapped_column(String(60), default=None)
    # SHA-256 of the definition versions the stored assessment was made under.
    verdict_versions: Mapped[str | None] = mapped_column(String(64), default=None)
    signed_current: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    submitted_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    submitted_appeal: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The payer's date to answer by, when its last decision was a pend or a denial.
    respond_by: Mapped[dt.date | None] = mapped_column(Date, default=None)
    authorization_number: Mapped[str | None] = mapped_column(String(60), default=None)
    authorization_end: Mapped[dt.date | None] = mapped_column(Date, default=None)
    approved_units: Mapped[int | None] = mapped_column(Integer, default=None)

    documents: Mapped[list[Document]] = relationship(
        back_populates="case", order_by="Document.id", cascade="all, delete-orphan"
    )
    signatures: Mapped[list[Signature]] = relationship(order_by="Signature.id")
    submissions: Mapped[list[Submission]] = relationship(order_by="Submission.id")
    decisions: Mapped[list[Decision]] = relationship(order_by="Decision.id")
    usage: Mapped[list[UnitUsage]] = relationship(order_by="UnitUsage.id")
    assignments: Mapped[list[CaseAssignment]] = relationship(
        order_by="CaseAssignment.id", cascade="all, delete-orphan"
    )
    denials: Mapped[list[DenialRecord]] = relationship(order_by="DenialRecord.id")
    attachments: Mapped[list[AttachmentRecord]] = relationship(order_by="AttachmentRecord.id")

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012 - SQLAlchemy reads it


class Document(Base):
    """A rendered document, kept byte for byte with what produced it."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # The case's content version it was rendered from: a later edit makes it out of date.
    case_version: Mapped[int] = mapped_column(Integer)
    letter_date: Mapped[dt.date] = mapped_column(Date)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    definition_versions: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    assessment: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    case_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    # What the renderer reports produced it (priorauth.documents.output.document_record):
    # the denial, the attachments and the narrative too. None for the plain letter.
    record: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, default=None)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[CaseRecord] = relationship(back_populates="documents")


class AuditEvent(Base):
    """Who did what to which case, when, and whether it was allowed. Never patient data.

    Rows form a hash chain (see ``audit``): ``row_hash`` is the SHA-256 of the
    row's canonical JSON, which includes ``prev_hash``, the hash of the row before.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_case_id_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Position in the chain: 1, 2, 3... with no gaps.
    seq: Mapped[int] = mapped_column(Integer, unique=True)
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
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The last link of the audit chain: one row, locked by each writer of an event.

    Appending takes this row FOR UPDATE (PostgreSQL) or the database's write lock
    (SQLite), so events form one line; it also shows a truncated tail.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 of (last_seq, last_hash) under the audit key, which is kept
    # outside the database: whoever rewrites the head cannot sign it (``anchors``).
    head_mac: Mapped[str | None] = mapped_column(String(64), default=None)


class CaseAssignment(Base):
    """A person of the organization assigned to a case: a physician to sign, an advocate."""

    __tablename__ = "case_assignments"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Signature(Base):
    """A physician's signature of one content version of a case's letter.

    The signed PDF is the document ``document_id``; ``binding_sha256`` binds the
    signer, the time, the attestation and the PDF's hash together (canonical
    JSON), so a signature cannot be moved onto another document unnoticed.
    """

    __tablename__ = "signatures"
    # One signature per content version: of two physicians signing at once, one wins.
    __table_args__ = (UniqueConstraint("case_id", "case_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    case_version: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_credentials: Mapped[str] = mapped_column(String(40))
    signer_npi: Mapped[str] = mapped_column(String(10))
    attestation: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    binding_sha256: Mapped[str] = mapped_column(String(64))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    superseded_by_version: Mapped[int | None] = mapped_column(Integer, default=None)

    document: Mapped[Document] = relationship()

    @property
    def current(self) -> bool:
        return self.superseded_at is None


class SubmissionMethod(StrEnum):
    PORTAL = "portal"
    FAX = "fax"
    ELECTRONIC = "electronic"
    MAIL = "mail"
    PHONE = "phone"


SUBMISSION_METHOD_LABELS = {
    SubmissionMethod.PORTAL: "Payer portal",
    SubmissionMethod.FAX: "Fax",
    SubmissionMethod.ELECTRONIC: "Electronic prior authorization (ePA)",
    SubmissionMethod.MAIL: "Mail",
    SubmissionMethod.PHONE: "Phone",
}


class Submission(Base):
    """The packet sent to the payer: when, how, and the payer's reference number."""

    __tablename__ = "submissions"
    __table_args__ = (_enum_check("method", "method", SubmissionMethod),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"), default=None)
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    payer_reference: Mapped[str] = mapped_column(String(100), default="")
    # A submission after a denial is an appeal.
    appeal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    DENIED = "denied"
    PENDED = "pended"


class Decision(Base):
    """The payer's answer to a submission.

    Approved: the authorization number, units and dates. Denied: the reason and
    the appeal deadline (``respond_by``). Pended: what the payer asks for and by when.
    """

    __tablename__ = "decisions"
    __table_args__ = (_enum_check("outcome", "outcome", DecisionOutcome),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), default=None)
    outcome: Mapped[str] = mapped_column(String(20))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    authorization_number: Mapped[str | None] = mapped_column(String(60), default=None)
    approved_units: Mapped[int | None] = mapped_column(Integer, default=None)
    start_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    end_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    respond_by: Mapped[dt.date | None] = mapped_column(Date, default=None)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class UnitUsage(Base):
    """Units given under an approved authorization (for "units used of units approved")."""

    __tablename__ = "unit_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    used_on: Mapped[dt.date] = mapped_column(Date)
    units: Mapped[int] = mapped_column(Integer)
    # Why units past the approved total were given (required then; None otherwise).
    over_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    # One entry per day of administration: a double post cannot count twice.
    __table_args__ = (Index("ix_unit_usage_decision_day", "decision_id", "used_on", unique=True),)


class IntakeDraft(Base):
    """A new case being filled in step by step: the form's values as typed, not yet a Case.

    ``formdata`` is the list of (field name, value) pairs the intake form posts,
    so a draft keeps whatever was typed, a wrong value included, and the form
    shows it back exactly. It becomes a case when its review step is saved, and
    is closed then (its values cleared, its number kept).
    """

    __tablename__ = "intake_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    indication_id: Mapped[str | None] = mapped_column(String(60), default=None)
    request_type: Mapped[str] = mapped_column(String(20), default="initial")
    # The case a continuation draft was started from (a plain integer, like the case's).
    continues_case_id: Mapped[int | None] = mapped_column(Integer, default=None)
    formdata: Mapped[list[list[str]]] = mapped_column(JSONDoc)
    # The steps saved at least once: their errors are shown when the step is opened again.
    steps_saved: Mapped[list[str]] = mapped_column(JSONDoc)
    version_id: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # A finished or discarded draft keeps its row (and so its number: a draft URL is never
    # reused for another patient) but not its values; Back to it opens the case it became.
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_case_id: Mapped[int | None] = mapped_column(Integer, default=None)

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012 - SQLAlchemy reads it


class DenialRecord(Base):
    """The payer's denial notice as recorded for an appeal (``Denial.model_dump(mode="json")``).

    Each recording is a new row; the last one is the denial the appeal answers.
    Recording one makes a new content version of the case, since the appeal
    letter says what it says.
    """

    __tablename__ = "denials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), default=None)
    case_version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttachmentType(StrEnum):
    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"


class AttachmentRecord(Base):
    """An uploaded file for the packet, kept as checked (type, size, pages) with its bytes.

    Removing one only marks it removed: a packet made with it names its SHA-256.
    """

    __tablename__ = "attachments"
    __table_args__ = (_enum_check("media_type", "media_type", AttachmentType),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    enclosure_id: Mapped[str | None] = mapped_column(String(60), default=None)
    title: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class LoginAttempt(Base):
    """One password check (log in or re-enter to sign), for throttling across workers.

    ``account_key`` is the SHA-256 of the lower-cased email typed, so the table
    holds no addresses, including mistyped ones.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_account_key_at", "account_key", "at"),
        Index("ix_login_attempts_remote_addr_at", "remote_addr", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    account_key: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)


class UserSession(Base):
    """One login: the cookie carries a random token, this row its SHA-256 and its life.

    Ending the row (logout, a password change, "sign out everywhere", a timeout)
    ends every copy of the cookie, wherever it was copied to.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # "logout", "password", "signed_out", "timeout", "account_off"
    ended_reason: Mapped[str | None] = mapped_column(String(20), default=None)


class ApiToken(Base):
    """A personal API token: its public prefix and the SHA-256 of its secret, never the secret.

    The token acts as its user, with the user's organization and role (looked up on
    every request, so a changed role or a switched-off account takes effect at
    once). ``window_started_at`` and ``window_requests`` count requests for the
    rate limit, in the database so that every worker sees the same count.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # Public: shown in lists and logs to tell tokens apart; finds the row.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    window_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    window_requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# --- the clinic's directory: what step 1 of every intake would otherwise retype -----------


class Letterhead(Base):
    """The practice's letterhead, one per organization: a new prescriber starts from it."""

    __tablename__ = "letterheads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    practice_name: Mapped[str] = mapped_column(String(200), default="")
    practice_address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(200), default="")
    fax: Mapped[str] = mapped_column(String(200), default="")
    # The clinic's usual choices, preselected on a new case's regimen (editable there):
    # where it infuses, and the product it stocks. Empty: none preselected.
    usual_site_of_care: Mapped[str] = mapped_column(String(30), default="", server_default="")
    usual_product_id: Mapped[str] = mapped_column(String(60), default="", server_default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Prescriber(Base):
    """A prescriber on file; ``user_id`` is the physician account that signs their letters."""

    __tablename__ = "prescribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    name: Mapped[str] = mapped_column(String(200))
    credentials: Mapped[str] = mapped_column(String(40), default="")
    npi: Mapped[str] = mapped_column(String(10))
    specialty: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(200), default="")
    fax: Mapped[str] = mapped_column(String(200), default="")
    practice_name: Mapped[str] = mapped_column(String(200), default="")
    practice_address: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("organization_id", "npi", name="uq_prescribers_org_npi"),)


class PayerEntry(Base):
    """A payer and plan the clinic submits to: its rules profile and where requests go."""

    __tablename__ = "payer_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    plan_type: Mapped[str] = mapped_column(String(30))
    # The id of a payer profile under forms/payers/: whose rules the case is checked against.
    payer_profile: Mapped[str] = mapped_column(String(60))
    pa_fax: Mapped[str] = mapped_column(String(200), default="")
    pa_address: Mapped[str] = mapped_column(String(200), default="")
    appeals_fax: Mapped[str] = mapped_column(String(200), default="")
    appeals_address: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PatientRecord(Base):
    """A patient the clinic has requested for before: a new case for them starts filled."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[str] = mapped_column(String(10))  # ISO date, as the case holds it
    sex: Mapped[str] = mapped_column(String(10), default="")
    payer_entry_id: Mapped[int | None] = mapped_column(ForeignKey("payer_entries.id"), default=None)
    member_id: Mapped[str] = mapped_column(String(200), default="")
    group_number: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# --- append-only, enforced in the ORM (the migration adds database triggers) ----------------


class AppendOnlyError(Exception):
    """An attempt to change or delete a row that is kept as it was written."""


def _refuse_change(_mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    raise AppendOnlyError(f"{type(target).__name__} rows are never changed or deleted")


for _model in (AuditEvent, Document):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
event.listen(Signature, "before_delete", _refuse_change)

_SUPERSEDE_COLUMNS = frozenset({"superseded_at", "superseded_by_version"})


@event.listens_for(Signature, "before_update")
def _only_supersede(_mapper: Mapper[Any], _connection: Any, target: Signature) -> None:
    """A signature may be marked superseded once; nothing else about it ever changes."""
    state = inspect(target)
    for attribute in state.attrs:
        history = attribute.history
        if not history.has_changes():
            continue
        if attribute.key not in _SUPERSEDE_COLUMNS:
            raise AppendOnlyError(f"a signature's {attribute.key} never changes")
        if attribute.key == "superseded_at" and history.deleted and history.deleted[0]:
            raise AppendOnlyError("a superseded signature stays superseded")


class PolicyRecheck(Base):
    """A case whose verdict changed when a definition or payer profile it was assessed
    under got a new version (``rules.policy_change``): listed until someone re-checks it."""

    __tablename__ = "policy_rechecks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    verdict_before: Mapped[str] = mapped_column(String(30))
    verdict_after: Mapped[str] = mapped_column(String(30))
    # [{"key": "payer:aetna", "before": "1/…", "after": "2/…"}, …]
    changes: Mapped[list[dict[str, str]]] = mapped_column(JSONDoc)
    found_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class PayerProfileVersion(Base):
    """An organization's own version of a payer profile, saved by an admin in the app.

    Each save is a new row (never an update): the newest row of a profile is the one
    in effect for that organization; the shipped file stays the fallback and the
    other organizations never see it.
    """

    __tablename__ = "payer_profile_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    profile_id: Mapped[str] = mapped_column(String(60))
    number: Mapped[int] = mapped_column(Integer)
    toml_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index(
            "ix_payer_profile_versions_profile",
            "organization_id",
            "profile_id",
            "number",
            unique=True,
        ),
    )
