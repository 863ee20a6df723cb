"""The appeal letter: answer each reason a denial gives with the case's own evidence.

The letter states the denial (date, reference, reasons, the reviewer's words),
then gives one section per reason, in the denial's order, built by
``evidence._Evidence`` from the case, the assessment and the indication's
citations, with the wording from forms/appeals.toml. It states the deadline for
the level of appeal (the notice's own when recorded, else the rule in
appeals.toml, marked unverified when it is) and, when the physician records that
delay would put the patient's health at risk, asks for expedited review.

A reason the evidence does not answer is never argued as if it were: the letter
keeps the section factual and the draft banner names what is missing, until the
case is completed or the physician writes the argument in the section's
narrative.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from priorauth.domain.case import SITE_LABELS, Case
from priorauth.domain.denial import (
    APPEAL_LEVEL_LABELS,
    DENIAL_REASON_LABELS,
    Attachment,
    Denial,
    DenialReason,
    DeniedReason,
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

from .context import (
    MAX_NARRATIVE_CHARS,
    Diagnosis,
    LetterContext,
    Letterhead,
    MeasureRow,
    Reference,
    Row,
    Signature,
    _in_sentence,
    _Refs,
    build_letter_context,
    format_date,
)
from .evidence import (
    DENIAL_NOTICE_ENCLOSURE,
    EvidenceItem,
    Part,
    Section,
    _Evidence,
    edits,
)
from .output import Rendered, document_record
from .pdf import convert
from .render import render_html

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
class EnclosureStatus:
    title: str
    status: str


@dataclass(frozen=True, slots=True)
class AppealContext:
    """Everything the appeal letter shows; plain values only."""

    title: str
    pdf_title: str
    letter_date: str
    letterhead: Letterhead
    recipient: tuple[str, ...]
    subject: str
    running_head: str
    member_rows: tuple[Row, ...]
    deadline_line: str
    deadline_unverified: bool
    expedited: bool
    expedited_request: str
    salutation: str
    opening: tuple[str, ...]
    denial_intro: str
    reviewer_words: str
    reasons_given: tuple[str, ...]
    diagnoses: tuple[Diagnosis, ...]
    treatment_rows: tuple[Row, ...]
    sections: tuple[Section, ...]
    clinical_history: tuple[str, ...]
    response_rows: tuple[MeasureRow, ...]
    response_intro: str
    dose_reduction: str
    closing: tuple[str, ...]
    signature: Signature
    enclosures: tuple[EnclosureStatus, ...]
    references: tuple[Reference, ...]
    has_unverified: bool
    draft_reasons: tuple[str, ...]
    definition_versions: tuple[tuple[str, str], ...]


def template_values(evidence: _Evidence, denial: Denial | None = None) -> dict[str, str]:
    """The values the wording in appeals.toml may name."""
    values = {
        "patient": evidence.case.patient.full_name,
        "indication": evidence.indication,
        "product": evidence.product_name,
        "payer": evidence.case.coverage.payer_name,
        "site": _in_sentence(SITE_LABELS[evidence.case.site_of_care]),
    }
    if denial is not None:
        values.update(
            level=APPEAL_LEVEL_LABELS[denial.level].lower(),
            reference=denial.payer_reference,
            denial_date=format_date(denial.date),
            urgency=denial.urgency,
        )
    return values


def answer(evidence: _Evidence, reason: DeniedReason) -> Part:
    """The case's evidence for one reason a denial gives."""
    category = reason.category
    if category is DenialReason.NOT_MEDICALLY_NECESSARY:
        return evidence.medical_necessity()
    if category is DenialReason.CRITERIA_NOT_MET:
        return evidence.criteria(reason.criteria)
    if category is DenialReason.STEP_THERAPY_NOT_MET:
        return evidence.step_therapy()
    if category is DenialReason.DOSE_ABOVE_POLICY:
        return evidence.dose()
    if category is DenialReason.EXPERIMENTAL_INVESTIGATIONAL:
        return evidence.indication_evidence()
    if category is DenialReason.SITE_OF_CARE:
        return evidence.site()
    if category is DenialReason.NON_PREFERRED_PRODUCT:
        return evidence.product_choice()
    return evidence.records(reason.missing)


