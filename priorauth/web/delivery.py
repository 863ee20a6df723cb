"""How a document reaches the browser: a PDF kept in no cache, and a preview frame's HTML
under its own strict policy (no script, no fetch, no form)."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

from flask import send_file
from werkzeug.wrappers import Response

from priorauth.documents import render_html
from priorauth.documents.pdf import print_stylesheet_text

# Content-Security-Policy of a document's preview frame: the document carries its
# print stylesheet inline and nothing else; no script, no fetch, no form.
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)
# Chromium shows a PDF in its own viewer; the page's usual policy would block it.
PDF_VIEW_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'self'"
# The print stylesheet names its fonts by the renderer's own scheme (asset:...), which
# a browser cannot load; in a preview they become the same fonts installed locally.
_ASSET_FONT = re.compile(r'url\(\s*"?asset:fonts/([A-Za-z0-9_-]+)\.ttf"?\s*\)')


def send_pdf(
    data: bytes, download_name: str, *, inline: bool = False, etag: str | None = None
) -> Response:
    """A PDF for the browser; kept in no cache (it is about a patient).

    ``download_name`` must carry no patient data: it lands in download histories.
    """
    response = send_file(
        BytesIO(data),
        mimetype="application/pdf",
        as_attachment=not inline,
        download_name=download_name,
        etag=etag if etag is not None else False,
    )
    response.headers["Cache-Control"] = "no-store"
    if inline:
        response.headers["Content-Security-Policy"] = PDF_VIEW_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def for_browser(html: str) -> str:
    """A document's preview HTML with its fonts named as a browser can find them."""
    return _ASSET_FONT.sub(lambda match: f'local("{match.group(1)}")', html)


def preview_page(template: str, document_context: Any) -> Response:
    """Render a document's template for its preview frame, its print stylesheet inline."""
    html = render_html(template, document_context)
    style = f"<style>{print_stylesheet_text()}</style>"
    return preview(html.replace("</head>", f"{style}</head>", 1))


def preview(html: str) -> Response:
    """A document's HTML for its preview frame, under its own strict policy (no script)."""
    response = Response(for_browser(html), mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
