"""The signed copy of a letter, appeal or exception request.

The document is rendered again with the signer in its own signature block
(name, credentials, NPI, the date, and the attestation under it), then signed
with PAdES: the signature field sits on the signature line, in the space above
it, where a reviewer looks for the signature. Nothing is appended after the
letter: the signed copy has the letter's pages and no others.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .output import Rendered, render_document
from .pades import SignatureBox, sign_pdf
from .parts import SignedBy

# The id the signature block gives its line (templates/documents/_letter_parts.html).
SIGN_LINE_ID = "signature-line"
# The space above the line (print.css: .sign-line's top margin is 24pt), in points.
SIGN_SPACE_PT = 22.0


@dataclasses.dataclass(frozen=True)
class SignedDocument:
    """The signed copy's PDF, its page count, and whether the field landed on the line."""

    pdf: bytes
    page_count: int
    on_signature_line: bool


def with_signer(
    rendered: Rendered[Any], template: str, signed: SignedBy, *, title: str
) -> Rendered[Any]:
    """The same document rendered again with the signer in its signature block."""
    context: Any = rendered.context
    signature = dataclasses.replace(context.signature, signed=signed)
    return render_document(
        template, dataclasses.replace(context, signature=signature), rendered.record, title=title
    )


def signature_box(rendered: Rendered[Any]) -> SignatureBox | None:
    """The space just above the signature line, where the rendering put it."""
    where = rendered.anchors.get(SIGN_LINE_ID)
    if where is None:
        return None
    page, left, line_y, right = where
    return SignatureBox(
        page=page, left=left, bottom=line_y + 1, right=right, top=line_y + SIGN_SPACE_PT
    )


def sign_document(
    rendered: Rendered[Any],
    template: str,
    signed: SignedBy,
    *,
    title: str,
    key_pem: bytes,
    cert_pem: bytes,
) -> SignedDocument:
    """Render the signed copy and sign it with PAdES over the whole file."""
    copy = with_signer(rendered, template, signed, title=title)
    box = signature_box(copy)
    pdf = sign_pdf(
        copy.pdf,
        key_pem=key_pem,
        cert_pem=cert_pem,
        box=box,
        signer_name=f"{signed.name}, {signed.credentials}".strip(", "),
        reason=signed.attestation,
    )
    return SignedDocument(pdf=pdf, page_count=copy.page_count, on_signature_line=box is not None)
