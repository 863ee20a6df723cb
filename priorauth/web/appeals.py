"""The appeal of a recorded denial: its page and preview, its letter and peer-to-peer PDFs.

The appeal letter and the peer-to-peer sheet are made by the documents layer
from the recorded denial (``denials``), the case and its assessment; each PDF is
stored with the record of what produced it (``casefile.keep``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from priorauth.documents.appeal import (
    APPEAL_TEMPLATE,
    AppealContext,
    AppealInputError,
    draft_appeal,
    render_appeal,
)
from priorauth.documents.doubts import Drafted
from priorauth.documents.output import document_record
from priorauth.documents.peer_to_peer import render_peer_to_peer
from priorauth.documents.review import REVIEW_TEMPLATE, build_review_sheet_context
from priorauth.domain.case import Case
from priorauth.domain.denial import APPEAL_LEVEL_LABELS, DENIAL_REASON_LABELS, Denial
from priorauth.rules.appeals import appeal_deadline
from priorauth.rules.assessment import Assessment
from priorauth.store import casework
from priorauth.store.models import CaseRecord, CaseState

from . import casefile, context, delivery
from .casefile import APPEAL, PACKET, PEER_TO_PEER
from .context import View
from .pages import case_heading, document_rows
from .permissions import Permission, case_action, may

bp = Blueprint("appeals", __name__)


def _appeal_draft(
    record: CaseRecord, case: Case, result: Assessment, denial: Denial
) -> Drafted[AppealContext]:
    library = context.library()
    return draft_appeal(
        case,
        result,
        library,
        denial,
        letter_date=context.today(),
        rules=library.appeal_rules,
        attachments=casefile.attachments_of(record),
        narrative=casefile.appeal_narrative_of(record),
    )


def _denial_view(denial: Denial) -> dict[str, Any]:
    return {
        "date": denial.date.isoformat(),
        "payer_reference": denial.payer_reference,
        "level": APPEAL_LEVEL_LABELS[denial.level],
        "reasons": [DENIAL_REASON_LABELS[r.category] for r in denial.reasons],
        "criteria": [c for r in denial.reasons for c in r.criteria],
        "reviewer_words": denial.reviewer_words,
        "expedited": denial.expedited,
        "urgency": denial.urgency,
    }


@bp.get("/cases/<int:case_id>/appeal")
@case_action(Permission.CASE_READ, action="appeal.view")
def appeal(record: CaseRecord) -> View:
    """The appeal letter's preview, its deadline, and the documents for the appeal."""
    case, result = casefile.assessed(record)
    denial = casefile.current_denial(record)
    deadline = None
    draft_reasons: tuple[str, ...] = ()
    problem = ""
    if denial is not None:
        deadline = appeal_deadline(denial, case.coverage.plan_type, context.library().appeal_rules)
        try:
            draft_reasons = _appeal_draft(record, case, result, denial).review.draft_reasons
        except AppealInputError as error:
            problem = "; ".join(error.problems)
    return render_template(
        "pages/appeal.html",
        heading=case_heading(record),
        denial=_denial_view(denial) if denial else None,
        deadline=deadline,
        days_left=deadline.days_left(context.today()) if deadline and deadline.date else None,
        draft_reasons=draft_reasons,
        problem=problem,
        denied=casework.last_denied_decision(record) is not None,
        can_record=may(Permission.DENIAL_RECORD, record) and record.state == CaseState.DENIED,
        documents=document_rows(record, kinds=(APPEAL, PEER_TO_PEER, PACKET)),
        attachments=casefile.attachments_of(record),
    )


def _appeal_inputs(record: CaseRecord) -> tuple[Case, Assessment, Denial]:
    case, result = casefile.assessed(record)
    denial = casefile.current_denial(record)
    if denial is None:
        abort(409)
    return case, result, denial


@bp.get("/cases/<int:case_id>/appeal/preview")
@case_action(Permission.CASE_READ, action="appeal.preview")
def appeal_preview(record: CaseRecord) -> Response:
    """The appeal letter as HTML, for the preview frame."""
    case, result, denial = _appeal_inputs(record)
    with casefile.rendering():
        built = _appeal_draft(record, case, result, denial).context
    return delivery.preview_page(APPEAL_TEMPLATE, built)


@bp.get("/cases/<int:case_id>/appeal/review-sheet")
@case_action(Permission.CASE_READ, action="appeal.review_sheet")
def appeal_review_sheet(record: CaseRecord) -> Response:
    """The physician's review sheet of the appeal letter, as HTML."""
    case, result, denial = _appeal_inputs(record)
    review = _appeal_draft(record, case, result, denial).review
    sheet = build_review_sheet_context(review, case, result, prepared_on=context.today())
    return delivery.preview_page(REVIEW_TEMPLATE, sheet)


@bp.post("/cases/<int:case_id>/appeal.pdf")
@case_action(Permission.APPEAL_PREPARE, action="document.create")
def appeal_pdf(record: CaseRecord) -> Response:
    """Render the appeal letter to PDF, store it with its record, and send it."""
    case, result, denial = _appeal_inputs(record)
    attachments = casefile.attachments_of(record)
    narrative = casefile.appeal_narrative_of(record)
    expected = document_record(
        APPEAL,
        case,
        result,
        document_date=context.today(),
        denial=denial,
        attachments=attachments,
        narrative=narrative,
    )
    reused = casefile.reuse(record, kind=APPEAL, assessment=result, provenance=expected)
    if reused is not None:
        return reused
    library = context.library()
    with casefile.rendering():
        rendered = render_appeal(
            case,
            result,
            library,
            denial,
            letter_date=context.today(),
            rules=library.appeal_rules,
            attachments=attachments,
            narrative=narrative,
        )
    return casefile.keep(
        record,
        kind=APPEAL,
        case=case,
        assessment=result,
        pdf=rendered.pdf,
        provenance=rendered.record,
    )


@bp.post("/cases/<int:case_id>/peer-to-peer.pdf")
@case_action(Permission.APPEAL_PREPARE, action="document.create")
def peer_to_peer_pdf(record: CaseRecord) -> Response:
    """The physician's peer-to-peer preparation sheet, for the denial when there is one."""
    case, result = casefile.assessed(record)
    library = context.library()
    with casefile.rendering():
        rendered = render_peer_to_peer(
            case,
            result,
            library,
            prepared_on=context.today(),
            denial=casefile.current_denial(record),
            rules=library.appeal_rules,
            attachments=casefile.attachments_of(record),
        )
    return casefile.keep(
        record,
        kind=PEER_TO_PEER,
        case=case,
        assessment=result,
        pdf=rendered.pdf,
        provenance=rendered.record,
    )
