"""The fax-ready packet for the payer: cover sheet, the letter, the enclosures.

Order, as a reviewer reads it: the cover sheet (to, from, page count, contents,
confidentiality notice), the letter (of medical necessity, appeal or exception
request), then the uploaded files in the order given: PDFs page by page, each
image on a US Letter page of its own. Every page carries the member ID and its
number in the whole packet.

Only payer-facing pages go in. The enclosures checklist (what is attached and
what is missing) is built beside the packet for staff, and the cost estimate
goes to the patient; neither is faxed. Required enclosures that are missing
refuse the packet (``MissingEnclosures``) unless the caller says staff confirmed
they will send them separately.

Uploads come in as bytes with a declared type (``uploads.Upload``), so the web
layer can pass what it received; each is checked before anything is rendered,
and nothing here reads or writes the case or the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pypdf import PageObject

from priorauth.domain.case import Case
from priorauth.domain.denial import MEDIA_TYPE_LABELS, Attachment, Denial, Justification, MediaType
from priorauth.rules.appeals import AppealRules
from priorauth.rules.assessment import Assessment
from priorauth.rules.library import Library

from .appeal import AppealContext, render_appeal
from .checklist import (
    ChecklistContext,
    allowed_enclosures,
    attachment_name,
    build_checklist_context,
    missing_required,
)
from .cover import CoverContext, PacketPart, cover_context
from .exception import ExceptionContext, render_exception_request
from .letter import LetterContext, render_letter
from .output import DocumentRecord, Rendered, document_record, render_pdf
from .pdf import DocumentTooLarge
from .pdf_pages import pages, sanitize_uploaded_page, stamped_pdf
from .uploads import CheckedUpload, Upload, check_uploads

COVER_TEMPLATE = "documents/cover_sheet.html"
CHECKLIST_TEMPLATE = "documents/enclosures_checklist.html"  # rendered by callers, for staff
IMAGES_TEMPLATE = "documents/attachment_images.html"
STAMPS_TEMPLATE = "documents/packet_stamps.html"
PDF_TITLE = "Prior authorization packet"
MAX_PACKET_PAGES = 250

MainContext = AppealContext | ExceptionContext | LetterContext


class MissingEnclosures(ValueError):
    """Required enclosures are not attached, and no one confirmed sending them separately."""

    def __init__(self, titles: Sequence[str]) -> None:
        super().__init__("required enclosures are missing: " + "; ".join(titles))
        self.titles = tuple(titles)


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
    """The assembled packet: its PDF, its parts in order, and what it was made from.

    ``main`` is the document the packet leads with, as rendered; ``record`` is
    the packet's own record, of the same kind every rendered document carries.
    """

    pdf: bytes
    page_count: int
    record: DocumentRecord
    main: Rendered[MainContext]
    parts: tuple[PacketPart, ...]
    attachments: tuple[Attachment, ...]
    missing_enclosures: tuple[str, ...]
    draft_reasons: tuple[str, ...]
    cover: CoverContext
    checklist: ChecklistContext


@dataclass(frozen=True)
class _Part:
    """A part before its place in the packet is known."""

    title: str
    kind: str
    pages: list[PageObject]
    note: str = ""


def _main_document(
    document: PacketDocument,
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    packet_date: dt.date,
    denial: Denial | None,
    justification: Justification | None,
    attachments: tuple[Attachment, ...],
    narrative: Mapping[str, str] | None,
    rules: AppealRules,
) -> Rendered[MainContext]:
    if document is PacketDocument.APPEAL:
        if denial is None:
            raise ValueError("an appeal packet needs the recorded denial")
        return render_appeal(
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
    if document is PacketDocument.EXCEPTION:
        return render_exception_request(
            case,
            assessment,
            library,
            letter_date=packet_date,
            rules=rules,
            justification=justification,
            attachments=attachments,
            narrative=narrative,
        )
    return render_letter(case, assessment, library, letter_date=packet_date, narrative=narrative)


def _upload_parts(checked: Sequence[CheckedUpload]) -> list[_Part]:
    """Each upload's pages: a PDF's own, sanitized; each image on a page of its own."""
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
                ImagePage(f"i{i}", attachment_name(i, c.attachment), c.attachment.filename)
                for i, c in images
            ),
        )
        pdf = render_pdf(
            IMAGES_TEMPLATE,
            context,
            title="Attachments",
            images={f"i{i}": (c.data, c.attachment.media_type.value) for i, c in images},
        )
        rendered = pages(pdf)
        if len(rendered) != len(images):
            raise DocumentTooLarge("an uploaded image did not fit on one page")
        image_pages = {i: page for (i, _), page in zip(images, rendered, strict=True)}
    parts = []
    for index, item in enumerate(checked, start=1):
        if item.attachment.media_type is MediaType.PDF:
            item_pages = pages(item.data)
            for page in item_pages:
                sanitize_uploaded_page(page)
        else:
            item_pages = [image_pages[index]]
        kind = MEDIA_TYPE_LABELS[item.attachment.media_type]
        parts.append(
            _Part(
                attachment_name(index, item.attachment),
                "attachment",
                item_pages,
                f"{kind}: {item.attachment.filename}",
            )
        )
    return parts


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
    fax_to: str = "",
    attention: str = "",
    rules: AppealRules | None = None,
    signed_pdf: bytes | None = None,
    missing_confirmed: bool = False,
) -> Packet:
    """Assemble the fax packet; raise UploadRejected before rendering if an upload is bad,
    MissingEnclosures if a required one is missing and ``missing_confirmed`` is false.

    ``signed_pdf`` is the physician's signed PDF of the main document; when given,
    the packet carries it instead of a fresh rendering, which would be unsigned.
    """
    checked = check_uploads(uploads, allowed_enclosures(case, library, denial))
    attachments = tuple(c.attachment for c in checked)
    missing = missing_required(case, library, attachments, denial)
    if missing and not missing_confirmed:
        raise MissingEnclosures(missing)
    if document is None:
        document = PacketDocument.APPEAL if denial is not None else PacketDocument.LETTER
    rules = rules or library.appeal_rules
    main_title = DOCUMENT_TITLES[document]
    main = _main_document(
        document,
        case,
        assessment,
        library,
        packet_date=packet_date,
        denial=denial,
        justification=justification,
        attachments=attachments,
        narrative=narrative,
        rules=rules,
    )
    signed = signed_pdf is not None
    parts = [
        _Part(
            main_title,
            document.value,
            pages(signed_pdf if signed_pdf is not None else main.pdf),
            "signed by the physician" if signed else "",
        )
    ]

    # For staff, never faxed: what the packet holds against what the criteria ask.
    checklist = build_checklist_context(
        case,
        assessment,
        library,
        main_title=main_title,
        attachments=attachments,
        denial=denial,
        cost_summary_note="given to the patient, not sent to the payer",
        running_head=main.context.running_head,
    )
    parts += _upload_parts(checked)

    body_pages = sum(len(part.pages) for part in parts)
    if body_pages + 1 > MAX_PACKET_PAGES:
        raise DocumentTooLarge(
            f"the packet would run to {body_pages + 1} pages; the limit is {MAX_PACKET_PAGES}"
        )
    # The cover lists every part's pages, so its own length must settle first.
    cover_pages = 1
    while True:
        placed, first = [], cover_pages + 1
        for part in parts:
            placed.append(PacketPart(part.title, part.kind, first, len(part.pages), part.note))
            first += len(part.pages)
        total = first - 1
        cover = cover_context(
            case,
            main_title,
            denial,
            rules,
            total=total,
            contents=(PacketPart("Fax cover sheet", "cover", 1, cover_pages), *placed),
            fax_to=fax_to,
            attention=attention or main.context.recipient[1],
            to_follow=missing,
        )
        rendered_cover = pages(render_pdf(COVER_TEMPLATE, cover, title="Fax cover sheet"))
        if len(rendered_cover) == cover_pages:
            break
        cover_pages = len(rendered_cover)

    stamps = tuple(
        f"Member ID {case.coverage.member_id} · Packet page {n} of {total}"
        for n in range(1, total + 1)
    )
    stamp_pages = pages(render_pdf(STAMPS_TEMPLATE, {"stamps": stamps}, title="Page numbers"))
    if len(stamp_pages) != total:
        raise DocumentTooLarge("the page-number stamps did not come out one per page")
    body = rendered_cover + [page for part in parts for page in part.pages]
    return Packet(
        pdf=stamped_pdf(body, stamp_pages, title=PDF_TITLE),
        page_count=total,
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
        main=main,
        parts=cover.contents,
        attachments=attachments,
        missing_enclosures=tuple(
            line.title for line in checklist.enclosures if line.status_key == "missing"
        ),
        draft_reasons=main.review.draft_reasons if main.review is not None else (),
        cover=cover,
        checklist=checklist,
    )
