"""Signatures: store a signed PDF with its signer, and say whether a PDF is one of record.

A signature binds, in one canonical JSON (sorted keys), the case and content
version, the signer's name, credentials and NPI, the time, the attestation and
the SHA-256 of the signed PDF. Its hash is stored; verifying recomputes it, so a
signature edited in the database, or moved onto another document, no longer
verifies (21 CFR 11.70: signatures linked to their records).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import SIGNED_APPEAL as SIGNED_APPEAL
from .models import SIGNED_EXCEPTION as SIGNED_EXCEPTION
from .models import SIGNED_KINDS as SIGNED_KINDS
from .models import SIGNED_LETTER as SIGNED_LETTER
from .models import (
    CaseRecord,
    CaseState,
    Document,
    Signature,
    utcnow,
)
from .repository import flush_or_conflict, new_content_version

# What the physician attests to by signing (the signature's "meaning", 21 CFR 11.50).
ATTESTATION = (
    "I have read this letter of medical necessity in full. The clinical information in it "
    "is accurate and complete to the best of my knowledge, the treatment requested is "
    "medically necessary for this patient, and I am the physician requesting it."
)


APPEAL_ATTESTATION = (
    "I have read this appeal in full. The clinical information in it is accurate and "
    "complete to the best of my knowledge, the treatment requested is medically necessary "
    "for this patient, and I am the physician requesting it."
)


EXCEPTION_ATTESTATION = (
    "I have read this request for a medical exception in full. The clinical information in "
    "it is accurate and complete to the best of my knowledge, the reasons given for an "
    "exception are my own, the treatment requested is medically necessary for this patient, "
    "and I am the physician requesting it."
)


class AlreadySigned(Exception):
    """This content version already carries a signature (someone signed first)."""


def binding_fields(
    *,
    case_id: int,
    case_version: int,
    document_sha256: str,
    signer_id: int,
    signer_name: str,
    signer_credentials: str,
    signer_npi: str,
    attestation: str,
    signed_at: dt.datetime,
) -> dict[str, object]:
    return {
        "case_id": case_id,
        "case_version": case_version,
        "document_sha256": document_sha256,
        "signer_id": signer_id,
        "signer_name": signer_name,
        "signer_credentials": signer_credentials,
        "signer_npi": signer_npi,
        "attestation": attestation,
        "signed_at": signed_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
    }


def binding_hash(fields: dict[str, object]) -> str:
    data = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _binding_of(signature: Signature, document: Document) -> str:
    return binding_hash(
        binding_fields(
            case_id=signature.case_id,
            case_version=signature.case_version,
            document_sha256=hashlib.sha256(document.pdf).hexdigest(),
            signer_id=signature.signer_id,
            signer_name=signature.signer_name,
            signer_credentials=signature.signer_credentials,
            signer_npi=signature.signer_npi,
            attestation=signature.attestation,
            signed_at=signature.signed_at,
        )
    )


def binding_holds(signature: Signature, document: Document) -> bool:
    """Whether the stored signature still matches its document's bytes and its own fields."""
    if document.id != signature.document_id or document.case_id != signature.case_id:
        return False
    if not hmac.compare_digest(hashlib.sha256(document.pdf).hexdigest(), document.sha256):
        return False
    return hmac.compare_digest(_binding_of(signature, document), signature.binding_sha256)


def record_signature(
    session: Session,
    record: CaseRecord,
    *,
    document: Document,
    signer_id: int,
    signer_name: str,
    signer_credentials: str,
    signer_npi: str,
    signed_at: dt.datetime | None = None,
    attestation: str = ATTESTATION,
) -> Signature:
    """Store the signature of the case's current content, and mark the case signed.

    The document must already hold the signed PDF. Raises AlreadySigned when the
    content version carries a signature, EditConflict when the case changed.
    """
    if any(s.case_version == record.content_version for s in record.signatures):
        raise AlreadySigned(record.content_version)
    when = signed_at or utcnow()
    fields = binding_fields(
        case_id=record.id,
        case_version=record.content_version,
        document_sha256=document.sha256,
        signer_id=signer_id,
        signer_name=signer_name,
        signer_credentials=signer_credentials,
        signer_npi=signer_npi,
        attestation=attestation,
        signed_at=when,
    )
    signature = Signature(
        case_id=record.id,
        case_version=record.content_version,
        document_id=document.id,
        document=document,
        signer_id=signer_id,
        signer_name=signer_name,
        signer_credentials=signer_credentials,
        signer_npi=signer_npi,
        attestation=attestation,
        signed_at=when,
        binding_sha256=binding_hash(fields),
    )
    session.add(signature)
    record.signatures.append(signature)
    record.state = CaseState.SIGNED.value
    record.updated_by_id = signer_id
    record.updated_at = when
    flush_or_conflict(session, record)
    return signature


