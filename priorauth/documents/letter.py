"""The letter of medical necessity (or of medical exception): its context and its PDF.

Templates receive only str, bool, int and tuples of small frozen records built
here, never a Case, an Assessment or a definition: what a letter says is decided
in this module, where it can be tested, and a template cannot reach further
than the values it is given.

The letter is for the payer: it claims only what the assessment found met (a
criterion not met or missing is left out of the justification) and carries no
internal mark. What is doubtful about it (a value no source confirmed, the weight
rule assumed, why the case is not ready) is built beside it into its ``Review``,
which the physician's review sheet prints (review.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from priorauth.domain.case import PLAN_LABELS, Case, Prescriber, RequestType
from priorauth.domain.facts import SPECIALTIES
from priorauth.rules.assessment import Assessment, Status, Verdict
from priorauth.rules.codesets import icd10cm_entry
from priorauth.rules.library import Library
from priorauth.rules.schema import CoverageStatus, IndicationDefinition

from .doubts import Doubt, DoubtKind, Drafted, Marked, Review, items, unverified
from .output import Rendered, document_record, render_document
from .parts import (
    CriterionLine,
    Diagnosis,
    EnclosureLine,
    Letterhead,
    Reference,
    References,
    Row,
    Signature,
    TherapyRow,
    lab_rows,
    met_line,
    numbered,
    therapy_rows,
)
from .response import MeasureRow, dose_reduction_text, response_rows
from .review_blocks import letter_blocks, not_cited_sources
from .treatment import treatment
from .wording import (
    edited_sections,
    format_date,
    format_short_date,
    in_sentence,
    office_contact,
    paragraphs,
)

LETTER_TEMPLATE = "documents/letter.html"
# Sections a physician may rewrite (a later issue's editor); anything else is a typo.
NARRATIVE_SECTIONS = ("opening", "clinical_history", "justification", "dosing", "closing")
MAX_NARRATIVE_CHARS = 20_000

_SPECIALTY_LABELS = dict(SPECIALTIES)
_REQUEST_LABELS = {
    RequestType.INITIAL: "Initial authorization",
    RequestType.CONTINUATION: "Continuation of therapy (re-authorization)",
}


@dataclass(frozen=True, slots=True)
class LetterContext:
    """Everything the letter template shows; plain values only, and nothing internal."""

    title: str
    pdf_title: str
    is_exception: bool
    letter_date: str
    letterhead: Letterhead
    recipient: tuple[str, ...]
    subject: str
    running_head: str
    member_rows: tuple[Row, ...]
    salutation: str
    opening: tuple[str, ...]
    diagnoses: tuple[Diagnosis, ...]
    treatment_rows: tuple[Row, ...]
    clinical_history: tuple[str, ...]
    labs: tuple[Row, ...]
    justification: tuple[str, ...]
    criteria_met: tuple[CriterionLine, ...]
    therapy_intro: str
    therapies: tuple[TherapyRow, ...]
    dosing: tuple[str, ...]
    dosing_refs: tuple[int, ...]
    closing: tuple[str, ...]
    signature: Signature
    enclosures: tuple[EnclosureLine, ...]
    references: tuple[Reference, ...]
    definition_versions: tuple[tuple[str, str], ...]
    # Continuation requests: the measures before treatment and now, and whether a
    # lower dose or a trial off was attempted (empty for an initial request).
    response_intro: str = ""
    response_rows: tuple[MeasureRow, ...] = ()
    dose_reduction: str = ""


def _diagnoses(case: Case, definition: IndicationDefinition) -> list[Marked[Diagnosis]]:
    diagnoses = []
    for code in case.icd10_codes:
        known = definition.code(code)
        entry = icd10cm_entry(code) if definition.any_code and known is None else None
        if entry is not None:
            # A condition outside the library: the code set's own description.
            diagnoses.append(Marked(Diagnosis(entry.code, entry.description), ()))
        elif known is None:
            diagnoses.append(
                Marked(
                    Diagnosis(code, ""),
                    (Doubt(f"Not a code for {definition.name}.", kind=DoubtKind.PROBLEM),),
                )
            )
        else:
            diagnoses.append(
                Marked(
                    Diagnosis(known.code, known.description),
                    unverified(not known.verified, known.note),
                )
            )
    return diagnoses


def _letterhead(prescriber: Prescriber) -> Letterhead:
    return Letterhead(
        practice_name=prescriber.practice_name or f"{prescriber.name}, {prescriber.credentials}",
        address=prescriber.practice_address,
        phone=prescriber.phone,
        fax=prescriber.fax,
    )


def _signature(prescriber: Prescriber) -> Signature:
    return Signature(
        name=prescriber.name,
        credentials=prescriber.credentials,
        npi=prescriber.npi,
        specialty=_SPECIALTY_LABELS.get(prescriber.specialty, prescriber.specialty),
        practice_name=prescriber.practice_name,
        practice_address=prescriber.practice_address,
        phone=prescriber.phone,
        fax=prescriber.fax,
    )


def draft_letter(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    letter_date: dt.date,
    narrative: Mapping[str, str] | None = None,
) -> Drafted[LetterContext]:
    """The letter for the payer, and its review for the physician."""
    return numbered(
        lambda refs: _draft(
            case, assessment, library, refs, letter_date=letter_date, narrative=narrative
        )
    )


def build_letter_context(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    letter_date: dt.date,
    narrative: Mapping[str, str] | None = None,
) -> LetterContext:
    """Gather what the letter says from the case, its assessment and the definitions."""
    return draft_letter(
        case, assessment, library, letter_date=letter_date, narrative=narrative
    ).context


def _draft(
    case: Case,
    assessment: Assessment,
    library: Library,
    refs: References,
    *,
    letter_date: dt.date,
    narrative: Mapping[str, str] | None,
) -> Drafted[LetterContext]:
    definition = library.indications[assessment.indication_id]
    product = library.products.get(case.regimen.product_id)
    edits = edited_sections(narrative, NARRATIVE_SECTIONS, MAX_NARRATIVE_CHARS)
    patient = case.patient
    prescriber = case.prescriber
    is_exception = assessment.coverage is not CoverageStatus.STANDARD
    indication = definition.short_name or definition.name

    diagnoses = _diagnoses(case, definition)
    codes_text = ", ".join(d.item.code for d in diagnoses)
    product_name = product.name if product is not None else case.regimen.product_id
    product_code = f" (HCPCS {product.hcpcs})" if product is not None else ""

    if is_exception:
        title = "Request for a medical exception: immune globulin therapy"
        pdf_title = "Medical exception request"
    else:
        title = "Letter of medical necessity: immune globulin therapy"
        pdf_title = "Prior authorization request"
    request_label = _REQUEST_LABELS[case.request_type]

    asking = (
        "authorization" if case.request_type is RequestType.INITIAL else "continued authorization"
    )
    if is_exception:
        opening = (
            f"I am writing on behalf of my patient, {patient.full_name}, to request a medical "
            f"exception for {product_name}{product_code}, immune globulin, for "
            f"{in_sentence(definition.name)} (ICD-10-CM {codes_text}). I recognize that "
            "this indication is not covered under standard policy; the clinical "
            "circumstances below explain why this treatment is necessary for this patient.",
        )
    else:
        opening = (
            f"I am writing on behalf of my patient, {patient.full_name}, to request {asking} "
            f"of {product_name}{product_code}, immune globulin, for "
            f"{in_sentence(definition.name)} "
            f"(ICD-10-CM {codes_text}). The treatment requested is summarized below.",
        )

    met = [r for r in assessment.criteria if r.status is Status.MET]
    # Required criteria first: they are what the reviewer checks off.
    met.sort(key=lambda r: not r.required)
    # References are numbered in reading order: the criteria come before the dosing.
    marked_criteria = tuple(met_line(r, refs) for r in met)
    block = treatment(case, assessment, library, definition, refs)
    if marked_criteria:
        justification: tuple[str, ...] = (
            f"{patient.full_name} meets the following criteria for immune globulin therapy "
            f"in {indication}, each documented in the medical record:",
        )
    else:
        justification = ()

    therapies = therapy_rows(case)
    if case.prior_therapies:
        therapy_intro = (
            f"{patient.full_name} has received the following treatments for this condition:"
        )
    elif therapies:
        therapy_intro = (
            f"{patient.full_name} has not been given these treatments, for the reasons shown:"
        )
    else:
        therapy_intro = "No prior treatment for this condition is recorded."

    contact = office_contact(prescriber.phone, prescriber.fax)
    closing = (
        f"In my clinical judgment, immune globulin therapy is medically necessary for "
        f"{patient.full_name}. I ask that you approve this request. I am available to "
        f"discuss this patient's care{contact}.",
    )

    recipient = (
        case.coverage.payer_name,
        "Attn: Prior Authorization / Utilization Management",
    )
    member_rows = (
        Row("Patient", patient.full_name),
        Row("Date of birth", format_short_date(patient.date_of_birth)),
        Row("Sex", patient.sex.value.capitalize()),
        Row("Member ID", case.coverage.member_id),
        Row("Group number", case.coverage.group_number or "—"),
        Row("Plan", f"{case.coverage.payer_name} ({PLAN_LABELS[case.coverage.plan_type]})"),
        Row("Request", request_label),
    )
    kind = "Medical exception" if is_exception else "Prior authorization"
    subject = f"Re: {kind} for {product_name}{product_code}: {indication}"

    enclosures = tuple(
        EnclosureLine(e.title, e.required)
        for e in definition.enclosures
        if case.request_type in e.applies_to
    )
    references = refs.items
    measures: tuple[MeasureRow, ...] = ()
    dose_reduction = ""
    if case.request_type is RequestType.CONTINUATION:
        measures = response_rows(case, definition)
        dose_reduction = dose_reduction_text(case)

    context = LetterContext(
        title=title,
        pdf_title=pdf_title,
        is_exception=is_exception,
        letter_date=format_date(letter_date),
        letterhead=_letterhead(prescriber),
        recipient=recipient,
        subject=subject,
        running_head=(
            f"{patient.full_name} · DOB {format_short_date(patient.date_of_birth)} · "
            f"Member ID {case.coverage.member_id}"
        ),
        member_rows=member_rows,
        salutation="Dear Medical Director:",
        opening=edits.get("opening", opening),
        diagnoses=items(diagnoses),
        treatment_rows=block.payer_rows,
        clinical_history=edits.get("clinical_history", paragraphs(case.clinical_summary)),
        labs=lab_rows(case, definition),
        justification=edits.get("justification", justification),
        criteria_met=items(marked_criteria),
        therapy_intro=therapy_intro,
        therapies=therapies,
        dosing=edits.get("dosing", block.payer_dosing),
        dosing_refs=block.dosing_refs,
        closing=edits.get("closing", closing),
        signature=_signature(prescriber),
        enclosures=enclosures,
        references=items(references),
        definition_versions=tuple(sorted(assessment.definition_versions.items())),
        response_intro=(
            f"Objective measures before immune globulin and now, for {patient.full_name}:"
            if measures
            else ""
        ),
        response_rows=measures,
        dose_reduction=dose_reduction,
    )
    not_ready = assessment.verdict is Verdict.NOT_READY
    review = Review(
        document_title=title,
        document="exception letter" if is_exception else "letter",
        draft_reasons=assessment.verdict_reasons if not_ready else (),
        warnings=() if not_ready else assessment.verdict_reasons,
        blocks=letter_blocks(
            context,
            diagnoses=diagnoses,
            treatment_rows=block.rows,
            criteria=marked_criteria,
            # The physician's own dosing words replace the built ones, doubts and all.
            dosing=block.dosing if "dosing" not in edits else (),
            references=references,
        ),
        not_cited=not_cited_sources(definition, library, assessment),
    )
    return Drafted(context, review)


def render_letter(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    letter_date: dt.date,
    narrative: Mapping[str, str] | None = None,
    archival: bool = False,
) -> Rendered[LetterContext]:
    """Render the prior-authorization letter for an assessed case to HTML and PDF.

    ``archival`` writes PDF/A-3b carrying the record (pdfa.py). The result's
    ``review`` holds what the physician's review sheet shows beside it.
    """
    drafted = draft_letter(case, assessment, library, letter_date=letter_date, narrative=narrative)
    record = document_record(
        "letter", case, assessment, document_date=letter_date, narrative=narrative
    )
    return render_document(
        LETTER_TEMPLATE,
        drafted.context,
        record,
        title=drafted.context.pdf_title,
        archival=archival,
        review=drafted.review,
    )
