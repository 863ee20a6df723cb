"""What rendering a document gives back, and the record of what produced it.

``Rendered`` is the result of the appeal, exception, peer-to-peer and PDF/A
renderers: the HTML given to WeasyPrint, the PDF, the context behind them, and
``record``: the definition versions, the assessment and the case snapshot the
document was made from (DESIGN.md: every stored document records them). The
record is plain JSON data, so the store can keep it and the PDF/A variant can
carry it inside the file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from priorauth.domain.case import Case
from priorauth.domain.denial import Attachment, Denial, Justification
from priorauth.rules.assessment import Assessment

from .pdf import Fetch, print_stylesheet_text

RECORD_TYPE = "priorauth.document-record"
RECORD_VERSION = 1

C = TypeVar("C")


@dataclass(frozen=True)
class Rendered(Generic[C]):
    """A rendered document: its HTML, its PDF, its context and the record behind it."""

    html: str
    pdf: bytes
    context: C
    page_count: int
    fetches: tuple[Fetch, ...] = ()
    record: Mapping[str, Any] = field(default_factory=dict)

    @property
    def preview_html(self) -> str:
        """The HTML with the print stylesheet inlined, for showing in a browser."""
        style = f"<style>{print_stylesheet_text()}</style>"
        return self.html.replace("</head>", f"{style}</head>", 1)


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
) -> dict[str, Any]:
    """What produced a document, as JSON-ready data: the same inputs give the same record."""
    return {
        "record_type": RECORD_TYPE,
        "record_version": RECORD_VERSION,
        "document": document,
        "document_date": document_date.isoformat(),
        "definition_versions": dict(sorted(assessment.definition_versions.items())),
        "case": case.model_dump(mode="json"),
        "assessment": assessment.model_dump(mode="json"),
        "denial": denial.model_dump(mode="json") if denial is not None else None,
        "justification": (
            justification.model_dump(mode="json") if justification is not None else None
        ),
        "attachments": [a.model_dump(mode="json") for a in attachments],
        "narrative": dict(sorted((narrative or {}).items())),
    }


def record_json(record: Mapping[str, Any]) -> bytes:
    """Serialise a record the same way every time (sorted keys, UTF-8)."""
    return (json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