def supersede_for_enclosures(
    session: Session, record: CaseRecord, *, user_id: int
) -> list[Signature]:
    """An enclosure removed after signing: the signed document names what the packet no
    longer holds, so the signature (and any packet of that version) is superseded by a
    new content version. Nothing happens to an unsigned case (its signing page's digest
    covers the enclosures) or to one already sent (the packet of record stays)."""
    if current_signature(record) is None or record.state != CaseState.SIGNED:
        return []
    return new_content_version(session, record, user_id=user_id)


def current_signature(record: CaseRecord) -> Signature | None:
    """The signature of the case's current content, if it has one."""
    for signature in reversed(record.signatures):
        if signature.superseded_at is None and signature.case_version == record.content_version:
            return signature
    return None


@dataclass(frozen=True)
class PdfStatus:
    """What the store knows of a PDF, found by its SHA-256. No patient data."""

    sha256: str
    found: bool
    signed: bool = False
    superseded: bool = False
    intact: bool = False
    organization_id: int | None = None
    case_id: int | None = None
    document_id: int | None = None
    kind: str = ""
    case_version: int | None = None
    signer_name: str = ""
    signer_credentials: str = ""
    signer_npi: str = ""
    signed_at: dt.datetime | None = None
    attestation: str = ""
    superseded_at: dt.datetime | None = None
    superseded_by_version: int | None = None

    @property
    def of_record(self) -> bool:
        """A signed document of record: stored, signed, and its signature still binds it."""
        return self.found and self.signed and self.intact


def look_up_pdf(
    session: Session, pdf_or_sha256: bytes | str, *, organization_id: int | None = None
) -> PdfStatus:
    """Find a PDF among the stored documents by its SHA-256 (one organization's, if given)."""
    if isinstance(pdf_or_sha256, bytes):
        sha256 = hashlib.sha256(pdf_or_sha256).hexdigest()
    else:
        sha256 = pdf_or_sha256.strip().lower()
    query = (
        select(Document, CaseRecord.organization_id)
        .join(CaseRecord, Document.case_id == CaseRecord.id)
        .where(Document.sha256 == sha256)
        .order_by(Document.id)
    )
    if organization_id is not None:
        query = query.where(CaseRecord.organization_id == organization_id)
    rows = session.execute(query).all()
    if not rows:
        return PdfStatus(sha256=sha256, found=False)
    # A signed copy outranks an unsigned one with the same bytes (which cannot
    # happen, since signing appends a page; but never report "unsigned" wrongly).
    signed_rows = []
    for document, org_id in rows:
        signature = session.scalar(select(Signature).where(Signature.document_id == document.id))
        if signature is not None:
            signed_rows.append((document, org_id, signature))
    if not signed_rows:
        document, org_id = rows[0]
        return PdfStatus(
            sha256=sha256,
            found=True,
            organization_id=org_id,
            case_id=document.case_id,
            document_id=document.id,
            kind=document.kind,
            case_version=document.case_version,
            intact=hashlib.sha256(document.pdf).hexdigest() == document.sha256,
        )
    document, org_id, signature = signed_rows[0]
    return PdfStatus(
        sha256=sha256,
        found=True,
        signed=True,
        superseded=signature.superseded_at is not None,
        intact=binding_holds(signature, document),
        organization_id=org_id,
        case_id=document.case_id,
        document_id=document.id,
        kind=document.kind,
        case_version=signature.case_version,
        signer_name=signature.signer_name,
        signer_credentials=signature.signer_credentials,
        signer_npi=signature.signer_npi,
        signed_at=signature.signed_at,
        attestation=signature.attestation,
        superseded_at=signature.superseded_at,
        superseded_by_version=signature.superseded_by_version,
    )
