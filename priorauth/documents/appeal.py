"""The appeal letter: answer each reason a denial gives with the case's own evidence.

The letter states the denial (date, reference, reasons, the reviewer's words),
then gives one section per reason, in the denial's order, built by
``evidence.Evidence`` from the case, the assessment and the indication's
citations, with the wording from forms/appeals.toml. It states the deadline for
the level of appeal when the notice gives it (or a rule no one doubts) and, when
the physician records that delay would put the patient's health at risk, asks
for expedited review.

The letter is for the payer and carries nothing internal. A reason the evidence
does not answer is never argued as if it were: the letter keeps the section
factual and its review (doubts.py) names what is missing, until the case is
completed or the physician writes the argument in the section's narrative. The
deadline the rules work out, with its source and doubt, is in the review too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from priorauth.domain.case import Case
from priorauth.domain.denial import (
    APPEAL_LEVEL_LABELS,
    DENIAL_REASON_LABELS,
    Attachment,
    Denial,
    DenialReason,
    Justification,
)
from priorauth.rules.appeals import (
    AppealRules,
    Deadline,
    appeal_deadline,
    denial_problems,
    fill,
)
from priorauth.rules.assessment import Assessment
from priorauth.rules.library import Library

from .answers import answer
from .doubts import Doubt, DoubtKind, Drafted, Review, ReviewBlock, block, items, text_block
from .evidence import DENIAL_NOTICE_ENCLOSURE, Evidence
from .letter import MAX_NARRATIVE_CHARS, draft_letter
from .output import Rendered, document_record, render_document
from .parts import Diagnosis, Letterhead, Reference, References, Row, Signature, numbered
from .response import MeasureRow
from .review_blocks import closing_blocks, shared_blocks
from .sections import EnclosureStatus, Section, reason_section, template_values
from .wording import edited_sections, format_date, office_contact, plural

APPEAL_TEMPLATE = "documents/appeal.html"
PDF_TITLE = "Appeal of a coverage denial"
APPEAL_NARRATIVE_SECTIONS = (
    "opening",
    "clinical_history",
    "closing",
    *(f"rebuttal_{reason.value}" for reason in DenialReason),
)


class AppealInputError(ValueError):
    """The denial does not fit the case (e.g. it names a criterion the indication lacks)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class AppealContext:
    """Everything the appeal letter shows; plain values only, and nothing internal."""

    title: str
    pdf_title: str
    letter_date: str
    letterhead: Letterhead
    recipient: tuple[str, ...]
    subject: str
    running_head: str
    member_rows: tuple[Row, ...]
    expedited: bool
    expedited_request: str
    salutation: str
    opening: tuple[str, ...]
    denial_intro: str
    reviewer_words: str
    reasons_given: tuple[str, ...]
    diagnoses: tuple[Diagnosis, ...]
    treatment_rows: tuple[Row, ...]
    labs: tuple[Row, ...]
    sections: tuple[Section, ...]
    clinical_history: tuple[str, ...]
    response_rows: tuple[MeasureRow, ...]
    response_intro: str
    dose_reduction: str
    closing: tuple[str, ...]
    signature: Signature
    enclosures: tuple[EnclosureStatus, ...]
    references: tuple[Reference, ...]
    definition_versions: tuple[tuple[str, str], ...]


def _deadline_block(deadline: Deadline) -> ReviewBlock:
    """The deadline as the rules work it out, for staff: its source and its doubt."""
    if deadline.date is None:
        when = f"set by the plan: {deadline.text}"
    else:
        when = f"{format_date(deadline.date)} ({deadline.text})"
    text = f"Deadline for this {deadline.level_label.lower()}: {when}."
    if deadline.decision:
        text += f" Expected decision: {deadline.decision}."
    if deadline.note:
        text += f" {deadline.note}"
    where = (
        "Taken from the denial notice."
        if deadline.from_notice
        else "Worked out from the rule for this level of appeal and plan type."
    )
    doubts: tuple[Doubt, ...] = (Doubt(where, deadline.source, DoubtKind.ASSUMPTION),)
    if deadline.unverified:
        doubts += (
            Doubt(
                "Not confirmed by a source: check the deadline against the denial notice; "
                "the letter states it only when the notice gives it.",
                deadline.source,
            ),
        )
    return block("Deadline (not in the letter)", [(text, doubts)])


def _enclosures(
    evidence: Evidence, denial: Denial, attachments: Sequence[Attachment]
) -> tuple[EnclosureStatus, ...]:
    attached = {a.enclosure_id for a in attachments if a.enclosure_id}
    lines = [
        EnclosureStatus(
            f"Copy of the denial notice ({denial.payer_reference}, {format_date(denial.date)})",
            "enclosed" if DENIAL_NOTICE_ENCLOSURE in attached else "",
        )
    ]
    for enclosure in evidence.definition.enclosures:
        if evidence.case.request_type not in enclosure.applies_to:
            continue
        if enclosure.id in attached:
            status = "enclosed"
        else:
            status = "" if enclosure.required else "if available"
        lines.append(EnclosureStatus(enclosure.title, status))
    known = {e.id for e in evidence.definition.enclosures} | {DENIAL_NOTICE_ENCLOSURE}
    for attachment in attachments:
        if attachment.enclosure_id not in known:
            lines.append(EnclosureStatus(attachment.label, "enclosed"))
    return tuple(lines)


