"""The fax-ready packet: cover sheet, letter, cost summary, enclosures checklist, uploads.

Order, as a reviewer reads it: the cover sheet (to, from, page count, contents,
confidentiality notice), the letter (of medical necessity, appeal or exception
request), the cost summary, the enclosures checklist (what the indication asks
to be enclosed, what is attached and what is missing), then the uploaded files
in the order given: PDFs page by page, each image on a US Letter page of its own.
Every page carries the member ID and its number in the whole packet.

Uploads come in as bytes with a declared type (``uploads.Upload``), so the web
layer can pass what it received; each is checked before anything is rendered,
and nothing here reads or writes the case or the store. From an uploaded PDF
only the pages are kept: no attached files, scripts, actions or links survive
the merge (perf-security.md §2.1).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.generic import ArrayObject, NameObject

from priorauth.domain.case import Case, RequestType
from priorauth.domain.denial import (
    MEDIA_TYPE_LABELS,
    Attachment,
    Denial,
    Justification,
    MediaType,
)
from priorauth.rules.appeals import AppealRules
from priorauth.rules.assessment import Assessment, Status
from priorauth.rules.estimate import CostSummaryUnavailable
from priorauth.rules.library import Library

from .appeal import AppealContext, render_appeal
from .cost_summary import render_cost_summary
from .evidence import DENIAL_NOTICE_ENCLOSURE
from .exception import ExceptionContext, render_exception_request
from .letter import LetterContext, render_letter
from .output import DocumentRecord, Rendered, document_record, render_pdf
from .parts import Row
from .pdf import DocumentTooLarge
from .uploads import CheckedUpload, Upload, UploadRejected, check_upload
from .wording import format_date

COVER_TEMPLATE = "documents/cover_sheet.html"
CHECKLIST_TEMPLATE = "documents/enclosures_checklist.html"
IMAGES_TEMPLATE = "documents/attachment_images.html"
STAMPS_TEMPLATE = "documents/packet_stamps.html"
PDF_TITLE = "Prior authorization packet"

MAX_UPLOADS = 20
MAX_PACKET_UPLOAD_BYTES = 40 * 1024 * 1024
MAX_PACKET_PAGES = 250
# Annotations an uploaded page may keep: a filled form's widgets keep their
# appearance. Links, file attachments, media and anything with an action go.
_KEPT_ANNOTATIONS = frozenset({"/Widget"})
_DROPPED_ANNOTATION_KEYS = ("/A", "/AA", "/Parent", "/P", "/Kids")
LETTER_WIDTH_PT = 612
LETTER_HEIGHT_PT = 792


class PacketDocument(StrEnum):
    LETTER = "letter"
    APPEAL = "appeal"
    EXCEPTION = "exception"


DOCUMENT_TITLES = {
    PacketDocument.LETTER: "Letter of medical necessity",
    PacketDocument.APPEAL: "Appeal letter",
    PacketDocument.EXCEPTION: "Medical exception request",
}


@dataclass(frozen=True, slots=True)
class PacketPart:
    """One document in the packet and the pages it occupies."""

    title: str
    kind: str
    first_page: int
    page_count: int
    note: str = ""

    @property
    def pages(self) -> str:
        last = self.first_page + self.page_count - 1
        return str(self.first_page) if last == self.first_page else f"{self.first_page}–{last}"


@dataclass(frozen=True, slots=True)
class CoverContext:
    pdf_title: str
    document_title: str
    urgent: str
    to_rows: tuple[Row, ...]
    from_rows: tuple[Row, ...]
    re_rows: tuple[Row, ...]
    pages_text: str
    contents: tuple[PacketPart, ...]
    confidentiality: str


@dataclass(frozen=True, slots=True)
class ChecklistLine:
    title: str
    required: bool
    status: str
    status_key: str
    files: str


@dataclass(frozen=True, slots=True)
class ChecklistContext:
    pdf_title: str
    title: str
    running_head: str
    intro: str
    summary: str
    documents: tuple[ChecklistLine, ...]
    enclosures: tuple[ChecklistLine, ...]
    others: tuple[ChecklistLine, ...]
    case_missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImagePage:
    key: str
    caption: str
    filename: str


@dataclass(frozen=True, slots=True)
class ImagePagesContext:
    pdf_title: str
    kind: str
    images: tuple[ImagePage, ...]


@dataclass(frozen=True)
class Packet:
    """The assembled packet: its PDF, its parts in order, and what it was made from."""

    pdf: bytes
    page_count: int
    parts: tuple[PacketPart, ...]
    attachments: tuple[Attachment, ...]
    missing_enclosures: tuple[str, ...]
    draft_reasons: tuple[str, ...]
    cover: CoverContext
    checklist: ChecklistContext
    record: DocumentRecord


def _attachment_name(index: int, attachment: Attachment) -> str:
    return f"Attachment {index}: {attachment.label}"


def _file_text(index: int, attachment: Attachment) -> str:
    pages = f"{attachment.pages} page{'s' if attachment.pages != 1 else ''}"
    return (
        f"Attachment {index}: {attachment.filename} "
        f"({MEDIA_TYPE_LABELS[attachment.media_type]}, {pages})"
    )


def check_uploads(
    uploads: Sequence[Upload | CheckedUpload],
    allowed_enclosures: Mapping[str, str],
) -> tuple[CheckedUpload, ...]:
    """Check every upload and the packet's limits before anything is rendered."""
    if len(uploads) > MAX_UPLOADS:
        raise UploadRejected(
            "attachments", f"{len(uploads)} files; a packet takes at most {MAX_UPLOADS}"
        )
    checked = tuple(u if isinstance(u, CheckedUpload) else check_upload(u) for u in uploads)
    total = sum(c.attachment.size_bytes for c in checked)
    if total > MAX_PACKET_UPLOAD_BYTES:
        raise UploadRejected(
            "attachments",
            f"{total / 1048576:.1f} MB in all; a packet takes at most "
            f"{MAX_PACKET_UPLOAD_BYTES // 1048576} MB of attachments",
        )
    for item in checked:
        enclosure = item.attachment.enclosure_id
        if enclosure is not None and enclosure not in allowed_enclosures:
            raise UploadRejected(
                item.attachment.filename,
                f"there is no enclosure {enclosure!r} for this request; choose one of "
                f"{', '.join(sorted(allowed_enclosures))}, or none",
            )
    return checked


