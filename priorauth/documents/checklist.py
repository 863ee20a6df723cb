"""The packet's enclosures checklist: what it holds against what the indication asks.

Staff read it before faxing: each enclosure the criteria ask for is attached,
missing or optional; the documents the packet itself carries are listed too,
and so is any information the case still lacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from priorauth.domain.case import Case, RequestType
from priorauth.domain.denial import MEDIA_TYPE_LABELS, Attachment, Denial
from priorauth.rules.assessment import Assessment, Status
from priorauth.rules.library import Library

from .evidence import DENIAL_NOTICE_ENCLOSURE
from .wording import format_date, plural


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


def attachment_name(index: int, attachment: Attachment) -> str:
    """How the packet names an uploaded file: Attachment 2: IgG lab report."""
    return f"Attachment {index}: {attachment.label}"


def _file_text(index: int, attachment: Attachment) -> str:
    return (
        f"Attachment {index}: {attachment.filename} "
        f"({MEDIA_TYPE_LABELS[attachment.media_type]}, {plural(attachment.pages, 'page')})"
    )


def allowed_enclosures(case: Case, library: Library, denial: Denial | None) -> dict[str, str]:
    """The enclosures a file may be filed under for this request, by id, with their titles."""
    definition = library.indications[case.indication_id]
    allowed = {e.id: e.title for e in definition.enclosures if case.request_type in e.applies_to}
    if denial is not None:
        allowed[DENIAL_NOTICE_ENCLOSURE] = (
            f"Copy of the denial notice ({denial.payer_reference}, {format_date(denial.date)})"
        )
    return allowed


def missing_required(
    case: Case, library: Library, attachments: Sequence[Attachment], denial: Denial | None
) -> tuple[str, ...]:
    """The titles of the required enclosures for this request that no file is filed under."""
    definition = library.indications[case.indication_id]
    required = {e.id for e in definition.enclosures if e.required}
    if denial is not None:
        required.add(DENIAL_NOTICE_ENCLOSURE)
    attached = {a.enclosure_id for a in attachments}
    return tuple(
        title
        for enclosure_id, title in allowed_enclosures(case, library, denial).items()
        if enclosure_id in required and enclosure_id not in attached
    )


def _documents(main_title: str, cost_summary_note: str) -> tuple[ChecklistLine, ...]:
    # The packet is the payer's: this checklist and the cost summary stay with staff
    # and the patient.
    cost = ChecklistLine("Cost summary", False, "Not included", "omitted", cost_summary_note)
    return (
        ChecklistLine("Fax cover sheet", True, "Included", "included", ""),
        ChecklistLine(main_title, True, "Included", "included", ""),
        cost,
    )


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
    required = {e.id for e in definition.enclosures if e.required}
    if denial is not None:
        required.add(DENIAL_NOTICE_ENCLOSURE)
    enclosures = []
    missing = []
    for enclosure_id, title in allowed_enclosures(case, library, denial).items():
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
            f"{plural(len(attachments), 'file')} attached; "
            "their pages are listed on the cover sheet."
        ),
        summary=summary,
        documents=_documents(main_title, cost_summary_note),
        enclosures=tuple(enclosures),
        others=others,
        case_missing=case_missing,
    )
