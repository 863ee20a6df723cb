"""The fax packet for the payer: cover sheet, the signed letter (or appeal, or exception
request), the attached files. Required enclosures missing: refused with their names, or
built after staff confirm they will send them separately (recorded and audited)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from priorauth.documents.packet import MissingEnclosures, PacketDocument, build_packet
from priorauth.documents.uploads import UploadRejected
from priorauth.store.models import CaseRecord, Document, utcnow
from priorauth.store.signatures import (
    SIGNED_APPEAL,
    SIGNED_EXCEPTION,
    SIGNED_LETTER,
    binding_holds,
    current_signature,
)

from . import casefile, context
from .casefile import PACKET
from .context import View
from .fields import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from .pages import case_heading
from .permissions import Permission, case_action
from .render_limits import render_outside

bp = Blueprint("packet", __name__)

CONFIRMATION_MAX_CHARS = 500


def _signed(record: CaseRecord, wanted_kinds: frozenset[str]) -> Document | None:
    """What the physician signed, when the signature still covers this content and is of
    a document the packet may lead with; otherwise None (a fresh, unsigned rendering)."""
    signature = current_signature(record)
    if (
        signature is not None
        and signature.document.kind in wanted_kinds
        and binding_holds(signature, signature.document)
    ):
        return signature.document
    return None


def _missing_page(
    record: CaseRecord, missing: tuple[str, ...], *, reason: str, error: str
) -> tuple[str, int]:
    return (
        render_template(
            "pages/packet_missing.html",
            heading=case_heading(record),
            missing=missing,
            reason=reason,
            error=error,
            max_chars=CONFIRMATION_MAX_CHARS,
        ),
        409,
    )


def _confirmation() -> tuple[bool, str, str]:
    """Whether staff confirmed sending the missing enclosures separately, the reason, an error."""
    if request.form.get("confirm_missing") != "y":
        return False, "", ""
    reason = request.form.get("reason", "").replace("\r\n", "\n").strip()
    if not reason:
        return False, "", "Say why they are missing and how they will be sent."
    if len(reason) > CONFIRMATION_MAX_CHARS:
        return False, reason, f"Shorten the reason to {CONFIRMATION_MAX_CHARS} characters."
    if has_control_characters(reason, long_text=True):
        return False, reason, CONTROL_CHARACTERS_MESSAGE
    return True, reason, ""


@bp.post("/cases/<int:case_id>/packet.pdf")
@case_action(Permission.PACKET_ASSEMBLE, action="document.create")
def pdf(record: CaseRecord) -> View:
    """Assemble the fax packet (outside the transaction, within the time limit), store it
    with its record in a short write, and send it."""
    case, result = casefile.assessed(record)
    denial = casefile.current_denial(record)
    library = context.library()
    wanted = frozenset({SIGNED_APPEAL} if denial else {SIGNED_LETTER, SIGNED_EXCEPTION})
    signed = _signed(record, wanted)
    narrative = casefile.appeal_narrative_of(record) if denial else casefile.narrative_of(record)
    document = None
    if signed is not None and signed.kind == SIGNED_EXCEPTION:
        # The exception request as signed: with the physician's reason, kept in its record.
        document = PacketDocument.EXCEPTION
        narrative = dict((signed.record or {}).get("narrative") or {}) or None
    confirmed, reason, error = _confirmation()
    try:
        with casefile.rendering():
            packet = render_outside(
                build_packet,
                case,
                result,
                library,
                packet_date=context.today(),
                document=document,
                denial=denial,
                narrative=narrative,
                uploads=casefile.uploads_of(record),
                rules=library.appeal_rules,
                signed_pdf=signed.pdf if signed is not None else None,
                missing_confirmed=confirmed,
            )
    except UploadRejected as error_:
        context.audit("document.create", "invalid", case_id=record.id)
        flash(f"The packet was not made: {error_.reason}.", "error")
        return redirect(url_for("attachments.index", case_id=record.id), code=303)
    except MissingEnclosures as missing:
        context.audit("document.create", "refused", case_id=record.id, detail="missing enclosures")
        return _missing_page(record, missing.titles, reason=reason, error=error)
    provenance: dict[str, Any] = dict(packet.record)
    if packet.missing_enclosures:
        who = context.user()
        provenance["missing_enclosures_confirmed"] = {
            "missing": list(packet.missing_enclosures),
            "by_user_id": who.id,
            "by": who.name,
            "at": utcnow().isoformat(timespec="seconds"),
            "reason": reason,
        }
        context.record(
            "packet.missing_confirmed",
            "ok",
            case_id=record.id,
            detail=f"{len(packet.missing_enclosures)} missing; reason: {reason}",
        )
    response: Response = casefile.keep(
        record, kind=PACKET, case=case, assessment=result, pdf=packet.pdf, provenance=provenance
    )
    return response