def _allowed_enclosures(case: Case, library: Library, denial: Denial | None) -> dict[str, str]:
    definition = library.indications[case.indication_id]
    allowed = {e.id: e.title for e in definition.enclosures if case.request_type in e.applies_to}
    if denial is not None:
        allowed[DENIAL_NOTICE_ENCLOSURE] = (
            f"Copy of the denial notice ({denial.payer_reference}, {format_date(denial.date)})"
        )
    return allowed


def build_checklist_context(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    main_title: str,
    attachments: Sequence[Attachment],
    denial: Denial | None = None,
    cost_summary_note: str = "",
    running_head: str = "",
) -> ChecklistContext:
    """What the packet holds against what the indication asks to be enclosed."""
    definition = library.indications[case.indication_id]
    numbered = list(enumerate(attachments, start=1))
    allowed = _allowed_enclosures(case, library, denial)
    required = {e.id for e in definition.enclosures if e.required}
    if denial is not None:
        required.add(DENIAL_NOTICE_ENCLOSURE)
    enclosures = []
    missing = []
    for enclosure_id, title in allowed.items():
        files = [_file_text(i, a) for i, a in numbered if a.enclosure_id == enclosure_id]
        needed = enclosure_id in required
        if files:
            status, key = "Attached", "attached"
        elif needed:
            status, key = "Missing", "missing"
            missing.append(title)
        else:
            status, key = "Not attached", "optional"
        enclosures.append(ChecklistLine(title, needed, status, key, "; ".join(files)))
    # The denial notice first: it is what an appeals reviewer opens first.
    enclosures.sort(key=lambda line: not line.title.startswith("Copy of the denial notice"))
    others = tuple(
        ChecklistLine(a.label, False, "Attached", "attached", _file_text(i, a))
        for i, a in numbered
        if a.enclosure_id is None
    )
    documents = [
        ChecklistLine("Fax cover sheet", True, "Included", "included", ""),
        ChecklistLine(main_title, True, "Included", "included", ""),
    ]
    if cost_summary_note:
        documents.append(
            ChecklistLine("Cost summary", False, "Not included", "omitted", cost_summary_note)
        )
    else:
        documents.append(ChecklistLine("Cost summary", False, "Included", "included", ""))
    documents.append(ChecklistLine("This checklist", True, "Included", "included", ""))
    case_missing = tuple(
        f"{r.title}: {r.reason}"
        for r in assessment.criteria
        if r.required and r.status is Status.MISSING
    )
    count_required = sum(1 for line in enclosures if line.required)
    attached_required = sum(1 for line in enclosures if line.required and line.files)
    summary = f"{attached_required} of {count_required} required enclosures attached"
    summary += f"; missing: {'; '.join(missing)}." if missing else "."
    request = "initial request" if case.request_type is RequestType.INITIAL else "continuation"
    return ChecklistContext(
        pdf_title="Enclosures checklist",
        title="Enclosures checklist",
        running_head=running_head,
        intro=(
            f"What this packet holds for {definition.short_name or definition.name} "
            f"({request}), and what the criteria ask to be enclosed. "
            f"{len(attachments)} file{'s' if len(attachments) != 1 else ''} attached; "
            "their pages are listed on the cover sheet."
        ),
        summary=summary,
        documents=tuple(documents),
        enclosures=tuple(enclosures),
        others=others,
        case_missing=case_missing,
    )


