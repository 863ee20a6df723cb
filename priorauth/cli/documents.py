"""Render a case file's document: the letter, cost summary, appeal, exception, packet, PDF/A,
and the physician's review sheet (of the appeal when the file carries a denial, else of
the letter).

The case file's wrapper may carry, beside ``case``:
- ``denial``: the recorded denial (priorauth.domain.denial.Denial);
- ``justification``: the grounds for an exception (Justification);
- ``attachments``: files for the packet, each a path (relative to the case
  file) or ``{"path": ..., "enclosure": <enclosure id>, "title": ...}``. The
  type is declared from the file's extension and checked against its bytes.
Every problem is reported as a CommandError, one line per field, never a traceback.

This module imports the documents layer, hence WeasyPrint: `priorauth render`
imports it only when it runs (see cli/assess.py).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from priorauth.documents import DocumentTooLarge, render_letter
from priorauth.documents.appeal import AppealInputError, draft_appeal, render_appeal
from priorauth.documents.cost_summary import render_cost_summary
from priorauth.documents.exception import NoExceptionNeeded, render_exception_request
from priorauth.documents.letter import draft_letter
from priorauth.documents.packet import MissingEnclosures, build_packet
from priorauth.documents.patient_sheet import render_patient_sheet
from priorauth.documents.pdfa import render_pdfa
from priorauth.documents.peer_to_peer import render_peer_to_peer
from priorauth.documents.review import render_review_sheet
from priorauth.documents.uploads import CheckedUpload, Upload, UploadRejected, check_upload
from priorauth.domain.case import SiteOfCare
from priorauth.domain.denial import Attachment, Denial, Justification
from priorauth.rules.assessment import Assessment
from priorauth.rules.estimate import CostSummaryUnavailable
from priorauth.rules.library import Library
from priorauth.rules.loader import DefinitionError

from .casefile import CaseFile, validation_messages
from .console import EXIT_FAILED, CommandError

_EXTENSION_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


@dataclass(frozen=True)
class Output:
    """What the render command writes: the PDF, and the HTML preview when there is one."""

    pdf: bytes
    html: str
    preview_html: str


@dataclass(frozen=True)
class Extras:
    denial: Denial | None
    justification: Justification | None
    uploads: tuple[Upload, ...]


def _wrapper(case_file: CaseFile) -> dict[str, Any]:
    if not case_file.wrapped:
        return {}
    data = json.loads(case_file.path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _model(model: Any, data: Any, key: str, case_file: CaseFile) -> Any:
    try:
        return model.model_validate(data, context={"today": case_file.as_of})
    except ValidationError as error:
        raise CommandError(
            f"{case_file.path}: not a valid {key}", validation_messages(error, f"{key}.")
        ) from None


def _uploads(items: Any, case_file: CaseFile) -> tuple[Upload, ...]:
    if not isinstance(items, list):
        raise CommandError(
            f"{case_file.path}: not a valid case file", ["attachments: a list of files"]
        )
    uploads = []
    for index, item in enumerate(items):
        where = f"attachments.{index}"
        if isinstance(item, str):
            item = {"path": item}
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise CommandError(
                f"{case_file.path}: not a valid case file",
                [f'{where}: a path, or {{"path": ..., "enclosure": ..., "title": ...}}'],
            )
        unknown = sorted(set(item) - {"path", "enclosure", "title"})
        if unknown:
            raise CommandError(
                f"{case_file.path}: not a valid case file",
                [f"{where}.{key}: unknown key" for key in unknown],
            )
        path = (case_file.path.parent / item["path"]).resolve()
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(
                f"{case_file.path}: cannot read {where}",
                [f"{item['path']}: {error.strerror or 'cannot be read'}"],
            ) from None
        declared = _EXTENSION_TYPES.get(path.suffix.lower(), path.suffix.lstrip(".") or "none")
        uploads.append(
            Upload(
                filename=path.name,
                declared_type=declared,
                data=data,
                enclosure_id=item.get("enclosure"),
                title=str(item.get("title", "")),
            )
        )
    return tuple(uploads)


def read_extras(case_file: CaseFile) -> Extras:
    """The denial, justification and attachments a wrapper carries, checked."""
    data = _wrapper(case_file)
    denial = _model(Denial, data["denial"], "denial", case_file) if "denial" in data else None
    justification = (
        _model(Justification, data["justification"], "justification", case_file)
        if "justification" in data
        else None
    )
    uploads = _uploads(data["attachments"], case_file) if "attachments" in data else ()
    return Extras(denial, justification, uploads)


def _checked(extras: Extras, case_file: CaseFile) -> tuple[CheckedUpload, ...]:
    checked = []
    for upload in extras.uploads:
        try:
            checked.append(check_upload(upload))
        except UploadRejected as error:
            raise CommandError(
                f"{case_file.path}: an attachment cannot be used", [str(error)]
            ) from None
    return tuple(checked)


def render_document(
    document: str,
    case_file: CaseFile,
    library: Library,
    assessment: Assessment,
    document_date: dt.date,
    *,
    want_html: bool = False,
    product_id: str | None = None,
    site: SiteOfCare | None = None,
    send_separately: str = "",
) -> Output:
    """Render a document named by `render --document`; raise CommandError on bad input.

    ``product_id`` and ``site`` price the cost summary for another product or site.
    """
    try:
        if document == "letter":
            letter = render_letter(case_file.case, assessment, library, letter_date=document_date)
            return Output(letter.pdf, letter.html, letter.preview_html)
        if document == "cost-summary":
            if product_id and product_id not in library.products:
                raise CommandError(f"--product: unknown product {product_id!r}")
            summary = render_cost_summary(
                case_file.case,
                assessment,
                library,
                library.prices,
                prepared_on=document_date,
                product_id=product_id,
                site=site,
            )
            return Output(summary.pdf, summary.html, summary.html)
        if document == "patient-sheet":
            sheet = render_patient_sheet(
                case_file.case, assessment, library, prepared_on=document_date
            )
            return Output(sheet.pdf, sheet.html, sheet.html)
        return _render_from_wrapper(
            document,
            case_file,
            library,
            assessment,
            document_date,
            want_html=want_html,
            send_separately=send_separately,
        )
    except DocumentTooLarge as error:
        raise CommandError(f"{case_file.path}: the document cannot be rendered: {error}") from None
    except CostSummaryUnavailable as error:
        raise CommandError(f"{case_file.path}: no cost summary: {error}") from None


def _render_from_wrapper(
    document: str,
    case_file: CaseFile,
    library: Library,
    assessment: Assessment,
    document_date: dt.date,
    *,
    want_html: bool,
    send_separately: str = "",
) -> Output:
    """Render a document that draws on the wrapper's denial, justification or attachments."""
    extras = read_extras(case_file)
    case = case_file.case
    path = case_file.path
    try:
        rules = library.appeal_rules
    except DefinitionError as error:
        raise CommandError(
            "the appeal definitions cannot be loaded", error.problems, status=EXIT_FAILED
        ) from None
    checked = _checked(extras, case_file)
    attachments: tuple[Attachment, ...] = tuple(c.attachment for c in checked)
    try:
        if document == "appeal":
            if extras.denial is None:
                raise CommandError(
                    f"{path}: an appeal needs the denial",
                    [
                        'add "denial": {"date": ..., "payer_reference": ..., "reasons": [...]} '
                        'beside "case"'
                    ],
                )
            rendered: Any = render_appeal(
                case,
                assessment,
                library,
                extras.denial,
                letter_date=document_date,
                rules=rules,
                justification=extras.justification,
                attachments=attachments,
            )
        elif document == "review-sheet":
            review = (
                draft_letter(case, assessment, library, letter_date=document_date).review
                if extras.denial is None
                else draft_appeal(
                    case,
                    assessment,
                    library,
                    extras.denial,
                    letter_date=document_date,
                    rules=rules,
                    justification=extras.justification,
                    attachments=attachments,
                ).review
            )
            rendered = render_review_sheet(review, case, assessment, prepared_on=document_date)
        elif document == "exception":
            rendered = render_exception_request(
                case,
                assessment,
                library,
                letter_date=document_date,
                rules=rules,
                justification=extras.justification,
                attachments=attachments,
            )
        elif document == "peer-to-peer":
            rendered = render_peer_to_peer(
                case,
                assessment,
                library,
                prepared_on=document_date,
                denial=extras.denial,
                rules=rules,
                justification=extras.justification,
                attachments=attachments,
            )
        elif document == "pdfa":
            rendered = render_pdfa(
                case,
                assessment,
                library,
                letter_date=document_date,
                denial=extras.denial,
                justification=extras.justification,
                attachments=attachments,
                rules=rules,
            )
        else:
            if want_html:
                raise CommandError(
                    "render: a packet has no single HTML; give -o OUT.pdf only, and render "
                    "its documents one by one for their HTML"
                )
            packet = build_packet(
                case,
                assessment,
                library,
                packet_date=document_date,
                denial=extras.denial,
                justification=extras.justification,
                uploads=checked,
                rules=rules,
                missing_confirmed=bool(send_separately),
            )
            return Output(packet.pdf, "", "")
    except AppealInputError as error:
        raise CommandError(f"{path}: the denial does not fit the case", error.problems) from None
    except NoExceptionNeeded as error:
        raise CommandError(f"{path}: no exception request: {error}") from None
    except UploadRejected as error:
        raise CommandError(f"{path}: an attachment cannot be used", [str(error)]) from None
    except MissingEnclosures as error:
        raise CommandError(
            f"{path}: no packet: required enclosures are missing; list their files under "
            "attachments, or give --send-separately REASON",
            list(error.titles),
        ) from None
    return Output(rendered.pdf, rendered.html, rendered.preview_html)
