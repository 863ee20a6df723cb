"""Documents: a frozen context of plain values → HTML (Jinja2) → PDF (WeasyPrint).

The web and CLI layers call the render functions (``render_letter`` here, the
others in their own modules); each returns a ``Rendered`` with the record of
what produced it. Nothing here reads or writes the store, and nothing flows
back up.
"""

from __future__ import annotations

from .letter import (
    LETTER_TEMPLATE,
    NARRATIVE_SECTIONS,
    LetterContext,
    build_letter_context,
    render_letter,
)
from .output import DocumentRecord, Rendered, document_record
from .pdf import DocumentTooLarge, Fetch, html_to_pdf
from .render import render_html

__all__ = [
    "LETTER_TEMPLATE",
    "NARRATIVE_SECTIONS",
    "DocumentRecord",
    "DocumentTooLarge",
    "Fetch",
    "LetterContext",
    "Rendered",
    "build_letter_context",
    "document_record",
    "html_to_pdf",
    "render_html",
    "render_letter",
]