def _sanitize_uploaded_page(page: PageObject) -> None:
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


def _pages(pdf: bytes) -> list[PageObject]:
    reader = PdfReader(io.BytesIO(pdf))
    if reader.is_encrypted:
        reader.decrypt("")  # checked in uploads.py: only an empty password gets this far
    return list(reader.pages)


def build_packet(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    packet_date: dt.date,
    document: PacketDocument | None = None,
    denial: Denial | None = None,
    justification: Justification | None = None,
    narrative: Mapping[str, str] | None = None,
    uploads: Sequence[Upload | CheckedUpload] = (),
    cost_summary: bool = True,
    price_tables: Any = None,
    fax_to: str = "",
    attention: str = "",
    rules: AppealRules | None = None,
    signed_pdf: bytes | None = None,
) -> Packet:
    """Assemble the fax packet; raise UploadRejected before rendering if an upload is bad.

    ``signed_pdf`` is the physician's signed PDF of the main document; when given,
    the packet carries it instead of a fresh rendering, which would be unsigned.
    """
    checked = check_uploads(uploads, _allowed_enclosures(case, library, denial))
    attachments = tuple(c.attachment for c in checked)
    if document is None:
        document = PacketDocument.APPEAL if denial is not None else PacketDocument.LETTER
    if document is PacketDocument.APPEAL and denial is None:
        raise ValueError("an appeal packet needs the recorded denial")
    rules = rules or library.appeal_rules
    main_title = DOCUMENT_TITLES[document]

    if document is PacketDocument.APPEAL:
        assert denial is not None
        main: Rendered[AppealContext | ExceptionContext | LetterContext] = render_appeal(
            case,
            assessment,
            library,
            denial,
            letter_date=packet_date,
            rules=rules,
            justification=justification,
            attachments=attachments,
            narrative=narrative,
        )
    elif document is PacketDocument.EXCEPTION:
        main = render_exception_request(
            case,
            assessment,
            library,
            letter_date=packet_date,
            rules=rules,
            justification=justification,
            attachments=attachments,
            narrative=narrative,
        )
    else:
        main = render_letter(
            case, assessment, library, letter_date=packet_date, narrative=narrative
        )
    parts: list[tuple[str, str, list[PageObject], str]] = [
        (
            main_title,
            document.value,
            _pages(signed_pdf if signed_pdf is not None else main.pdf),
            "signed by the physician" if signed_pdf is not None else "",
        )
    ]

    cost_note = ""
    if cost_summary:
        try:
            tables = price_tables if price_tables is not None else library.prices
            summary = render_cost_summary(
                case, assessment, library, tables, prepared_on=packet_date
            )
            parts.append(("Cost summary", "cost_summary", _pages(summary.pdf), ""))
        except CostSummaryUnavailable as error:
            cost_note = str(error)
    else:
        cost_note = "left out when the packet was assembled"

    running_head = main.context.running_head
    checklist = build_checklist_context(
        case,
        assessment,
        library,
        main_title=main_title,
        attachments=attachments,
        denial=denial,
        cost_summary_note=cost_note,
        running_head=running_head,
    )
    parts.append(
        (
            "Enclosures checklist",
            "checklist",
            _pages(render_pdf(CHECKLIST_TEMPLATE, checklist, title=checklist.pdf_title)),
            "",
        )
    )

    images = [
        (i, c)
        for i, c in enumerate(checked, start=1)
        if c.attachment.media_type is not MediaType.PDF
    ]
    image_pages: dict[int, PageObject] = {}
    if images:
        context = ImagePagesContext(
            pdf_title="Attachments",
            kind="Attachment",
            images=tuple(
                ImagePage(f"i{i}", _attachment_name(i, c.attachment), c.attachment.filename)
                for i, c in images
            ),
        )
        pdf = render_pdf(
            IMAGES_TEMPLATE,
            context,
            title="Attachments",
            images={f"i{i}": (c.data, c.attachment.media_type.value) for i, c in images},
        )
        pages = _pages(pdf)
        if len(pages) != len(images):
            raise DocumentTooLarge("an uploaded image did not fit on one page")
        image_pages = {i: page for (i, _), page in zip(images, pages, strict=True)}
    for index, item in enumerate(checked, start=1):
        if item.attachment.media_type is MediaType.PDF:
            pages = _pages(item.data)
            for page in pages:
                _sanitize_uploaded_page(page)
        else:
            pages = [image_pages[index]]
        kind = MEDIA_TYPE_LABELS[item.attachment.media_type]
        parts.append(
            (
                _attachment_name(index, item.attachment),
                "attachment",
                pages,
                f"{kind}: {item.attachment.filename}",
            )
        )

    body_pages = sum(len(pages) for _, _, pages, _ in parts)
    if body_pages + 1 > MAX_PACKET_PAGES:
        raise DocumentTooLarge(
            f"the packet would run to {body_pages + 1} pages; the limit is {MAX_PACKET_PAGES}"
        )
    cover_pages = 1
    while True:
        placed, first = [], cover_pages + 1
        for title, kind, pages, note in parts:
            placed.append(PacketPart(title, kind, first, len(pages), note))
            first += len(pages)
        total = first - 1
        cover = _cover_context(
            case,
            main_title,
            denial,
            rules,
            total=total,
            contents=(PacketPart("Fax cover sheet", "cover", 1, cover_pages), *placed),
            fax_to=fax_to,
            attention=attention or main.context.recipient[1],
        )
        cover_pdf = render_pdf(COVER_TEMPLATE, cover, title="Fax cover sheet")
        rendered_cover = _pages(cover_pdf)
        if len(rendered_cover) == cover_pages:
            break
        cover_pages = len(rendered_cover)

    stamps = tuple(
        f"Member ID {case.coverage.member_id} · Packet page {n} of {total}"
        for n in range(1, total + 1)
    )
    stamp_pages = _pages(render_pdf(STAMPS_TEMPLATE, {"stamps": stamps}, title="Page numbers"))
    if len(stamp_pages) != total:
        raise DocumentTooLarge("the page-number stamps did not come out one per page")

    writer = PdfWriter()
    all_pages = rendered_cover + [page for _, _, pages, _ in parts for page in pages]
    for page, stamp in zip(all_pages, stamp_pages, strict=True):
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
    writer.add_metadata({"/Title": PDF_TITLE})
    output = io.BytesIO()
    writer.write(output)
    placed_parts = tuple(cover.contents)
    return Packet(
        pdf=output.getvalue(),
        page_count=total,
        parts=placed_parts,
        attachments=attachments,
        missing_enclosures=tuple(
            line.title for line in checklist.enclosures if line.status_key == "missing"
        ),
        draft_reasons=main.context.draft_reasons,
        cover=cover,
        checklist=checklist,
        record=document_record(
            "packet",
            case,
            assessment,
            document_date=packet_date,
            denial=denial,
            justification=justification,
            attachments=attachments,
            narrative=narrative,
        ),
    )


