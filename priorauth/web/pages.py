"""What several case pages show: the case's heading, its stored documents, a refused change.

Plain values for templates, never ORM rows. Every blueprint with case pages
reads these; none reaches into another blueprint for them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from flask import render_template, url_for

from priorauth.domain.case import PLAN_LABELS, SITE_LABELS
from priorauth.store.models import STATE_LABELS, CaseRecord, CaseState, Document, Signature
from priorauth.store.signatures import SIGNED_APPEAL, SIGNED_EXCEPTION, SIGNED_LETTER

from . import context
from .casefile import APPEAL, LETTER, PACKET, PEER_TO_PEER
from .intake import REQUEST_TYPE_LABELS
from .permissions import Permission, may

DOCUMENT_LABELS = {
    LETTER: "Letter of medical necessity (unsigned)",
    SIGNED_LETTER: "Signed letter",
    SIGNED_APPEAL: "Signed appeal letter",
    SIGNED_EXCEPTION: "Signed medical-exception request",
    APPEAL: "Appeal letter (unsigned)",
    PEER_TO_PEER: "Peer-to-peer preparation sheet",
    PACKET: "Fax packet",
}


def label(labels: Mapping[Any, str], key: Any) -> str:
    """The label of an enum value stored as text, or the text itself."""
    return labels.get(key, "" if key is None else str(key))


def document_label(kind: str) -> str:
    return DOCUMENT_LABELS.get(kind, kind.replace("_", " "))


def case_heading(record: CaseRecord) -> dict[str, Any]:
    """Plain values naming a case on its pages."""
    data = record.data
    library = context.library()
    patient = data.get("patient") or {}
    coverage = data.get("coverage") or {}
    regimen = data.get("regimen") or {}
    definition = library.indications.get(str(data.get("indication_id")))
    product = library.products.get(str(regimen.get("product_id")))
    payer = library.payers.get(str(coverage.get("payer_profile")))
    return {
        "id": record.id,
        "patient_name": f"{patient.get('first_name', '')} {patient.get('last_name', '')}".strip(),
        "date_of_birth": patient.get("date_of_birth", ""),
        "indication": definition.name if definition else str(data.get("indication_id")),
        "request_type": label(REQUEST_TYPE_LABELS, data.get("request_type")),
        "payer_name": coverage.get("payer_name", ""),
        "payer_rules": payer.name if payer else coverage.get("payer_profile", ""),
        "plan_type": label(PLAN_LABELS, coverage.get("plan_type")),
        "site_of_care": label(SITE_LABELS, data.get("site_of_care")),
        "product": f"{product.name} ({product.hcpcs})" if product else regimen.get("product_id"),
        "codes": ", ".join(data.get("icd10_codes") or []),
        "state": label(STATE_LABELS, record.state),
        "state_key": record.state,
        "version": record.content_version,
    }


def _document_state(
    document: Document, signature: Signature | None, record: CaseRecord
) -> tuple[str, str]:
    """What a stored document is now, in words, and a key for its style."""
    if document.kind == PACKET:
        superseded = packet_superseded(document, record)
        if superseded:
            return superseded, "superseded"
    if signature is not None:
        if signature.superseded_at is not None:
            return "Superseded: the case changed after signing", "superseded"
        return "Signed, current", "signed"
    if document.case_version != record.content_version:
        return "Made before the last change to the case", "old"
    if document.kind == LETTER and record.state == CaseState.READY_FOR_SIGNATURE:
        return "Draft, waiting for the physician's signature", "waiting"
    return "Draft, matches the case", "current"


def packet_superseded(document: Document, record: CaseRecord) -> str:
    """Why a packet is no longer the one to send, or "" while it is.

    A packet carries the signed document of its time: a newer signature makes it
    stale, and so does the supersession of the signature it carried.
    """
    for signature in record.signatures:
        if signature.document_id > document.id:
            return "Superseded: a newer signed document was made after it"
        if signature.case_version == document.case_version and signature.superseded_at:
            return "Superseded: the signature it carries was superseded"
    return ""


def document_rows(record: CaseRecord, kinds: Collection[str] = ()) -> list[dict[str, Any]]:
    """The case's stored documents, newest first (only ``kinds`` when given)."""
    signatures = {s.document_id: s for s in record.signatures}
    can_sign = may(Permission.SIGN, record) and record.state == CaseState.READY_FOR_SIGNATURE
    rows = []
    for document in reversed(record.documents):
        if kinds and document.kind not in kinds:
            continue
        signature = signatures.get(document.id)
        state, state_key = _document_state(document, signature, record)
        current = document.case_version == record.content_version and state_key != "superseded"
        rows.append(
            {
                "id": document.id,
                "kind": document.kind,
                "state": state,
                "state_key": state_key,
                "download_url": url_for(
                    "documents.download", case_id=record.id, document_id=document.id
                ),
                "view_url": url_for("documents.view", case_id=record.id, document_id=document.id),
                "sign_url": url_for("signing.sign", case_id=record.id)
                if can_sign and document.kind == LETTER and current
                else "",
                "label": document_label(document.kind),
                "letter_date": document.letter_date.isoformat(),
                "created_at": document.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                "sha256": document.sha256,
                "size_kb": max(1, round(document.size_bytes / 1024)),
                "version": document.case_version,
                "current": current,
                "signed_by": (
                    f"{signature.signer_name}, {signature.signer_credentials}" if signature else ""
                ),
                "signed_at": (
                    signature.signed_at.strftime("%Y-%m-%d %H:%M UTC") if signature else ""
                ),
                "superseded": bool(signature and signature.superseded_at is not None),
            }
        )
    return rows


def conflict_page(record: CaseRecord, title: str, message: str) -> tuple[str, int]:
    """A 409 page about the case: what cannot be done now, and the way back to it."""
    return (
        render_template(
            "pages/error.html",
            code=409,
            title=title,
            message=message,
            back_url=url_for("cases.assessment", case_id=record.id),
        ),
        409,
    )


def locked_page(record: CaseRecord) -> tuple[str, int]:
    """The answer to an edit of a case whose state does not allow one."""
    state = label(STATE_LABELS, record.state)
    return conflict_page(
        record,
        "This case cannot be changed now",
        f"The case is {state.lower()}. What was sent to the payer stays as it was sent. "
        "If the payer asks for more information, record that on the case page "
        "(pended), then edit it.",
    )
