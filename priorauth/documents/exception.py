"""The medical-exception request: ask for what standard policy does not cover.

Four things take a request outside standard policy, and each gets its own
section with this patient's reasons and evidence:
- an indication standard policy does not cover (the definition's ``coverage``);
- a product the payer profile excludes or does not prefer;
- a dose, interval or daily dose beyond the indication's limits;
- a site of care that site-of-care programs do not prefer (hospital outpatient,
  commercial plans).
Which apply is worked out from the case and its assessment; a caller may also
name them. The sections reuse the evidence and wording of the appeal letter.
The request is for the payer; what falls short and every doubt go to its review
(doubts.py), never onto the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from priorauth.domain.case import Case
from priorauth.domain.denial import Attachment, DenialReason, Justification
from priorauth.rules.appeals import AppealRules, ExceptionRule, fill
from priorauth.rules.assessment import Assessment, Status
from priorauth.rules.library import Library
from priorauth.rules.schema import CoverageStatus

from . import answers
from .doubts import Drafted, Review, items, text_block
from .evidence import Evidence, Part
from .letter import MAX_NARRATIVE_CHARS, draft_letter
from .output import Rendered, document_record, render_document
from .parts import Diagnosis, Letterhead, Reference, References, Row, Signature, numbered
from .response import MeasureRow
from .review_blocks import closing_blocks, shared_blocks
from .sections import EnclosureStatus, Section, reason_section, template_values
from .wording import edited_sections, format_date, office_contact

EXCEPTION_TEMPLATE = "documents/exception_request.html"
PDF_TITLE = "Medical exception request"


class ExceptionTopic(StrEnum):
    OFF_POLICY_INDICATION = "off_policy_indication"
    NON_PREFERRED_PRODUCT = "non_preferred_product"
    DOSE_ABOVE_LIMIT = "dose_above_limit"
    NON_PREFERRED_SITE = "non_preferred_site"


# Each topic answers the question the matching denial reason asks.
TOPIC_REASONS = {
    ExceptionTopic.OFF_POLICY_INDICATION: DenialReason.EXPERIMENTAL_INVESTIGATIONAL,
    ExceptionTopic.NON_PREFERRED_PRODUCT: DenialReason.NON_PREFERRED_PRODUCT,
    ExceptionTopic.DOSE_ABOVE_LIMIT: DenialReason.DOSE_ABOVE_POLICY,
    ExceptionTopic.NON_PREFERRED_SITE: DenialReason.SITE_OF_CARE,
}
EXCEPTION_REASON = "exception_reason"
EXCEPTION_NARRATIVE_SECTIONS = (
    "opening",
    "clinical_history",
    "closing",
    *(f"exception_{topic.value}" for topic in ExceptionTopic),
    # The signing physician's reason for asking an exception of a case the rules
    # judged not ready: it argues the criteria the record does not meet.
    EXCEPTION_REASON,
)
REASON_HEADING = "Why this patient needs an exception to the standard criteria"
REASON_INTRO = (
    "The record does not show every criterion of the standard policy. I ask for an "
    "exception to these criteria for this patient, for the reasons below:"
)


class NoExceptionNeeded(ValueError):
    """Nothing in the request is outside standard policy: send the letter of medical necessity."""


@dataclass(frozen=True, slots=True)
class ExceptionContext:
    """Everything the exception request shows; plain values only, and nothing internal."""

    title: str
    pdf_title: str
    letter_date: str
    letterhead: Letterhead
    recipient: tuple[str, ...]
    subject: str
    running_head: str
    member_rows: tuple[Row, ...]
    salutation: str
    opening: tuple[str, ...]
    topics: tuple[str, ...]
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


def exception_topics(evidence: Evidence) -> tuple[ExceptionTopic, ...]:
    """What in this request lies outside standard policy, in the order a reviewer checks it."""
    found = []
    if evidence.assessment.coverage is not CoverageStatus.STANDARD:
        found.append(ExceptionTopic.OFF_POLICY_INDICATION)
    if evidence.product_not_preferred():
        found.append(ExceptionTopic.NON_PREFERRED_PRODUCT)
    if evidence.assessment.dose.excess:
        found.append(ExceptionTopic.DOSE_ABOVE_LIMIT)
    if evidence.site_not_preferred():
        found.append(ExceptionTopic.NON_PREFERRED_SITE)
    return tuple(found)


def _topic_part(evidence: Evidence, topic: ExceptionTopic) -> Part:
    if topic is ExceptionTopic.OFF_POLICY_INDICATION:
        return answers.indication(evidence)
    if topic is ExceptionTopic.NON_PREFERRED_PRODUCT:
        return answers.product_choice(evidence)
    if topic is ExceptionTopic.DOSE_ABOVE_LIMIT:
        return answers.dose(evidence)
    return answers.site(evidence)


def _topic_label(rule: ExceptionRule, topic: ExceptionTopic) -> str:
    return str(getattr(rule.topics, topic.value))


def draft_exception(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    letter_date: dt.date,
    topics: Sequence[ExceptionTopic] | None = None,
    rules: AppealRules | None = None,
    justification: Justification | None = None,
    attachments: Sequence[Attachment] = (),
    narrative: Mapping[str, str] | None = None,
) -> Drafted[ExceptionContext]:
    """The exception request for the payer, and its review; NoExceptionNeeded when nothing is."""
    physician = edited_sections(narrative, EXCEPTION_NARRATIVE_SECTIONS, MAX_NARRATIVE_CHARS)

    def build(refs: References) -> Drafted[ExceptionContext]:
        evidence = Evidence(
            case,
            assessment,
            library,
            refs=refs,
            justification=justification or Justification(),
            attachments=tuple(attachments),
        )
        return _draft(
            evidence, rules or library.appeal_rules, topics, physician, letter_date=letter_date
        )

    return numbered(build)


def build_exception_context(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    letter_date: dt.date,
    topics: Sequence[ExceptionTopic] | None = None,
    rules: AppealRules | None = None,
    justification: Justification | None = None,
    attachments: Sequence[Attachment] = (),
    narrative: Mapping[str, str] | None = None,
) -> ExceptionContext:
    """Gather what the exception request says; raise NoExceptionNeeded when nothing is."""
    return draft_exception(
        case,
        assessment,
        library,
        letter_date=letter_date,
        topics=topics,
        rules=rules,
        justification=justification,
        attachments=attachments,
        narrative=narrative,
    ).context


def _draft(
    evidence: Evidence,
    rules: AppealRules,
    topics: Sequence[ExceptionTopic] | None,
    physician: Mapping[str, tuple[str, ...]],
    *,
    letter_date: dt.date,
) -> Drafted[ExceptionContext]:
    case, assessment, library = evidence.case, evidence.assessment, evidence.library
    chosen = tuple(dict.fromkeys(topics)) if topics else exception_topics(evidence)
    reason = physician.get(EXCEPTION_REASON, ())
    if not chosen and not reason:
        raise NoExceptionNeeded(
            "nothing in this request is outside standard policy: the indication is covered, "
            "the product is not excluded or non-preferred, the regimen is within its limits "
            "and the site of care is not a non-preferred one; send the letter of medical "
            "necessity instead"
        )
    letter_draft = draft_letter(case, assessment, library, letter_date=letter_date)
    letter = letter_draft.context
    values = template_values(evidence)
    rule = rules.exception
    draft: list[str] = [p.message for p in assessment.problems]
    answered = []
    for topic in chosen:
        one = reason_section(
            topic.value,
            rules.reason(TOPIC_REASONS[topic]),
            _topic_part(evidence, topic),
            values,
            heading=_topic_label(rule, topic),
            physician=physician.get(f"exception_{topic.value}", ()),
        )
        answered.append(one)
        if one.missing:
            draft.append(one.missing)
    sections = [one.section for one in answered]
    labels = tuple(_topic_label(rule, topic) for topic in chosen)
    if reason:
        sections.append(_reason_section(assessment, reason))
        labels += (REASON_HEADING,)
    if ExceptionTopic.OFF_POLICY_INDICATION not in chosen:
        # The exception covers what it names; every other required criterion still counts.
        draft += [
            f"{r.title}: {'not met' if r.status is Status.NOT_MET else 'information missing'}."
            for r in assessment.criteria
            if r.required and r.status is not Status.MET
        ]

    contact = office_contact(case.prescriber.phone, case.prescriber.fax)
    closing = (
        fill(rule.closing, values),
        f"I am available to discuss this patient's care with the reviewing physician{contact}.",
    )
    references = evidence.refs.items
    shows_measures = any(s.measures for s in sections)
    enclosures = tuple(
        EnclosureStatus(e.title, "" if e.required else "if available") for e in letter.enclosures
    )
    context = ExceptionContext(
        title=rule.title,
        pdf_title=PDF_TITLE,
        letter_date=format_date(letter_date),
        letterhead=letter.letterhead,
        recipient=(case.coverage.payer_name, rule.attention),
        subject=f"Re: Medical exception for {evidence.product_name}: {evidence.indication}",
        running_head=letter.running_head,
        member_rows=letter.member_rows,
        salutation="Dear Medical Director:",
        opening=physician.get("opening", (fill(rule.request, values),)),
        topics=labels,
        diagnoses=letter.diagnoses,
        treatment_rows=letter.treatment_rows,
        labs=letter.labs,
        sections=tuple(sections),
        clinical_history=physician.get("clinical_history", letter.clinical_history),
        response_rows=() if shows_measures else letter.response_rows,
        response_intro=letter.response_intro,
        dose_reduction="" if shows_measures else letter.dose_reduction,
        closing=physician.get("closing", closing),
        signature=letter.signature,
        enclosures=enclosures,
        references=items(references),
        definition_versions=letter.definition_versions,
    )
    blocks = (
        text_block("Opening", (*context.opening, *context.topics)),
        *shared_blocks(letter_draft.review),
        *(one.review for one in answered),
        *closing_blocks(context, references),
    )
    review = Review(
        document_title=context.title,
        document="exception request",
        draft_reasons=tuple(draft),
        warnings=assessment.verdict_reasons,
        blocks=tuple(b for b in blocks if b.lines),
        not_cited=letter_draft.review.not_cited,
    )
    return Drafted(context, review)


def _reason_section(assessment: Assessment, reason: tuple[str, ...]) -> Section:
    """The physician's reason for an exception to the criteria the record does not meet."""
    unmet = tuple(r.title for r in assessment.criteria if r.required and r.status is not Status.MET)
    return Section(
        key=EXCEPTION_REASON,
        heading=REASON_HEADING,
        # Leads the section: the template prints it before the list.
        denial_says=REASON_INTRO if unmet else "",
        reviewer_words="",
        listed=unmet,
        intro="",
        rows=(),
        paragraphs=(),
        paragraph_refs=(),
        items=(),
        therapies=(),
        measures=(),
        note="",
        narrative=reason,
        closing="",
        supported=True,
    )


def render_exception_request(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    letter_date: dt.date,
    topics: Sequence[ExceptionTopic] | None = None,
    rules: AppealRules | None = None,
    justification: Justification | None = None,
    attachments: Sequence[Attachment] = (),
    narrative: Mapping[str, str] | None = None,
) -> Rendered[ExceptionContext]:
    """Render the medical-exception request to HTML and PDF, its review beside it."""
    drafted = draft_exception(
        case,
        assessment,
        library,
        letter_date=letter_date,
        topics=topics,
        rules=rules,
        justification=justification,
        attachments=attachments,
        narrative=narrative,
    )
    record = document_record(
        "exception",
        case,
        assessment,
        document_date=letter_date,
        justification=justification,
        attachments=attachments,
        narrative=narrative,
    )
    return render_document(
        EXCEPTION_TEMPLATE, drafted.context, record, title=PDF_TITLE, review=drafted.review
    )
