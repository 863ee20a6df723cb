"""What rendering a document gives back, and the record of what produced it.

Every render function (letter, appeal, exception request, peer-to-peer sheet,
cost summary, PDF/A) returns a ``Rendered``: the PDF, the HTML given to
WeasyPrint, the context behind them and a ``DocumentRecord``. The record names
the definition versions, the assessment, the case snapshot and whatever else
went in (denial, grounds, attachments, the physician's edits): DESIGN.md asks
every stored document to keep it. Read as a mapping it is plain JSON data, the
same every time for the same inputs, so the store keeps it as it is and the
PDF/A variant carries it inside the file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

from priorauth.domain.case import Case
from priorauth.domain.denial import Attachment, Denial, Justification
from priorauth.rules.assessment import Assessment

from .doubts import Review
from .pdf import PDFA_VARIANT, Fetch, RecordFile, convert, print_stylesheet_text
from .render import render_html

RECORD_TYPE = "priorauth.document-record"
RECORD_VERSION = 1
# The one file a PDF/A document carries.
RECORD_NAME = "case-record.json"
RECORD_DESCRIPTION = "The case data, assessment and definition versions behind this document"

C = TypeVar("C")
# A Rendered of a letter is a Rendered of any context the letter's context is.
C_co = TypeVar("C_co", covariant=True)


# eq=False: records compare as the mappings they read as, so a stored record
# (a plain dict) and a freshly built one are equal when their data is.
@dataclass(frozen=True, eq=False)
class DocumentRecord(Mapping[str, Any]):
    """What produced a document; as a mapping, the JSON data the store keeps."""

    document: str
    document_date: dt.date
    case: Case
    assessment: Assessment
    denial: Denial | None = None
    justification: Justification | None = None
    attachments: tuple[Attachment, ...] = ()
    narrative: Mapping[str, str] = field(default_factory=dict)

    @property
    def definition_versions(self) -> dict[str, str]:
        return dict(sorted(self.assessment.definition_versions.items()))

    @cached_property
    def _data(self) -> dict[str, Any]:
        return {
            "record_type": RECORD_TYPE,
            "record_version": RECORD_VERSION,
            "document": self.document,
            "document_date": self.document_date.isoformat(),
            "definition_versions": self.definition_versions,
            "case": self.case.model_dump(mode="json"),
            "assessment": self.assessment.model_dump(mode="json"),
            "denial": self.denial.model_dump(mode="json") if self.denial is not None else None,
            "justification": (
                self.justification.model_dump(mode="json")
                if self.justification is not None
                else None
            ),
            "attachments": [a.model_dump(mode="json") for a in self.attachments],
            "narrative": dict(sorted(self.narrative.items())),
        }

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def json_bytes(self) -> bytes:
        """The record as a file: the same bytes every time (sorted keys, UTF-8)."""
        text = json.dumps(self._data, sort_keys=True, indent=2, ensure_ascii=False)
        return (text + "\n").encode()


def document_record(
    document: str,
    case: Case,
    assessment: Assessment,
    *,
    document_date: dt.date,
    denial: Denial | None = None,
    justification: Justification | None = None,
    attachments: Sequence[Attachment] = (),
    narrative: Mapping[str, str] | None = None,
) -> DocumentRecord:
    """Record what produces a document; a caller may build it first to find a stored copy."""
    return DocumentRecord(
        document=document,
        document_date=document_date,
        case=case,
        assessment=assessment,
        denial=denial,
        justification=justification,
        attachments=tuple(attachments),
        narrative=dict(narrative or {}),
    )


@dataclass(frozen=True)
class Rendered(Generic[C_co]):
    """A rendered document: its PDF, the HTML behind it, its context and its record."""

    pdf: bytes
    html: str
    context: C_co
    page_count: int
    record: DocumentRecord
    # Every URL the document asked for while rendering; only packaged assets are served.
    fetches: tuple[Fetch, ...] = ()
    # A payer document's review (doubts.py): for staff and the physician, never printed on it.
    review: Review | None = None
    # Where elements with an id landed (pdf.PdfOutput.anchors): the signature line's box.
    anchors: Mapping[str, tuple[int, float, float, float]] = field(default_factory=dict)

    @property
    def preview_html(self) -> str:
        """The HTML with the print stylesheet inlined, for showing in a browser."""
        style = f"<style>{print_stylesheet_text()}</style>"
        return self.html.replace("</head>", f"{style}</head>", 1)


def render_document(
    template: str,
    context: C,
    record: DocumentRecord,
    *,
    title: str,
    archival: bool = False,
    review: Review | None = None,
) -> Rendered[C]:
    """Render a document's template to HTML and PDF, with the record of what produced it.

    ``archival`` writes PDF/A-3b, which carries the record as its one embedded file.
    """
    html = render_html(template, context)
    if archival:
        day = record.document_date
        created = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        embedded = RecordFile(RECORD_NAME, record.json_bytes(), RECORD_DESCRIPTION, created)
        output = convert(html, title=title, variant=PDFA_VARIANT, record=embedded)
    else:
        output = convert(html, title=title)
    return Rendered(
        pdf=output.pdf,
        html=html,
        context=context,
        page_count=output.page_count,
        record=record,
        fetches=output.fetches,
        review=review,
        anchors=output.anchors,
    )


def render_pdf(
    template: str,
    context: Any,
    *,
    title: str,
    images: Mapping[str, tuple[bytes, str]] | None = None,
) -> bytes:
    """Render a part of a larger document (a packet's cover, checklist, pages) to PDF."""
    return convert(render_html(template, context), title=title, images=images).pdf
