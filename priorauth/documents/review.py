"""The physician's review sheet: a payer document's content with every doubt beside it.

Internal, never sent: the letter (or appeal, or exception request) reads clean for
the payer, and this sheet is where staff and the signing physician see why the
case is not ready yet, what the assessment warns of, every value no source
confirmed and every assumption the document rests on, each with its source
(doubts.py). Any payer document's ``Review`` makes one; ``render_letter_review``
is the common case.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from priorauth.domain.case import Case
from priorauth.rules.assessment import Assessment
from priorauth.rules.library import Library

from .doubts import DoubtKind, Review, ReviewBlock
from .letter import draft_letter
from .output import Rendered, document_record, render_document
from .wording import format_date, format_short_date, plural

REVIEW_TEMPLATE = "documents/review_sheet.html"
PDF_TITLE = "Physician's review sheet"


@dataclass(frozen=True, slots=True)
class ReviewSheetContext:
    """Everything the review sheet shows; plain values only."""

    title: str
    pdf_title: str
    running_head: str
    for_line: str
    prepared_on: str
    document_title: str
    document: str
    verdict: str
    draft_reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    summary: str
    blocks: tuple[ReviewBlock, ...]
    not_cited: tuple[str, ...]


def build_review_sheet_context(
    review: Review, case: Case, assessment: Assessment, *, prepared_on: dt.date
) -> ReviewSheetContext:
    """The review sheet for a payer document's review."""
    patient = case.patient
    prescriber = case.prescriber
    kinds = Counter(d.kind for d in review.doubts)
    counted = [
        text
        for kind, text in (
            (DoubtKind.PROBLEM, plural(kinds[DoubtKind.PROBLEM], "problem")),
            (
                DoubtKind.UNVERIFIED,
                f"{plural(kinds[DoubtKind.UNVERIFIED], 'item')} not confirmed by a source",
            ),
            (DoubtKind.ASSUMPTION, plural(kinds[DoubtKind.ASSUMPTION], "assumption")),
        )
        if kinds[kind]
    ]
    summary = (
        f"To check, in the right-hand column: {', '.join(counted)}."
        if counted
        else "Nothing in the document rests on an unconfirmed value or an assumption."
    )
    return ReviewSheetContext(
        title=PDF_TITLE,
        pdf_title=PDF_TITLE,
        running_head=(
            f"{patient.full_name} · DOB {format_short_date(patient.date_of_birth)} · "
            f"Member ID {case.coverage.member_id} · internal"
        ),
        for_line=(
            f"For {prescriber.name}, {prescriber.credentials}, before signing: "
            f"{review.document_title.lower()}. Internal: not for the payer."
        ),
        prepared_on=format_date(prepared_on),
        document_title=review.document_title,
        document=review.document,
        verdict=assessment.verdict_label,
        draft_reasons=review.draft_reasons,
        warnings=review.warnings,
        summary=summary,
        blocks=review.blocks,
        not_cited=review.not_cited,
    )


def render_review_sheet(
    review: Review,
    case: Case,
    assessment: Assessment,
    *,
    prepared_on: dt.date,
    narrative: Mapping[str, str] | None = None,
) -> Rendered[ReviewSheetContext]:
    """Render the review sheet of a payer document (its ``Rendered.review``) to PDF."""
    context = build_review_sheet_context(review, case, assessment, prepared_on=prepared_on)
    record = document_record(
        "review_sheet", case, assessment, document_date=prepared_on, narrative=narrative
    )
    return render_document(REVIEW_TEMPLATE, context, record, title=PDF_TITLE)


def render_letter_review(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    letter_date: dt.date,
    narrative: Mapping[str, str] | None = None,
) -> Rendered[ReviewSheetContext]:
    """The review sheet of the letter of medical necessity, without rendering the letter."""
    drafted = draft_letter(case, assessment, library, letter_date=letter_date, narrative=narrative)
    return render_review_sheet(
        drafted.review, case, assessment, prepared_on=letter_date, narrative=narrative
    )