def make_section(
    key: str,
    rule_heading: str,
    intro: str,
    closing: str,
    part: Part,
    *,
    denial_says: str = "",
    reviewer_words: str = "",
    physician: tuple[str, ...] = (),
) -> Section:
    """Put a part's evidence under its wording, with the physician's words after it."""
    shown = (
        part.supported
        or part.items
        or part.paragraphs
        or part.therapies
        or part.measures
        or part.listed
        or part.narrative
        or physician
    )
    return Section(
        key=key,
        heading=rule_heading,
        denial_says=denial_says,
        reviewer_words=reviewer_words,
        listed=part.listed,
        # An introduction to evidence that is not there would promise what is missing.
        intro=intro if shown else "",
        rows=part.rows,
        paragraphs=part.paragraphs,
        paragraph_refs=part.paragraph_refs,
        items=part.items,
        therapies=part.therapies,
        measures=part.measures,
        note=part.note,
        narrative=part.narrative + physician,
        closing=closing if part.supported else "",
        supported=part.supported,
        unverified=part.unverified
        or any(item.unverified for item in part.items)
        or any(row.unverified for row in part.rows),
    )


def _deadline_line(deadline: Deadline) -> str:
    if deadline.date is None:
        when = f"set by the plan: {deadline.text}"
    else:
        when = f"{format_date(deadline.date)} ({deadline.text})"
    text = f"Deadline for this {deadline.level_label.lower()}: {when}. Source: {deadline.source}."
    if deadline.decision:
        text += f" Expected decision: {deadline.decision}."
    if deadline.note:
        text += f" {deadline.note}"
    return text


