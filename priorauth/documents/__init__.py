"""Documents: a frozen context of plain values → HTML (Jinja2) → PDF (WeasyPrint).

The web and CLI layers call ``render_letter``; nothing here reads or writes the
store, and nothing flows back up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from priorauth.domain.case import Case
from priorauth.rules.assessment import Assessment
from priorauth.rules.library import Library

from .letter import LETTER_TEMPLATE, NARRATIVE_SECTIONS, LetterContext, build_letter_context
from .pdf import DocumentTooLarge, Fetch, convert, html_to_pdf, print_stylesheet_text
from .render import render_html

__all__ = [
    "LETTER_TEMPLATE",
    "NARRATIVE_SECTIONS",
    "DocumentTooLarge",
    "Fetch",
    "LetterContext",
    "RenderedDocument",
    "build_letter_context",
    "html_to_pdf",
    "render_html",
    "render_letter",
]


@dataclass(frozen=True)
class RenderedDocument:
    """A rendered document: the HTML given to WeasyPrint, the PDF, and the context behind them."""

    html: str
    pdf: bytes
    context: LetterContext
    page_count: int = 0
    # Every URL the document asked for while rendering; only packaged assets are served.
    fetches: tuple[Fetch, ...] = ()

    @property
    def preview_html(self) -> str:
        """The HTML with the print stylesheet inlined, for showing in a browser."""
        style = f"<style>{print_stylesheet_text()}</style>"
        return self.html.replace("</head>", f"{style}</head>", 1)


def render_letter(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    letter_date: dt.date,
    narrative: Mapping[str, str] | None = None,
) -> RenderedDocument:
    """Render the prior-authorization letter for an assessed case to HTML and PDF."""
    context = build_letter_context(
        case, assessment, library, letter_date=letter_date, narrative=narrative
    )
    html = render_html(LETTER_TEMPLATE, context)
    output = convert(html, title=context.pdf_title)
    return RenderedDocument(
        html=html,
        pdf=output.pdf,
        context=context,
        page_count=output.page_count,
        fetches=output.fetches,
    )
