"""What reaches the payer carries nothing internal, for every example under every payer.

Every example case (examples/ and each indication's examples under forms/) is
assessed under every payer profile, and every payer-facing document it can have
is built: the letter (of medical necessity or of exception), the exception
request, the appeal and the fax cover. Their text holds no draft banner, no
"unverified" mark, no illustrative price, no instruction to staff and no tag
pointing into the reference notes; their references hold no other payer's policy
and none of the project's own notes. The whole matrix is read from the HTML given
to WeasyPrint; the PDFs' text, as captured for every example under its own profile
(golden_text.py), is read too, and the packets' payer pages for the examples under
examples/.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdf_inspect
import pytest
from golden_text import GOLDEN_DIR
from pypdf import PdfWriter

from priorauth.documents import render_html
from priorauth.documents.appeal import APPEAL_TEMPLATE, draft_appeal
from priorauth.documents.cover import cover_context
from priorauth.documents.exception import EXCEPTION_TEMPLATE, NoExceptionNeeded, draft_exception
from priorauth.documents.letter import LETTER_TEMPLATE, draft_letter
from priorauth.documents.packet import COVER_TEMPLATE, build_packet
from priorauth.documents.parts import Reference
from priorauth.domain.case import Case
from priorauth.domain.denial import Denial, Justification
from priorauth.rules import evaluate
from priorauth.rules.citations import cited_to
from priorauth.rules.library import Library

ROOT = Path(__file__).resolve().parents[2]
CASE_FILES = sorted((ROOT / "examples").glob("*.json"))
EXAMPLES = CASE_FILES + sorted((ROOT / "forms" / "indications").glob("*/examples/*.json"))
DEFAULT_AS_OF = dt.date(2026, 11, 20)
# What only staff or the physician may read: marks, banners, prices, pointers into the notes.
INTERNAL = re.compile(
    r"unverified|\bdraft\b|illustrative|not confirmed|reference notes|placeholder"
    r"|third-party summar|\bthe project\b|\[S\d|\bissue \d|as summarised in",
    re.IGNORECASE,
)
# An instruction to staff: "check them against the payer's policy before this letter is sent".
INSTRUCTION = re.compile(r"\b(check|verify|confirm)\b[^.]{0,200}\bbefore\b", re.IGNORECASE)
# The parts that are not the payer's: never in the packet (issue 10's signing half).
INTERNAL_PARTS = {"cost_summary", "checklist"}


@dataclass(frozen=True)
class Example:
    path: Path
    as_of: dt.date
    case: dict[str, Any]
    denial: Denial | None
    justification: Justification | None

    @property
    def name(self) -> str:
        return str(self.path.relative_to(ROOT))


def load(path: Path) -> Example:
    data = json.loads(path.read_text(encoding="utf-8"))
    wrapped = isinstance(data, dict) and "case" in data
    as_of = dt.date.fromisoformat(data["as_of"]) if wrapped and "as_of" in data else DEFAULT_AS_OF
    context = {"today": as_of}
    denial = justification = None
    if wrapped and "denial" in data:
        denial = Denial.model_validate(data["denial"], context=context)
    if wrapped and "justification" in data:
        justification = Justification.model_validate(data["justification"], context=context)
    return Example(path, as_of, data["case"] if wrapped else data, denial, justification)


def as_payer(example: Example, profile: str) -> Case:
    data = copy.deepcopy(example.case)
    data["coverage"]["payer_profile"] = profile
    return Case.model_validate(data, context={"today": example.as_of})


def html_text(markup: str) -> str:
    """The words of a document's HTML, as a reader of its PDF would see them."""
    body = markup.split("<body", 1)[1]
    body = re.sub(r"<style.*?</style>", " ", body, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def internal_words(text: str) -> list[str]:
    found = [m.group(0) for m in INTERNAL.finditer(text)]
    return found + [m.group(0)[:80] for m in INSTRUCTION.finditer(text)]


def foreign_references(
    references: tuple[Reference, ...], library: Library, indication: str, profile: str
) -> list[str]:
    """References a document for this payer must not cite: another payer's policy, a note."""
    definition = library.indications[indication]
    by_text = {c.text: c for c in definition.citations}
    payer = library.payers[profile]
    return [r.text[:80] for r in references if not cited_to(by_text[r.text], payer)]


def payer_documents(
    example: Example, profile: str, library: Library
) -> Iterator[tuple[str, str, tuple[Reference, ...]]]:
    """Each payer document of the example under the profile: its name, text and references."""
    case = as_payer(example, profile)
    assessment = evaluate(case, library, example.as_of)
    letter = draft_letter(case, assessment, library, letter_date=example.as_of).context
    yield "letter", html_text(render_html(LETTER_TEMPLATE, letter)), letter.references
    try:
        exception = draft_exception(
            case,
            assessment,
            library,
            letter_date=example.as_of,
            justification=example.justification,
        ).context
    except NoExceptionNeeded:
        pass
    else:
        text = html_text(render_html(EXCEPTION_TEMPLATE, exception))
        yield "exception", text, exception.references
    if example.denial is not None:
        appeal = draft_appeal(
            case,
            assessment,
            library,
            example.denial,
            letter_date=example.as_of,
            justification=example.justification,
        ).context
        yield "appeal", html_text(render_html(APPEAL_TEMPLATE, appeal)), appeal.references
    cover = cover_context(
        case,
        "Letter of medical necessity",
        example.denial,
        library.appeal_rules,
        total=3,
        contents=(),
        fax_to="",
        attention=letter.recipient[1],
    )
    yield "fax cover", html_text(render_html(COVER_TEMPLATE, cover)), ()


@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_every_payer_document_under_every_profile_is_clean(path: Path, library: Library) -> None:
    example = load(path)
    indication = example.case["indication_id"]
    problems = []
    for profile in sorted(library.payers):
        for name, text, references in payer_documents(example, profile, library):
            for word in internal_words(text):
                problems.append(f"{profile} {name}: {word!r}")
            for ref in foreign_references(references, library, indication, profile):
                problems.append(f"{profile} {name} cites {ref!r}")
    assert not problems, "\n".join(problems)


PAYER_GOLDEN = sorted(
    path
    for document in ("letter", "appeal", "exception")
    for path in GOLDEN_DIR.glob(f"*__{document}.txt")
)


@pytest.mark.parametrize("path", PAYER_GOLDEN, ids=[p.stem for p in PAYER_GOLDEN])
def test_the_pdfs_read_back_clean(path: Path) -> None:
    """The text a payer's reader extracts from each example's PDF, under its own profile.

    test_golden_text.py proves these files are exactly what the PDFs read back as
    today; a document a case cannot have holds the command's error instead.
    """
    text = path.read_text(encoding="utf-8")
    if text.startswith("NO DOCUMENT"):
        return
    assert not internal_words(pdf_inspect.squeezed(text)), internal_words(text)


def _pages(pdf: bytes, numbers: list[int]) -> bytes:
    reader = pdf_inspect.reader(pdf)
    writer = PdfWriter()
    for number in numbers:
        writer.add_page(reader.pages[number - 1])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_the_packets_payer_pages_are_clean(path: Path, library: Library) -> None:
    example = load(path)
    case = Case.model_validate(example.case, context={"today": example.as_of})
    packet = build_packet(
        case,
        evaluate(case, library, example.as_of),
        library,
        packet_date=example.as_of,
        denial=example.denial,
        justification=example.justification,
        missing_confirmed=True,  # no uploads here: staff confirmed sending them separately
    )
    assert not {part.kind for part in packet.parts} & INTERNAL_PARTS
    numbers = [
        part.first_page + offset
        for part in packet.parts
        if part.kind not in INTERNAL_PARTS
        for offset in range(part.page_count)
    ]
    text = pdf_inspect.squeezed(pdf_inspect.text(_pages(packet.pdf, numbers)))
    assert not internal_words(text), internal_words(text)


def test_the_checks_see_internal_words_and_another_payers_policy(library: Library) -> None:
    """The checks above would pass vacuously if they could not see a problem."""
    for text in (
        "Items marked UNVERIFIED are not confirmed",
        "Draft: not ready to submit",
        "an illustrative price",
        "Check them against the payer's current policy before this letter is signed",
        "Ontario IGUM dose calculator [S18]",
    ):
        assert internal_words(text), text
    assert internal_words("Avery Testpatient, Member ID EHP000123") == []
    pid = library.indications["pid"]
    aetna = next(c for c in pid.citations if c.id == "aetna_0206")
    reference = Reference(1, aetna.text, aetna.date, "")
    assert foreign_references((reference,), library, "pid", "uhc")
    assert not foreign_references((reference,), library, "pid", "aetna")