def draft_appeal(
    case: Case,
    assessment: Assessment,
    library: Library,
    denial: Denial,
    *,
    letter_date: dt.date,
    rules: AppealRules | None = None,
    justification: Justification | None = None,
    attachments: Sequence[Attachment] = (),
    narrative: Mapping[str, str] | None = None,
) -> Drafted[AppealContext]:
    """The appeal for the payer, and its review for the physician."""
    rules = rules or library.appeal_rules
    definition = library.indications[assessment.indication_id]
    problems = denial_problems(denial, definition)
    if problems:
        raise AppealInputError([f"denial.{p.field}: {p.message}" for p in problems])
    physician = edited_sections(narrative, APPEAL_NARRATIVE_SECTIONS, MAX_NARRATIVE_CHARS)
    inputs = _Inputs(
        case, assessment, library, denial, rules, justification, tuple(attachments), physician
    )
    return numbered(lambda refs: _draft(inputs, refs, letter_date))


def build_appeal_context(
    case: Case,
    assessment: Assessment,
    library: Library,
    denial: Denial,
    *,
    letter_date: dt.date,
    rules: AppealRules | None = None,
    justification: Justification | None = None,
    attachments: Sequence[Attachment] = (),
    narrative: Mapping[str, str] | None = None,
) -> AppealContext:
    """Gather what the appeal says from the denial, the case, its assessment and the rules."""
    return draft_appeal(
        case,
        assessment,
        library,
        denial,
        letter_date=letter_date,
        rules=rules,
        justification=justification,
        attachments=attachments,
        narrative=narrative,
    ).context


@dataclass(frozen=True)
class _Inputs:
    case: Case
    assessment: Assessment
    library: Library
    denial: Denial
    rules: AppealRules
    justification: Justification | None
    attachments: tuple[Attachment, ...]
    physician: Mapping[str, tuple[str, ...]]


