"""The extracted text of every example document, captured so a restructure can prove it
changed nothing a reader sees.

Every case file under ``examples/`` is rendered as every document the command line
makes (a document a case cannot have is recorded with the command's error), and
every indication example under ``forms/`` as its letter. Text comes from the PDF, page
by page, the way a reviewer's reader extracts it.

Refresh the captured text, after a change meant to alter documents, with::

    PRIORAUTH_UPDATE_GOLDEN=1 pytest tests/documents/test_golden_text.py
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader

from priorauth.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
# A case file without its own as_of is judged and dated on this day, so the text is stable.
DEFAULT_AS_OF = "2026-11-20"
SEND_SEPARATELY = "Sent separately by the clinic (synthetic)."
EXAMPLE_DOCUMENTS = (
    "letter",
    "review-sheet",
    "cost-summary",
    "appeal",
    "exception",
    "peer-to-peer",
    "packet",
)


@dataclass(frozen=True)
class GoldenCase:
    """One document of one example file, and the name its text is kept under."""

    path: Path
    document: str

    @property
    def name(self) -> str:
        relative = self.path.relative_to(REPO_ROOT).with_suffix("")
        return "__".join(relative.parts) + f"__{self.document}"

    @property
    def golden_file(self) -> Path:
        return GOLDEN_DIR / f"{self.name}.txt"


def golden_cases() -> Iterator[GoldenCase]:
    for path in sorted((REPO_ROOT / "examples").glob("*.json")):
        for document in EXAMPLE_DOCUMENTS:
            yield GoldenCase(path, document)
    for path in sorted((REPO_ROOT / "forms" / "indications").glob("*/examples/*.json")):
        yield GoldenCase(path, "letter")


def pdf_text(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "\n\f\n".join(
        "\n".join(line.rstrip() for line in page.extract_text().splitlines()) for page in pages
    )


def render_text(case: GoldenCase, tmp_dir: Path) -> str:
    """The document's extracted text, or the command's error when there is no such document."""
    data = json.loads(case.path.read_text(encoding="utf-8"))
    as_of = data.get("as_of") if isinstance(data, dict) and "case" in data else None
    out = tmp_dir / f"{case.name}.pdf"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(
            [
                "render",
                str(case.path),
                "--document",
                case.document,
                "-o",
                str(out),
                "--as-of",
                as_of or DEFAULT_AS_OF,
                # The examples attach few files: staff confirm sending the rest separately.
                *(["--send-separately", SEND_SEPARATELY] if case.document == "packet" else []),
            ]
        )
    if status != 0:
        return f"NO DOCUMENT (exit {status})\n" + err.getvalue().replace(str(REPO_ROOT), "")
    return pdf_text(out.read_bytes())
