"""Whole PDF pages: read them, strip an uploaded page down to its content, and write
the packet with each page stamped.

From an uploaded PDF only the pages are kept: no attached files, scripts,
actions or links survive the merge (perf-security.md §2.1).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.generic import ArrayObject, NameObject

# Annotations an uploaded page may keep: a filled form's widgets keep their
# appearance. Links, file attachments, media and anything with an action go.
_KEPT_ANNOTATIONS = frozenset({"/Widget"})
_DROPPED_ANNOTATION_KEYS = ("/A", "/AA", "/Parent", "/P", "/Kids")
LETTER_WIDTH_PT = 612
LETTER_HEIGHT_PT = 792


def pages(pdf: bytes) -> list[PageObject]:
    """The pages of a PDF we rendered or an upload that passed its checks."""
    reader = PdfReader(io.BytesIO(pdf))
    if reader.is_encrypted:
        reader.decrypt("")  # checked in uploads.py: only an empty password gets this far
    return list(reader.pages)


def sanitize_uploaded_page(page: PageObject) -> None:
    """Keep a page's content; drop attached files, links, scripts and actions."""
    page.pop(NameObject("/AA"), None)
    annotations = page.get("/Annots")
    if annotations is None:
        return
    kept = ArrayObject()
    for reference in annotations.get_object():
        annotation = reference.get_object()
        if annotation.get("/Subtype") not in _KEPT_ANNOTATIONS:
            continue
        for key in _DROPPED_ANNOTATION_KEYS:
            annotation.pop(NameObject(key), None)
        kept.append(reference)
    if kept:
        page[NameObject("/Annots")] = kept
    else:
        del page[NameObject("/Annots")]


def stamped_pdf(body: Sequence[PageObject], stamps: Sequence[PageObject], *, title: str) -> bytes:
    """Write the pages as one PDF, each with its stamp in the top right corner."""
    writer = PdfWriter()
    for page, stamp in zip(body, stamps, strict=True):
        added = writer.add_page(page)
        if added.rotation:
            # Stamp the page as it is seen; rewriting the content costs, so only when turned.
            added.transfer_rotation_to_content()
        box = added.cropbox
        added.merge_transformed_page(
            stamp,
            Transformation().translate(
                float(box.right) - LETTER_WIDTH_PT, float(box.top) - LETTER_HEIGHT_PT
            ),
        )
    # Only a neutral title: no producer, no patient data (DESIGN.md: PDF metadata).
    writer.metadata = None
    writer.add_metadata({"/Title": title})
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