def _draft(inputs: _Inputs, refs: References, letter_date: dt.date) -> Drafted[AppealContext]:
    case, assessment, library, denial, rules = (
        inputs.case,
        inputs.assessment,
        inputs.library,
        inputs.denial,
        inputs.rules,
    )
    physician = inputs.physician
    definition = library.indications[assessment.indication_id]
    letter_draft = draft_letter(case, assessment, library, letter_date=letter_date)
    letter = letter_draft.context
    evidence = Evidence(
        case,
        assessment,
        library,
        refs=refs,
        justification=inputs.justification or Justification(),
        attachments=inputs.attachments,
    )
    values = template_values(evidence, denial)
    level = rules.level(denial.level)
    deadline = appeal_deadline(denial, case.coverage.plan_type, rules)
    patient = case.patient

    draft: list[str] = [p.message for p in assessment.problems]
    answered = []
    for reason in denial.reasons:
        reason_values = dict(values)
        if reason.category is DenialReason.CRITERIA_NOT_MET:
            titles = [
                next(c.title for c in definition.all_criteria() if c.id == criterion_id)
                for criterion_id in reason.criteria
            ]
            reason_values["criteria"] = "; ".join(titles)
        one = reason_section(
            reason.category.value,
            rules.reason(reason.category),
            answer(evidence, reason),
            reason_values,
            answers_denial=True,
            reviewer_words=reason.reviewer_words,
            physician=physician.get(f"rebuttal_{reason.category.value}", ()),
        )
        answered.append(one)
        if one.missing:
            draft.append(one.missing)
    sections = tuple(one.section for one in answered)

    if deadline.date is not None and letter_date > deadline.date:
        draft.append(
            f"The deadline for a {deadline.level_label.lower()} was "
            f"{format_date(deadline.date)}; check the denial notice for the deadline that "
            "applies, or prepare the next level."
        )

    reasons_given = tuple(DENIAL_REASON_LABELS[r.category] for r in denial.reasons)
    opening = [
        fill(level.request, values),
        f"The denial gives {plural(len(reasons_given), 'reason')}: "
        f"{'; '.join(r.lower() for r in reasons_given)}. I answer "
        f"{'each' if len(reasons_given) != 1 else 'it'} below with the evidence in the "
        "enclosed records.",
    ]
    # A deadline the rules work out (not the notice's) is staff's to check, not the payer's
    # to read.
    stated_deadline = deadline.date if not deadline.unverified else None
    if stated_deadline is not None and letter_date <= stated_deadline:
        opening.append(
            f"This {deadline.level_label.lower()} is made within the time allowed, which ends "
            f"on {format_date(stated_deadline)}."
        )
    expedited_request = fill(rules.expedited.request, values) if denial.expedited else ""

    contact = office_contact(case.prescriber.phone, case.prescriber.fax)
    expedite = " and that this appeal be decided on an expedited basis" if denial.expedited else ""
    closing = (
        f"For the reasons above, I ask that the denial be reversed and that "
        f"{evidence.product_name} be approved for {patient.full_name} as requested{expedite}.",
        "If the denial is upheld, I ask to receive the specific policy criteria and the "
        "clinical rationale relied on, so that they can be addressed at the next level of "
        "review.",
        f"I am available to discuss this patient's care with the reviewing physician{contact}.",
    )

    recipient = [case.coverage.payer_name, level.attention]
    if denial.appeals_address:
        recipient.append(denial.appeals_address)
    if denial.appeals_fax:
        recipient.append(f"Fax {denial.appeals_fax}")
    member_rows = (
        *letter.member_rows,
        Row("Denial reference", denial.payer_reference),
        Row("Denial dated", format_date(denial.date)),
        Row("Appeal level", APPEAL_LEVEL_LABELS[denial.level]),
    )
    if stated_deadline is not None:
        member_rows += (Row("Appeal deadline", format_date(stated_deadline)),)
    shows_measures = any(s.measures for s in sections)
    references = refs.items
    intro_words = f"The notice dated {format_date(denial.date)} (reference {denial.payer_reference}"
    intro_words += f", reviewer {denial.reviewer})" if denial.reviewer else ")"
    intro_words += " gives these reasons:" if not denial.reviewer_words else " states:"
    context = AppealContext(
        title=level.title,
        pdf_title=PDF_TITLE,
        letter_date=format_date(letter_date),
        letterhead=letter.letterhead,
        recipient=tuple(recipient),
        subject=(
            f"Re: {APPEAL_LEVEL_LABELS[denial.level]} of denial {denial.payer_reference}: "
            f"{evidence.product_name} for {evidence.indication}"
        ),
        running_head=letter.running_head + f" · Denial {denial.payer_reference}",
        member_rows=member_rows,
        expedited=denial.expedited,
        expedited_request=expedited_request,
        salutation="Dear Appeals Reviewer:",
        opening=physician.get("opening", tuple(opening)),
        denial_intro=intro_words,
        reviewer_words=denial.reviewer_words,
        reasons_given=reasons_given,
        diagnoses=letter.diagnoses,
        treatment_rows=letter.treatment_rows,
        labs=letter.labs,
        sections=sections,
        clinical_history=physician.get("clinical_history", letter.clinical_history),
        response_rows=() if shows_measures else letter.response_rows,
        response_intro=letter.response_intro,
        dose_reduction="" if shows_measures else letter.dose_reduction,
        closing=physician.get("closing", closing),
        signature=letter.signature,
        enclosures=_enclosures(evidence, denial, inputs.attachments),
        references=items(references),
        definition_versions=letter.definition_versions,
    )
    blocks = (
        text_block("Opening", context.opening),
        block(
            "The denial",
            [(intro_words, ()), (denial.reviewer_words, ())] + [(r, ()) for r in reasons_given],
        ),
        _deadline_block(deadline),
        *shared_blocks(letter_draft.review),
        *(one.review for one in answered),
        *closing_blocks(context, references),
    )
    review = Review(
        document_title=context.title,
        document="appeal",
        draft_reasons=tuple(draft),
        blocks=tuple(b for b in blocks if b.lines),
        not_cited=letter_draft.review.not_cited,
    )
    return Drafted(context, review)


def render_appeal(
    case: Case,
    assessment: Assessment,
    library: Library,
    denial: Denial,
    *,
    letter_date: dt.date,
    rules: AppealRules | None = None,
    justification: Justification | None = None,
    attachments: Sequence[Attachment] = (),
    narrative: Mapping[str, str] | None = None,
    archival: bool = False,
) -> Rendered[AppealContext]:
    """Render the appeal letter for a recorded denial to HTML and PDF.

    ``archival`` writes PDF/A-3b carrying the record (pdfa.py); the result's
    ``review`` holds what the physician's review sheet shows beside it.
    """
    drafted = draft_appeal(
        case,
        assessment,
        library,
        denial,
        letter_date=letter_date,
        rules=rules,
        justification=justification,
        attachments=attachments,
        narrative=narrative,
    )
    record = document_record(
        "appeal",
        case,
        assessment,
        document_date=letter_date,
        denial=denial,
        justification=justification,
        attachments=attachments,
        narrative=narrative,
    )
    return render_document(
        APPEAL_TEMPLATE,
        drafted.context,
        record,
        title=PDF_TITLE,
        archival=archival,
        review=drafted.review,
    )


__all__ = [
    "APPEAL_NARRATIVE_SECTIONS",
    "AppealContext",
    "AppealInputError",
    "build_appeal_context",
    "draft_appeal",
    "render_appeal",
]