def _enclosures(
    evidence: _Evidence, denial: Denial, attachments: Sequence[Attachment]
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
    rules = rules or library.appeal_rules
    definition = library.indications[assessment.indication_id]
    problems = denial_problems(denial, definition)
    if problems:
        raise AppealInputError([f"denial.{p.field}: {p.message}" for p in problems])
    physician = edits(narrative, APPEAL_NARRATIVE_SECTIONS, MAX_NARRATIVE_CHARS)
    letter: LetterContext = build_letter_context(case, assessment, library, letter_date=letter_date)
    evidence = _Evidence(
        case,
        assessment,
        library,
        refs=_Refs(),
        justification=justification or Justification(),
        attachments=tuple(attachments),
    )
    values = template_values(evidence, denial)
    level = rules.level(denial.level)
    deadline = appeal_deadline(denial, case.coverage.plan_type, rules)
    patient = case.patient

    draft: list[str] = [p.message for p in assessment.problems]
    sections = []
    for reason in denial.reasons:
        rule = rules.reason(reason.category)
        part = answer(evidence, reason)
        section_values = {**values, "unsupported": "; ".join(part.unsupported)}
        if reason.category is DenialReason.CRITERIA_NOT_MET:
            titles = [
                next(c.title for c in definition.all_criteria() if c.id == criterion_id)
                for criterion_id in reason.criteria
            ]
            section_values["criteria"] = "; ".join(titles)
        use_alternative = part.alternative and bool(rule.alternative)
        intro = fill(rule.alternative if use_alternative else rule.response, section_values)
        section_closing = fill(
            rule.alternative_supported if use_alternative else rule.supported, section_values
        )
        written = physician.get(f"rebuttal_{reason.category.value}", ())
        sections.append(
            make_section(
                reason.category.value,
                fill(rule.heading, section_values),
                intro,
                section_closing,
                part,
                denial_says=fill(rule.denial_says, section_values),
                reviewer_words=reason.reviewer_words,
                physician=written,
            )
        )
        if not part.supported and not written:
            draft.append(fill(rule.unsupported, section_values))

    if deadline.date is not None and letter_date > deadline.date:
        draft.append(
            f"The deadline for a {deadline.level_label.lower()} was "
            f"{format_date(deadline.date)}; check the denial notice for the deadline that "
            "applies, or prepare the next level."
        )

    reasons_given = tuple(DENIAL_REASON_LABELS[r.category] for r in denial.reasons)
    opening = [
        fill(level.request, values),
        f"The denial gives {len(reasons_given)} reason{'s' if len(reasons_given) != 1 else ''}"
        f": {'; '.join(r.lower() for r in reasons_given)}. I answer "
        f"{'each' if len(reasons_given) != 1 else 'it'} below with the evidence in the "
        "enclosed records.",
    ]
    if deadline.date is not None and letter_date <= deadline.date:
        opening.append(
            f"This {deadline.level_label.lower()} is made within the time allowed, which ends "
            f"on {format_date(deadline.date)}."
        )
    expedited_request = fill(rules.expedited.request, values) if denial.expedited else ""

    phone = f" at {case.prescriber.phone}" if case.prescriber.phone else ""
    fax = f" (fax {case.prescriber.fax})" if case.prescriber.fax else ""
    expedite = " and that this appeal be decided on an expedited basis" if denial.expedited else ""
    closing = (
        f"For the reasons above, I ask that the denial be reversed and that "
        f"{evidence.product_name} be approved for {patient.full_name} as requested{expedite}.",
        "If the denial is upheld, I ask to receive the specific policy criteria and the "
        "clinical rationale relied on, so that they can be addressed at the next level of "
        "review.",
        "I am available to discuss this patient's care with the reviewing physician; my "
        f"office can be reached{phone}{fax}.",
    )

    recipient = [case.coverage.payer_name, level.attention]
    if denial.appeals_address:
        recipient.append(denial.appeals_address)
    if denial.appeals_fax:
        recipient.append(f"Fax {denial.appeals_fax}")
    deadline_value = format_date(deadline.date) if deadline.date is not None else "Set by the plan"
    member_rows = (
        *letter.member_rows,
        Row("Denial reference", denial.payer_reference),
        Row("Denial dated", format_date(denial.date)),
        Row("Appeal level", APPEAL_LEVEL_LABELS[denial.level]),
        Row("Appeal deadline", deadline_value, unverified=deadline.unverified),
    )
    shows_measures = any(s.measures for s in sections)
    references = evidence.refs.items
    has_unverified = (
        letter.has_unverified
        or deadline.unverified
        or any(s.unverified for s in sections)
        or any(r.unverified for r in references)
    )
    intro_words = f"The notice dated {format_date(denial.date)} (reference {denial.payer_reference}"
    intro_words += f", reviewer {denial.reviewer})" if denial.reviewer else ")"
    intro_words += " gives these reasons:" if not denial.reviewer_words else " states:"
    return AppealContext(
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
        deadline_line=_deadline_line(deadline),
        deadline_unverified=deadline.unverified,
        expedited=denial.expedited,
        expedited_request=expedited_request,
        salutation="Dear Appeals Reviewer:",
        opening=physician.get("opening", tuple(opening)),
        denial_intro=intro_words,
        reviewer_words=denial.reviewer_words,
        reasons_given=reasons_given,
        diagnoses=letter.diagnoses,
        treatment_rows=letter.treatment_rows,
        sections=tuple(sections),
        clinical_history=physician.get("clinical_history", letter.clinical_history),
        response_rows=() if shows_measures else letter.response_rows,
        response_intro=letter.response_intro,
        dose_reduction="" if shows_measures else letter.dose_reduction,
        closing=physician.get("closing", closing),
        signature=letter.signature,
        enclosures=_enclosures(evidence, denial, attachments),
        references=references,
        has_unverified=has_unverified,
        draft_reasons=tuple(draft),
        definition_versions=letter.definition_versions,
    )


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
) -> Rendered[AppealContext]:
    """Render the appeal letter for a recorded denial to HTML and PDF."""
    context = build_appeal_context(
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
    html = render_html(APPEAL_TEMPLATE, context)
    output = convert(html, title=PDF_TITLE)
    return Rendered(
        html=html,
        pdf=output.pdf,
        context=context,
        page_count=output.page_count,
        fetches=output.fetches,
        record=document_record(
            "appeal",
            case,
            assessment,
            document_date=letter_date,
            denial=denial,
            justification=justification,
            attachments=attachments,
            narrative=narrative,
        ),
    )


__all__ = [
    "APPEAL_NARRATIVE_SECTIONS",
    "AppealContext",
    "AppealInputError",
    "EvidenceItem",
    "build_appeal_context",
    "render_appeal",
]
