"""The peer-to-peer preparation sheet: what the physician needs on one sheet for the call.

For the physician, not the payer: the case at a glance, every criterion with its
status, its evidence and its source, the dose and how it was computed, the
objections to expect (from the denial's reasons and from what the assessment
found) with the case's own answer to each, and the questions worth asking the
reviewer. It says plainly what is not met or not documented: a call goes better
when the weak points are known beforehand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from priorauth.domain.case import PLAN_LABELS, SITE_LABELS, Case
from priorauth.domain.denial import (
    APPEAL_LEVEL_LABELS,
    DENIAL_REASON_LABELS,
    Attachment,
    Denial,
    Justification,
)
from priorauth.domain.quantities import plain_number
from priorauth.rules.appeals import AppealRules, appeal_deadline, fill
from priorauth.rules.assessment import STATUS_LABELS, Assessment, CriterionResult, Status
from priorauth.rules.library import Library
from priorauth.rules.schema import CoverageStatus

from . import answers
from .dose_words import loading_sentence, prescribed_and_given, schedule, subcutaneous_lines
from .doubts import items
from .evidence import Evidence, Part
from .letter import build_letter_context
from .output import Rendered, document_record, render_document
from .parts import InternalReference, InternalRow, References
from .sections import template_values
from .wording import format_date, format_short_date

PEER_TO_PEER_TEMPLATE = "documents/peer_to_peer.html"
PDF_TITLE = "Peer-to-peer preparation sheet"
MAX_EVIDENCE_CHARS = 600


@dataclass(frozen=True, slots=True)
class CriterionRow:
    title: str
    status: str
    status_key: str
    evidence: str
    reason: str
    refs: tuple[int, ...]
    required: bool
    unverified: bool
    nested: bool


@dataclass(frozen=True, slots=True)
class ObjectionRow:
    about: str
    objection: str
    prepare: str
    on_file: str


@dataclass(frozen=True, slots=True)
class PeerToPeerContext:
    """Everything the preparation sheet shows; plain values only."""

    title: str
    pdf_title: str
    prepared_on: str
    running_head: str
    for_line: str
    case_rows: tuple[InternalRow, ...]
    denial_rows: tuple[InternalRow, ...]
    reviewer_words: str
    verdict: str
    criteria: tuple[CriterionRow, ...]
    dose_lines: tuple[str, ...]
    objections: tuple[ObjectionRow, ...]
    questions: tuple[str, ...]
    references: tuple[InternalReference, ...]
    has_unverified: bool
    definition_versions: tuple[tuple[str, str], ...]


def _clip(text: str) -> str:
    return text if len(text) <= MAX_EVIDENCE_CHARS else text[: MAX_EVIDENCE_CHARS - 1] + "…"


def _criterion_rows(
    results: tuple[CriterionResult, ...], refs: References, nested: bool = False
) -> list[CriterionRow]:
    rows = []
    for result in results:
        rows.append(
            CriterionRow(
                title=result.title,
                status=STATUS_LABELS[result.status],
                status_key=result.status.value,
                evidence="; ".join(result.evidence) or "—",
                reason=result.reason + (f" {result.payer_change}" if result.payer_change else ""),
                refs=refs.cite(result.citations),
                required=result.required,
                unverified=result.unverified,
                nested=nested,
            )
        )
        rows.extend(_criterion_rows(result.children, refs, nested=True))
    return rows


def _on_file(part: Part) -> str:
    """What the case already offers against an objection, in one line."""
    bits = [f"{i.text}: {i.detail}" if i.detail else i.text for i in items(part.items)]
    bits += [f"{r.label}: {r.value}" for r in items(part.rows)]
    bits += [f"{t.agent} ({t.outcome.lower()})" for t in part.therapies]
    bits += [f"{m.measure}: {m.before} → {m.now}" for m in part.measures]
    bits += list(part.narrative)
    if part.unsupported:
        bits.append("Not on file: " + "; ".join(part.unsupported))
    return _clip("; ".join(bits) or "Nothing on file yet.")


def build_peer_to_peer_context(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    prepared_on: dt.date,
    denial: Denial | None = None,
    rules: AppealRules | None = None,
    justification: Justification | None = None,
    attachments: Sequence[Attachment] = (),
) -> PeerToPeerContext:
    """Gather the sheet's contents from the case, its assessment and, if any, the denial."""
    rules = rules or library.appeal_rules
    letter = build_letter_context(case, assessment, library, letter_date=prepared_on)
    refs = References()
    evidence = Evidence(
        case,
        assessment,
        library,
        refs=References(),
        justification=justification or Justification(),
        attachments=tuple(attachments),
    )
    p2p = rules.peer_to_peer
    patient = case.patient
    age = patient.age_years(prepared_on)
    dose = assessment.dose.dose
    regimen = case.regimen

    criteria = tuple(_criterion_rows(assessment.criteria, refs))
    dose_lines: list[str] = []
    if dose is not None:
        weight = dose.dosing_weight
        dose_lines.append(
            f"{plain_number(dose.per_course_g)} g per course ({plain_number(dose.dose_g_per_kg)}"
            f" g/kg on a dosing weight of {plain_number(weight.weight_kg)} kg; actual "
            f"{plain_number(weight.actual_kg)} kg), {plain_number(dose.per_day_g)} g a day over "
            f"{dose.days_per_course} day(s), "
            f"{schedule(regimen.interval_weeks, assessment.dose.route)}."
        )
        dose_lines.append(weight.reason)
        dose_lines.append(prescribed_and_given(dose))
        if dose.rounding_note:
            dose_lines.append(dose.rounding_note)
        if dose.loading is not None:
            dose_lines.append(loading_sentence(dose))
        dose_lines += subcutaneous_lines(assessment.dose)
    if assessment.dose.limit_text:
        dose_lines.append(f"{assessment.dose.limit_label}: {assessment.dose.limit_text}.")
    dose_lines += [finding.message for finding in assessment.dose.findings]

    objections: list[ObjectionRow] = []
    values = template_values(evidence, denial)
    if denial is not None:
        for reason in denial.reasons:
            part = answers.answer(evidence, reason)
            for item in rules.reason(reason.category).objections:
                objections.append(
                    ObjectionRow(
                        about=f"Denial: {DENIAL_REASON_LABELS[reason.category].lower()}",
                        objection=fill(item.objection, values),
                        prepare=fill(item.prepare, values),
                        on_file=_on_file(part),
                    )
                )
    if assessment.coverage is not CoverageStatus.STANDARD:
        objections.append(
            ObjectionRow(
                about="Coverage",
                objection=p2p.exception,
                prepare="What an exception request needs: " + "; ".join(assessment.exception_needs),
                on_file=_on_file(answers.indication(evidence)),
            )
        )
    for result in assessment.criteria:
        if result.status is Status.MET:
            if result.unverified:
                objections.append(
                    ObjectionRow(result.title, p2p.unverified, result.why or result.reason, "")
                )
            continue
        objection = p2p.not_met if result.status is Status.NOT_MET else p2p.missing
        objections.append(
            ObjectionRow(
                about=result.title,
                objection=objection,
                prepare=result.reason,
                on_file=_clip("; ".join(result.evidence) or "Nothing on file."),
            )
        )
    for finding in assessment.dose.findings:
        objections.append(ObjectionRow("Dose", p2p.dose_finding, finding.message, ""))

    case_rows = (
        InternalRow("Patient", f"{patient.full_name}, {age}, {patient.sex.value}"),
        InternalRow("Member ID", case.coverage.member_id),
        InternalRow(
            "Plan",
            f"{case.coverage.payer_name} ({PLAN_LABELS[case.coverage.plan_type]}); "
            f"profile: {assessment.payer_name}",
        ),
        InternalRow(
            "Indication",
            f"{evidence.indication} ({', '.join(d.code for d in letter.diagnoses)})",
        ),
        InternalRow("Request", letter.member_rows[-1].value),
        InternalRow("Product", evidence.product_name),
        InternalRow("Site of care", SITE_LABELS[case.site_of_care]),
        InternalRow("Start", format_short_date(regimen.start_date)),
    )
    denial_rows: tuple[InternalRow, ...] = ()
    if denial is not None:
        deadline = appeal_deadline(denial, case.coverage.plan_type, rules)
        denial_rows = (
            InternalRow("Denial", f"{denial.payer_reference}, dated {format_date(denial.date)}"),
            InternalRow("Reasons", "; ".join(DENIAL_REASON_LABELS[c] for c in denial.categories)),
            InternalRow("Appeal level", APPEAL_LEVEL_LABELS[denial.level]),
            InternalRow(
                "Deadline",
                format_date(deadline.date) if deadline.date else "Set by the plan",
                note=deadline.text,
                unverified=deadline.unverified,
            ),
        )
        if denial.reviewer:
            denial_rows += (InternalRow("Reviewer", denial.reviewer),)
        if denial.expedited:
            denial_rows += (InternalRow("Expedited", "Requested", note=denial.urgency),)
    references = refs.internal_items
    return PeerToPeerContext(
        title="Peer-to-peer preparation",
        pdf_title=PDF_TITLE,
        prepared_on=format_date(prepared_on),
        running_head=letter.running_head,
        for_line=(
            f"For {case.prescriber.name}, {case.prescriber.credentials}: notes for a call with "
            "the payer's reviewer. Not for submission."
        ),
        case_rows=case_rows,
        denial_rows=denial_rows,
        reviewer_words=denial.reviewer_words if denial is not None else "",
        verdict=assessment.verdict_label,
        criteria=criteria,
        dose_lines=tuple(dose_lines),
        objections=tuple(objections),
        questions=p2p.questions,
        references=references,
        has_unverified=any(c.unverified for c in criteria)
        or any(r.unverified for r in references)
        or any(r.unverified for r in denial_rows),
        definition_versions=letter.definition_versions,
    )


def render_peer_to_peer(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    prepared_on: dt.date,
    denial: Denial | None = None,
    rules: AppealRules | None = None,
    justification: Justification | None = None,
    attachments: Sequence[Attachment] = (),
) -> Rendered[PeerToPeerContext]:
    """Render the peer-to-peer preparation sheet to HTML and PDF."""
    context = build_peer_to_peer_context(
        case,
        assessment,
        library,
        prepared_on=prepared_on,
        denial=denial,
        rules=rules,
        justification=justification,
        attachments=attachments,
    )
    record = document_record(
        "peer_to_peer",
        case,
        assessment,
        document_date=prepared_on,
        denial=denial,
        justification=justification,
        attachments=attachments,
    )
    return render_document(PEER_TO_PEER_TEMPLATE, context, record, title=PDF_TITLE)
