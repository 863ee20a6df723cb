"""The fax packet: parts in order, every page numbered, uploads checked before use.

Uploads go in as bytes with a declared type, as the web layer receives them.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import os
import re
from collections.abc import Callable
from typing import Any

import pdf_inspect
import pytest
from appeal_examples import APPEAL_EXAMPLES, load_example
from PIL import Image, ImageDraw
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    TextStringObject,
)

from priorauth.documents import output as output_module
from priorauth.documents.packet import MissingEnclosures, PacketDocument, build_packet
from priorauth.documents.pdf import html_to_pdf
from priorauth.documents.uploads import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_PAGES,
    MAX_UPLOADS,
    Upload,
    UploadRejected,
    check_upload,
)
from priorauth.domain.case import Case
from priorauth.rules import evaluate
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)


def synthetic_pdf(marker: str, pages: int, size: str = "letter") -> bytes:
    body = "".join(
        f"<section style='break-after: page'><p>{marker} PAGE {n} SYNTHETIC</p></section>"
        for n in range(1, pages + 1)
    )
    html = (
        "<!doctype html><html lang='en'><head><title>t</title>"
        f"<style>@page {{ size: {size}; }}</style></head><body>{body}</body></html>"
    )
    return html_to_pdf(html, title="Synthetic")


def synthetic_image(kind: str = "PNG", size: tuple[int, int] = (600, 800)) -> bytes:
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).rectangle((20, 20, size[0] - 20, 120), outline="black", width=4)
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


@pytest.fixture(scope="module")
def pdf_a() -> bytes:
    return synthetic_pdf("ALPHA", 2)


@pytest.fixture(scope="module")
def pdf_b() -> bytes:
    return synthetic_pdf("BRAVO", 3)


@pytest.fixture
def case(make_case: Callable[[dict[str, Any]], Case], example_data: dict[str, Any]) -> Case:
    return make_case(example_data)


def uploads(pdf_a: bytes, pdf_b: bytes) -> list[Upload]:
    return [
        Upload("ncs.pdf", "application/pdf", pdf_a, enclosure_id="ncs_report"),
        Upload("incat-sheet.png", "image/png", synthetic_image(), title="INCAT score sheet"),
        Upload("neuro.pdf", "application/pdf", pdf_b, enclosure_id="neurology_note"),
    ]


def test_two_pdfs_and_an_image_in_order_every_page_numbered(
    case: Case, library: Library, pdf_a: bytes, pdf_b: bytes
) -> None:
    assessment = evaluate(case, library, TODAY)
    packet = build_packet(
        case, assessment, library, packet_date=TODAY, uploads=uploads(pdf_a, pdf_b)
    )
    kinds = [part.kind for part in packet.parts]
    assert kinds == [
        "cover",
        "letter",
        "attachment",
        "attachment",
        "attachment",
    ]
    sizes = {part.title: part.page_count for part in packet.parts}
    assert sizes["Fax cover sheet"] == 1
    assert sizes["Attachment 1: ncs.pdf"] == 2
    assert sizes["Attachment 2: INCAT score sheet"] == 1
    assert sizes["Attachment 3: neuro.pdf"] == 3
    # Parts follow each other with no gap, and add up to the whole.
    for before, after in zip(packet.parts, packet.parts[1:], strict=False):
        assert after.first_page == before.first_page + before.page_count
    pages = pdf_inspect.reader(packet.pdf).pages
    assert len(pages) == packet.page_count == sum(p.page_count for p in packet.parts)

    texts = [" ".join(page.extract_text().split()) for page in pages]
    for number, text in enumerate(texts, start=1):
        assert f"Member ID EHP000123 · Packet page {number} of {packet.page_count}" in text
    alpha = packet.parts[2].first_page
    assert "ALPHA PAGE 1" in texts[alpha - 1] and "ALPHA PAGE 2" in texts[alpha]
    assert "Attachment 2: INCAT score sheet" in texts[packet.parts[3].first_page - 1]
    bravo = packet.parts[4].first_page
    assert [f"BRAVO PAGE {n}" in texts[bravo - 2 + n] for n in (1, 2, 3)] == [True] * 3
    assert "Letter of medical necessity" in texts[packet.parts[1].first_page - 1]
    # The cover: page count and where each part starts.
    cover = texts[0]
    assert f"{packet.page_count} pages, including this cover sheet" in cover
    for part in packet.parts:
        assert f"{part.pages} {part.title}" in cover
    assert "Avery" not in cover, "the cover sheet carries no patient name"
    # Only the neutral title in the metadata; nothing attached.
    metadata = pdf_inspect.reader(packet.pdf).metadata or {}
    assert {str(k): str(v) for k, v in metadata.items()} == {"/Title": "Prior authorization packet"}
    assert pdf_inspect.embedded_files(packet.pdf) == []


def test_the_checklist_says_what_is_attached_and_what_is_missing(
    case: Case, library: Library, pdf_a: bytes
) -> None:
    uploads = [Upload("ncs.pdf", "application/pdf", pdf_a, enclosure_id="ncs_report")]
    assessment = evaluate(case, library, TODAY)
    with pytest.raises(MissingEnclosures) as refused:
        build_packet(case, assessment, library, packet_date=TODAY, uploads=uploads)
    assert refused.value.titles == (
        "Neurology consultation note with the diagnosis and disability examination",
    )
    packet = build_packet(
        case, assessment, library, packet_date=TODAY, uploads=uploads, missing_confirmed=True
    )
    assert packet.missing_enclosures == (
        "Neurology consultation note with the diagnosis and disability examination",
    )
    checklist = packet.checklist
    status = {line.title: line.status for line in checklist.enclosures}
    assert status["Nerve conduction study / EMG report showing demyelination"] == "Attached"
    assert status["Serum protein electrophoresis and immunofixation results"] == "Not attached"
    assert checklist.summary.startswith("1 of 2 required enclosures attached; missing: Neurology")
    # The checklist and the cost summary are for staff and the patient, never faxed.
    text = pdf_inspect.text(packet.pdf)
    assert "required enclosures attached" not in text
    assert [p.kind for p in packet.parts] == ["cover", "letter", "attachment"]


def test_an_appeal_packet_opens_with_the_appeal_and_flags_urgency(library: Library) -> None:
    path = next(p for p in APPEAL_EXAMPLES if p.stem == "appeal-not-medically-necessary")
    example = load_example(path, library)
    packet = build_packet(
        example.case,
        example.assessment,
        library,
        packet_date=example.as_of,
        denial=example.denial,
        uploads=example.uploads,
    )
    assert packet.parts[1].kind == "appeal"
    assert packet.missing_enclosures == ()
    cover = " ".join(pdf_inspect.reader(packet.pdf).pages[0].extract_text().split())
    assert "URGENT: expedited review requested" in cover
    assert "Your reference DN-2026-0042" in cover
    assert packet.record["denial"]["payer_reference"] == "DN-2026-0042"
    assert [a["filename"] for a in packet.record["attachments"]] == [
        "denial-notice.pdf",
        "ncs-report.pdf",
        "neurology-note.pdf",
    ]


def test_pages_of_another_size_or_turned_are_numbered_too(case: Case, library: Library) -> None:
    a4 = synthetic_pdf("A4DOC", 1, size="A4")
    writer = PdfWriter()
    writer.append(io.BytesIO(synthetic_pdf("TURNED", 1)))
    writer.pages[0].rotate(90)
    turned = io.BytesIO()
    writer.write(turned)
    packet = build_packet(
        case,
        evaluate(case, library, TODAY),
        library,
        packet_date=TODAY,
        missing_confirmed=True,
        uploads=[
            Upload("a4.pdf", "application/pdf", a4),
            Upload("turned.pdf", "application/pdf", turned.getvalue()),
        ],
    )
    pages = pdf_inspect.reader(packet.pdf).pages
    last_two = [" ".join(p.extract_text().split()) for p in pages[-2:]]
    assert f"Packet page {packet.page_count - 1} of {packet.page_count}" in last_two[0]
    assert f"Packet page {packet.page_count} of {packet.page_count}" in last_two[1]
    assert "A4DOC PAGE 1" in last_two[0]
    assert round(float(pages[-2].mediabox.width)) == 595  # A4 keeps its size
    assert "Cost summary" not in [p.title for p in packet.parts]


def _hostile_pdf() -> bytes:
    writer = PdfWriter()
    writer.append(io.BytesIO(synthetic_pdf("HOSTILE", 1)))
    writer.add_attachment("secret.txt", b"exfiltrated secret")
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('hello');"),
        }
    )
    page = writer.pages[0]
    attachment = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/FileAttachment"),
            NameObject("/Rect"): ArrayObject([FloatObject(10), FloatObject(10)] * 2),
            NameObject("/Contents"): TextStringObject("file"),
        }
    )
    link = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(0), FloatObject(0)] * 2),
            NameObject("/A"): DictionaryObject(
                {
                    NameObject("/S"): NameObject("/JavaScript"),
                    NameObject("/JS"): TextStringObject("app.alert(1)"),
                }
            ),
        }
    )
    page[NameObject("/Annots")] = ArrayObject(
        [writer._add_object(attachment), writer._add_object(link)]
    )
    page[NameObject("/AA")] = DictionaryObject()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_uploaded_pdf_brings_its_pages_only(case: Case, library: Library) -> None:
    hostile = _hostile_pdf()
    assert pdf_inspect.embedded_files(hostile), "the fixture must carry an attachment"
    packet = build_packet(
        case,
        evaluate(case, library, TODAY),
        library,
        packet_date=TODAY,
        missing_confirmed=True,
        uploads=[Upload("hostile.pdf", "application/pdf", hostile)],
    )
    assert "HOSTILE PAGE 1" in pdf_inspect.text(packet.pdf)
    assert pdf_inspect.embedded_files(packet.pdf) == []
    assert not pdf_inspect.contains_bytes(packet.pdf, b"exfiltrated secret")
    assert not pdf_inspect.contains_bytes(packet.pdf, b"app.alert")
    dictionaries, _ = pdf_inspect.walk(packet.pdf)
    assert not [d for d in dictionaries if "/JavaScript" in d or "/JS" in d or "/AA" in d]


def _encrypted() -> bytes:
    writer = PdfWriter()
    writer.append(io.BytesIO(synthetic_pdf("LOCKED", 1)))
    writer.encrypt("secret-password")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _many_pages(count: int) -> bytes:
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(612, 792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _huge_image() -> bytes:
    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, "PNG")
    return out.getvalue()


GOOD_PDF = synthetic_pdf("GOOD", 1)
GOOD_PNG = synthetic_image()
GOOD_JPEG = synthetic_image("JPEG")

BAD_UPLOADS = [
    ("empty", "application/pdf", b"", "the file is empty"),
    (
        "oversized",
        "application/pdf",
        GOOD_PDF + b"\0" * MAX_UPLOAD_BYTES,
        "the limit is 10.0 MB per file",
    ),
    ("not-allowed", "text/plain", b"hello", "only PDF, PNG and JPEG files can be attached"),
    (
        "png-called-pdf",
        "application/pdf",
        GOOD_PNG,
        "declared as a PDF, but the contents are a PNG image",
    ),
    (
        "jpeg-called-png",
        "image/png",
        GOOD_JPEG,
        "declared as a PNG image, but the contents are a JPEG image",
    ),
    (
        "gif-called-png",
        "image/png",
        b"GIF89a" + b"\0" * 50,
        "the contents are not a PDF, PNG or JPEG file",
    ),
    (
        "corrupt-pdf",
        "application/pdf",
        b"%PDF-1.7\n" + os.urandom(3000) + b"\n%%EOF\n",
        "the PDF cannot be read (it is damaged",
    ),
    ("truncated-pdf", "application/pdf", GOOD_PDF[: len(GOOD_PDF) // 2], "the PDF is incomplete"),
    ("truncated-png", "image/png", GOOD_PNG[: len(GOOD_PNG) // 2], "the PNG image cannot be read"),
    (
        "truncated-jpeg",
        "image/jpeg",
        GOOD_JPEG[: len(GOOD_JPEG) // 2],
        "the JPEG image cannot be read",
    ),
    ("password", "application/pdf", _encrypted(), "the PDF is password-protected"),
    (
        "too-many-pages",
        "application/pdf",
        _many_pages(MAX_UPLOAD_PAGES + 1),
        f"the limit is {MAX_UPLOAD_PAGES} per file",
    ),
    ("huge-image", "image/png", _huge_image(), "the PNG image is 8000 × 6000 pixels"),
]


@pytest.mark.parametrize(
    ("name", "declared", "data", "needle"), BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS]
)
def test_a_bad_upload_gets_a_clear_error(
    name: str, declared: str, data: bytes, needle: str
) -> None:
    with pytest.raises(UploadRejected) as caught:
        check_upload(Upload(f"{name}.bin", declared, data))
    assert needle in str(caught.value)
    assert str(caught.value).startswith(f"{name}.bin: ")


@pytest.mark.parametrize(
    ("name", "declared", "data", "needle"), BAD_UPLOADS[:8], ids=[b[0] for b in BAD_UPLOADS[:8]]
)
def test_a_bad_upload_stops_the_packet_before_anything_is_rendered(
    case: Case,
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    declared: str,
    data: bytes,
    needle: str,
) -> None:
    before = copy.deepcopy(case.model_dump(mode="json"))

    def no_rendering(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("rendered despite a bad upload")

    monkeypatch.setattr(output_module, "convert", no_rendering)
    good = Upload("good.pdf", "application/pdf", GOOD_PDF)
    with pytest.raises(UploadRejected, match=re.escape(needle)):
        build_packet(
            case,
            evaluate(case, library, TODAY),
            library,
            packet_date=TODAY,
            uploads=[good, Upload(f"{name}.bin", declared, data)],
        )
    assert case.model_dump(mode="json") == before


def test_packet_limits(case: Case, library: Library) -> None:
    assessment = evaluate(case, library, TODAY)
    too_many = [Upload(f"{n}.png", "image/png", GOOD_PNG) for n in range(MAX_UPLOADS + 1)]
    with pytest.raises(UploadRejected, match=f"a packet takes at most {MAX_UPLOADS}"):
        build_packet(case, assessment, library, packet_date=TODAY, uploads=too_many)
    unknown = [Upload("x.pdf", "application/pdf", GOOD_PDF, enclosure_id="igg_labs")]
    with pytest.raises(UploadRejected, match="there is no enclosure 'igg_labs'"):
        build_packet(case, assessment, library, packet_date=TODAY, uploads=unknown)
    with pytest.raises(ValueError, match="needs the recorded denial"):
        build_packet(
            case,
            assessment,
            library,
            packet_date=TODAY,
            document=PacketDocument.APPEAL,
            missing_confirmed=True,
        )


def test_the_declared_type_may_be_written_loosely_and_names_are_cleaned() -> None:
    checked = check_upload(Upload("C:\\scans\\..\\lab\x07 report.PDF", " PDF ", GOOD_PDF))
    assert checked.attachment.filename == "lab report.PDF"
    assert checked.attachment.media_type.value == "application/pdf"
    assert checked.attachment.pages == 1
    # Kept as its clean rebuild (upload_pdf), which is what the size and hash describe.
    assert checked.data.startswith(b"%PDF-1.7")
    assert checked.attachment.size_bytes == len(checked.data)


def test_the_cover_names_what_follows_separately(case: Case, library: Library) -> None:
    packet = build_packet(
        case, evaluate(case, library, TODAY), library, packet_date=TODAY, missing_confirmed=True
    )
    assert packet.cover.to_follow == packet.missing_enclosures != ()
    cover = " ".join(pdf_inspect.reader(packet.pdf).pages[0].extract_text().split())
    assert "To follow separately:" in cover
    assert "Nerve conduction study" in cover