def _cover_context(
    case: Case,
    main_title: str,
    denial: Denial | None,
    rules: AppealRules,
    *,
    total: int,
    contents: tuple[PacketPart, ...],
    fax_to: str,
    attention: str,
) -> CoverContext:
    prescriber = case.prescriber
    to_rows = [Row("To", case.coverage.payer_name)]
    if attention:
        to_rows.append(Row("", attention))
    fax = fax_to or (denial.appeals_fax if denial is not None else "")
    to_rows.append(Row("Fax", fax or "—"))
    from_rows = [
        Row("From", prescriber.practice_name or prescriber.name),
        Row("Physician", f"{prescriber.name}, {prescriber.credentials}"),
        Row("NPI", prescriber.npi),
    ]
    if prescriber.phone:
        from_rows.append(Row("Phone", prescriber.phone))
    if prescriber.fax:
        from_rows.append(Row("Fax", prescriber.fax))
    re_rows = [Row("Re", main_title), Row("Member ID", case.coverage.member_id)]
    if denial is not None:
        re_rows.append(Row("Your reference", denial.payer_reference))
    urgent = ""
    if denial is not None and denial.expedited:
        urgent = "URGENT: expedited review requested (see the appeal letter)"
    return CoverContext(
        pdf_title="Fax cover sheet",
        document_title=main_title,
        urgent=urgent,
        to_rows=tuple(to_rows),
        from_rows=tuple(from_rows),
        re_rows=tuple(re_rows),
        pages_text=f"{total} pages, including this cover sheet",
        contents=contents,
        confidentiality=rules.packet.confidentiality_notice,
    )
