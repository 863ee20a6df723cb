"""The fax packet: cover sheet, the letter (or appeal), cost summary, checklist, uploads."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from werkzeug.wrappers import Response

from priorauth.documents.packet import build_packet
from priorauth.documents.uploads import UploadRejected
from priorauth.store.models import CaseRecord
from priorauth.store.signatures import (
    SIGNED_APPEAL,
    SIGNED_LETTER,
    binding_holds,
    current_signature,
)

from . import casefile, context
from .casefile import PACKET
from .permissions import Permission, case_action
from .render_limits import render_outside

bp = Blueprint("packet", __name__)


def _signed_pdf(record: CaseRecord, wanted_kind: str) -> bytes | None:
    """What the physician signed, when the signature still covers this content and is of
    the document the packet leads with; otherwise None (a fresh, unsigned rendering)."""
    signature = current_signature(record)
    if (
        signature is not None
        and signature.document.kind == wanted_kind
        and binding_holds(signature, signature.document)
    ):
        return signature.document.pdf
    return None


@bp.post("/cases/<int:case_id>/packet.pdf")
@case_action(Permission.PACKET_ASSEMBLE, action="document.create")
def pdf(record: CaseRecord) -> Response:
    """Assemble the fax packet (outside the transaction, within the time limit), store it
    with its record in a short write, and send it."""
    case, result = casefile.assessed(record)
    denial = casefile.current_denial(record)
    library = context.library()
    try:
        with casefile.rendering():
            packet = render_outside(
                build_packet,
                case,
                result,
                library,
                packet_date=context.today(),
                denial=denial,
                narrative=casefile.appeal_narrative_of(record)
                if denial
                else casefile.narrative_of(record),
                uploads=casefile.uploads_of(record),
                price_tables=library.prices,
                rules=library.appeal_rules,
                signed_pdf=_signed_pdf(record, SIGNED_APPEAL if denial else SIGNED_LETTER),
            )
    except UploadRejected as error:
        context.audit("document.create", "invalid", case_id=record.id)
        flash(f"The packet was not made: {error.reason}.", "error")
        return redirect(url_for("attachments.index", case_id=record.id), code=303)
    return casefile.keep(
        record,
        kind=PACKET,
        case=case,
        assessment=result,
        pdf=packet.pdf,
        provenance=packet.record,
    )
