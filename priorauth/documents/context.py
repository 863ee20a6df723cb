"""Build the letter's context: every value the template shows, as plain text.

Templates receive only str, bool, int and tuples of small frozen records built
here, never a Case, an Assessment or a definition: what a letter says is decided
in this module, where it can be tested, and a template cannot reach further
than the values it is given.

The letter claims only what the assessment found met. A criterion not met or
missing is left out of the justification, and every value no source confirmed
carries an ``unverified`` mark that the template shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from priorauth.domain.case import (
    OUTCOME_LABELS,
    PLAN_LABELS,
    SITE_LABELS,
    Case,
    RequestType,
)
from priorauth.domain.catalog import Product, Route
from priorauth.domain.dosing import BASIS_LABELS, Dose
from priorauth.domain.facts import FACTS, SPECIALTIES, THERAPY_CLASSES, FactKind
from priorauth.rules.assessment import Assessment, CitationRef, CriterionResult, Status, Verdict
from priorauth.rules.library import Library
from priorauth.rules.schema import CoverageStatus, IndicationDefinition

# Sections a physician may rewrite (a later issue's editor); anything else is a typo.
NARRATIVE_SECTIONS = ("opening", "clinical_history", "justification", "dosing", "closing")
MAX_NARRATIVE_CHARS = 20_000

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_SPECIALTY_LABELS = dict(SPECIALTIES)
_CLASS_LABELS = dict(THERAPY_CLASSES)
_REQUEST_LABELS = {
    RequestType.INITIAL: "Initial authorization",
    RequestType.CONTINUATION: "Continuation of therapy (re-authorization)",
}
_ROUTE_LABELS = {Route.IV: "intravenous", Route.SC: "subcutaneous"}


@dataclass(frozen=True, slots=True)
class Row:
    """One labelled value in a block of the letter."""

    label: str
    value: str
    note: str = ""
    unverified: bool = False


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str
    description: str
    unverified: bool


@dataclass(frozen=True, slots=True)
class CriterionLine:
    """A criterion the assessment found met, with what documents it."""

    title: str
    evidence: tuple[str, ...]
    refs: tuple[int, ...]
    required: bool
    unverified: bool
    payer_change: str = ""


@dataclass(frozen=True, slots=True)
class TherapyRow:
    agent: str
    therapy_class: str
    start: str
    end: str
    dose: str
    outcome: str
    note: str


@dataclass(frozen=True, slots=True)
class Reference:
    number: int
    text: str
    date: str
    url: str
    unverified: bool


@dataclass(frozen=True, slots=True)
class EnclosureLine:
    title: str
    required: bool


@dataclass(frozen=True, slots=True)
class Letterhead:
    practice_name: str
    address: str
    phone: str
    fax: str


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    credentials: str
    npi: str
    specialty: str
    practice_name: str
    practice_address: str
    phone: str
    fax: str


@dataclass(frozen=True, slots=True)
class MeasureRow:
    """An objective measure before immune globulin and now, as a continuation shows it."""

    measure: str
    before: str
    now: str
    change: str


@dataclass(frozen=True, slots=True)
class LetterContext:
    """Everything the letter template shows; plain values only."""

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
    justification: tuple[str, ...]
    criteria_met: tuple[CriterionLine, ...]
    therapy_intro: str
    therapies: tuple[TherapyRow, ...]
    dosing: tuple[str, ...]
    dosing_refs: tuple[int, ...]
    dosing_unverified: bool
    closing: tuple[str, ...]
    signature: Signature
    enclosures: tuple[EnclosureLine, ...]
    references: tuple[Reference, ...]
    has_unverified: bool
    draft_reasons: tuple[str, ...]
    definition_versions: tuple[tuple[str, str], ...]
    # Continuation requests: the measures before treatment and now, and whether a
    # lower dose or a trial off was attempted (empty for an initial request).
    response_intro: str = ""
    response_rows: tuple[MeasureRow, ...] = ()
    dose_reduction: str = ""


def format_date(value: dt.date) -> str:
    """Write a date the way a US letter does: November 20, 2026."""
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}"


def format_short_date(value: dt.date) -> str:
    """Write a date as MM/DD/YYYY, the form US payer forms use."""
    return f"{value.month:02d}/{value.day:02d}/{value.year}"


def format_number(value: Decimal) -> str:
    """Write a Decimal without trailing zeros or exponent: 160.0 → 160, 0.500 → 0.5."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _plural(count: int | Decimal, word: str) -> str:
    return f"{format_number(Decimal(count))} {word}{'' if count == 1 else 's'}"


def _in_sentence(name: str) -> str:
    """Lower a name's first letter for use mid-sentence, unless it starts an acronym."""
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


def _paragraphs(text: str) -> tuple[str, ...]:
    """Split free text into paragraphs on blank lines; keep each paragraph's words as typed."""
    blocks = [" ".join(block.split()) for block in text.replace("\r\n", "\n").split("\n\n")]
    return tuple(block for block in blocks if block)


class _Refs:
    """Number citations in order of first use, as a letter's reference list does."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._items: list[Reference] = []

    def cite(self, citations: Iterable[CitationRef]) -> tuple[int, ...]:
        numbers = []
        for c in citations:
            if c.id not in self._numbers:
                self._numbers[c.id] = len(self._items) + 1
                self._items.append(
                    Reference(
                        number=self._numbers[c.id],
                        text=c.text,
                        date=c.date,
                        url=c.url,
                        unverified=c.unverified,
                    )
                )
            numbers.append(self._numbers[c.id])
        return tuple(numbers)

    @property
    def items(self) -> tuple[Reference, ...]:
        return tuple(self._items)


def _met_line(result: CriterionResult, refs: _Refs) -> CriterionLine:
    evidence = result.evidence
    citations = list(result.citations)
    unverified = result.unverified
    if result.children:
        # Only the alternatives that were met support the claim; a missing one's
        # evidence (or its unverified rule) must not appear as if it did.
        met = [child for child in result.children if child.status is Status.MET]
        evidence = tuple(line for child in met for line in child.evidence)
        citations += [c for child in met for c in child.citations]
        unverified = unverified or any(child.unverified for child in met)
    return CriterionLine(
        title=result.title,
        evidence=evidence,
        refs=refs.cite(citations),
        required=result.required,
        unverified=unverified,
        payer_change=result.payer_change,
    )


def _dose_arithmetic(dose: Dose) -> str:
    """Show how the grams per course follow from g/kg and the dosing weight, rounding included."""
    weight_kg = dose.dosing_weight.weight_kg
    exact_g = dose.dose_g_per_kg * weight_kg
    product = f"{format_number(dose.dose_g_per_kg)} g/kg × {format_number(weight_kg)} kg"
    if exact_g == dose.per_course_g:
        return f"{product} = {format_number(dose.per_course_g)} g per course"
    if dose.rounding_step_g is not None:
        rounding = (
            f"rounded to the nearest {format_number(dose.rounding_step_g)} g "
            "under the dosing policy applied"
        )
    else:
        rounding = "rounded to 0.1 g"
    return (
        f"{product} = {format_number(exact_g)} g, {rounding}: "
        f"{format_number(dose.per_course_g)} g per course"
    )


def _product_rows(product: Product | None, product_id: str) -> list[Row]:
    if product is None:
        return [Row("Product", f"Unknown product {product_id!r}", unverified=True)]
    route = _ROUTE_LABELS.get(product.route, str(product.route))
    rows = [
        Row(
            "Product",
            f"{product.name} (immune globulin {route}, "
            f"{format_number(product.concentration_percent)}%), {product.manufacturer}",
            unverified=any(
                product.is_unverified(f)
                for f in ("name", "manufacturer", "route", "concentration_percent")
            ),
        ),
        Row(
            "HCPCS code",
            product.hcpcs,
            note=product.hcpcs_descriptor,
            unverified=product.is_unverified("hcpcs") or product.is_unverified("hcpcs_descriptor"),
        ),
    ]
    return rows


def _treatment_rows(
    case: Case,
    assessment: Assessment,
    library: Library,
    definition: IndicationDefinition,
    refs: _Refs,
) -> tuple[list[Row], list[str], tuple[int, ...], bool]:
    """The treatment block's rows, the dosing paragraphs, their references and marks."""
    regimen = case.regimen
    product = library.products.get(regimen.product_id)
    check = assessment.dose
    rows = _product_rows(product, regimen.product_id)
    dosing: list[str] = []
    dose = check.dose
    if dose is None:
        reason = "; ".join(f.message for f in check.findings) or "the dose cannot be computed"
        rows.append(Row("Dose", f"{format_number(regimen.dose_g_per_kg)} g/kg per course", reason))
    else:
        weight = dose.dosing_weight
        units = ""
        if product is not None and check.billing_units is not None:
            units = (
                f"{check.billing_units} billing units of {product.billing_unit_mg} mg "
                f"({product.hcpcs})"
            )
        measured = f"Actual weight {format_number(weight.actual_kg)} kg"
        if weight.bmi is not None:
            measured += f", BMI {format_number(weight.bmi)}"
        measured += f"; measured {format_date(case.measurements.measured_on)}"
        rows += [
            Row(
                "Dose per course",
                f"{format_number(dose.per_course_g)} g ({format_number(dose.dose_g_per_kg)} g/kg)",
                note=units,
            ),
            Row(
                "Dose per infusion day",
                f"{format_number(dose.per_day_g)} g "
                f"({format_number(dose.g_per_kg_per_day)} g/kg per day) "
                f"over {_plural(dose.days_per_course, 'day')}",
            ),
            Row(
                "Dosing weight",
                f"{format_number(weight.weight_kg)} kg ({BASIS_LABELS[weight.basis]})",
                note=measured,
                unverified=check.weight_unverified,
            ),
        ]
        dosing.append(
            f"The dose is based on a dosing weight of {format_number(weight.weight_kg)} kg. "
            f"{weight.reason} Policy applied: {check.weight_policy}"
        )
        dosing.append(
            f"{_dose_arithmetic(dose)}, given as {format_number(dose.per_day_g)} g per day over "
            f"{_plural(dose.days_per_course, 'day')} "
            f"({format_number(dose.g_per_kg_per_day)} g/kg per day)."
        )
    rows.append(Row("Interval", f"Every {_plural(regimen.interval_weeks, 'week')}"))
    duration = []
    if regimen.courses_requested is not None:
        duration.append(_plural(regimen.courses_requested, "course"))
    if regimen.months_requested is not None:
        duration.append(_plural(regimen.months_requested, "month"))
    rows.append(Row("Duration requested", " / ".join(duration)))
    rows.append(Row("Requested start", format_date(regimen.start_date)))
    end = assessment.authorization_end
    if assessment.authorization_months is not None and end is not None:
        rows.append(
            Row(
                "Authorization period",
                f"{_plural(assessment.authorization_months, 'month')}: "
                f"{format_date(regimen.start_date)} through {format_date(end)}",
                unverified=assessment.authorization_unverified,
            )
        )
    rows.append(Row("Site of care", SITE_LABELS[case.site_of_care]))

    dosing_refs: tuple[int, ...] = ()
    limit_unverified = False
    # Claim the dose is within the regimen only when the engine found nothing to say.
    if check.within_limits:
        dosing_refs = refs.cite(check.limit_citations)
        limit_unverified = check.limit_unverified
        dosing.append(
            f"This is within the {check.limit_label.lower()} regimen for "
            f"{definition.short_name or definition.name}: {check.limit_text}."
        )
    return rows, dosing, dosing_refs, limit_unverified


def _therapy_rows(case: Case) -> tuple[TherapyRow, ...]:
    return tuple(
        TherapyRow(
            agent=t.agent,
            therapy_class=_CLASS_LABELS.get(t.therapy_class, t.therapy_class),
            start=format_short_date(t.start),
            end=format_short_date(t.end) if t.end else "ongoing",
            dose=t.dose or "—",
            outcome=OUTCOME_LABELS[t.outcome],
            note=t.note,
        )
        for t in case.prior_therapies
    )


# Measures with a "before" fact that is not named <measure>_baseline.
_PAIRED_NUMBERS = {"infections_past_year_on_treatment": "infections_past_year"}


def _unit_text(value: Decimal, unit: str) -> str:
    if not unit:
        return format_number(value)
    if unit in ("points", "infections") and abs(value) == 1:
        unit = unit[:-1]
    return f"{format_number(value)} {unit}"


def _value_text(raw: object, unit: str) -> str:
    """A recorded score, number or list of lab results as a letter writes it."""
    if raw is None:
        return "not recorded"
    if isinstance(raw, list):
        return "; ".join(
            f"{_unit_text(r.value, unit)} ({format_short_date(r.date)})"
            for r in sorted(raw, key=lambda r: r.date)
        )
    value = getattr(raw, "value", raw)
    text = _unit_text(Decimal(str(value)), unit)
    date = getattr(raw, "date", None)
    return f"{text} ({format_short_date(date)})" if date else text


def _change_text(before: Decimal, now: Decimal, unit: str, higher_is_better: bool) -> str:
    """Say which way a measure moved, by how much, and which way is better."""
    diff = now - before
    better = diff if higher_is_better else -diff
    if better == 0:
        return "No change"
    word = "Improved" if better > 0 else "Worse"
    scale = "higher is better" if higher_is_better else "lower is better"
    return f"{word} by {_unit_text(abs(diff), unit)} ({scale})"


def response_rows(case: Case, definition: IndicationDefinition) -> tuple[MeasureRow, ...]:
    """The objective measures a continuation is judged on, from what the definition asks."""
    rows: list[MeasureRow] = []
    for question in definition.questions_for(RequestType.CONTINUATION):
        name = question.fact
        fact = FACTS[name]
        now_raw = case.answer(name)
        if fact.kind is FactKind.SCORE and name.endswith("_current"):
            before_name = name.removesuffix("_current") + "_baseline"
        elif name in _PAIRED_NUMBERS:
            before_name = _PAIRED_NUMBERS[name]
        elif fact.kind is FactKind.LAB:
            if now_raw:
                rows.append(MeasureRow(fact.label, "—", _value_text(now_raw, fact.unit), ""))
            continue
        else:
            continue
        before_raw = case.answer(before_name) if before_name in FACTS else None
        if before_raw is None and now_raw is None:
            continue
        change = ""
        if before_raw is not None and now_raw is not None:
            before = Decimal(str(getattr(before_raw, "value", before_raw)))
            now = Decimal(str(getattr(now_raw, "value", now_raw)))
            # Fewer infections is better; scores say which way is better themselves.
            higher = bool(fact.higher_is_better) if fact.kind is FactKind.SCORE else False
            change = _change_text(before, now, fact.unit, higher)
        rows.append(
            MeasureRow(
                measure=fact.label.removesuffix(" now").removesuffix(" on treatment"),
                before=_value_text(before_raw, fact.unit),
                now=_value_text(now_raw, fact.unit),
                change=change,
            )
        )
    response = case.answer("response_to_ivig")
    if response is not None:
        label = dict(FACTS["response_to_ivig"].choices)[response]
        rows.append(MeasureRow(FACTS["response_to_ivig"].label, "—", label, ""))
    return tuple(rows)


def dose_reduction_text(case: Case) -> str:
    """Whether a lower dose or a trial off was attempted, as recorded."""
    answer = case.answer("dose_reduction_attempt")
    if answer is None:
        return ""
    fact = FACTS["dose_reduction_attempt"]
    return f"{fact.label}: {_in_sentence(dict(fact.choices)[answer])}."


def _narrative(narrative: Mapping[str, str] | None) -> dict[str, tuple[str, ...]]:
    if not narrative:
        return {}
    unknown = sorted(set(narrative) - set(NARRATIVE_SECTIONS))
    if unknown:
        raise ValueError(
            f"unknown narrative section {', '.join(unknown)}; "
            f"sections are {', '.join(NARRATIVE_SECTIONS)}"
        )
    out = {}
    for key, text in narrative.items():
        if len(text) > MAX_NARRATIVE_CHARS:
            raise ValueError(
                f"the {key} section is {len(text):,} characters; the limit is "
                f"{MAX_NARRATIVE_CHARS:,}"
            )
        out[key] = _paragraphs(text)
    return out


def build_letter_context(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    letter_date: dt.date,
    narrative: Mapping[str, str] | None = None,
) -> LetterContext:
    """Gather what the letter says from the case, its assessment and the definitions."""
    definition = library.indications[assessment.indication_id]
    product = library.products.get(case.regimen.product_id)
    edits = _narrative(narrative)
    refs = _Refs()
    patient = case.patient
    prescriber = case.prescriber
    is_exception = assessment.coverage is not CoverageStatus.STANDARD
    indication = definition.short_name or definition.name

    diagnoses = []
    for code in case.icd10_codes:
        known = definition.code(code)
        if known is None:
            diagnoses.append(Diagnosis(code, "Not a code for this indication", True))
        else:
            diagnoses.append(Diagnosis(known.code, known.description, not known.verified))
    codes_text = ", ".join(d.code for d in diagnoses)
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
            f"{_in_sentence(definition.name)} (ICD-10-CM {codes_text}). I recognize that "
            "this indication is not covered under standard policy; the clinical "
            "circumstances below explain why this treatment is necessary for this patient.",
        )
    else:
        opening = (
            f"I am writing on behalf of my patient, {patient.full_name}, to request {asking} "
            f"of {product_name}{product_code}, immune globulin, for "
            f"{_in_sentence(definition.name)} "
            f"(ICD-10-CM {codes_text}). The treatment requested is summarized below.",
        )

    met = [r for r in assessment.criteria if r.status is Status.MET]
    # Required criteria first: they are what the reviewer checks off.
    met.sort(key=lambda r: not r.required)
    # References are numbered in reading order: the criteria come before the dosing.
    criteria_met = tuple(_met_line(r, refs) for r in met)
    treatment_rows, dosing, dosing_refs, dosing_unverified = _treatment_rows(
        case, assessment, library, definition, refs
    )
    if criteria_met:
        justification: tuple[str, ...] = (
            f"{patient.full_name} meets the following criteria for immune globulin therapy "
            f"in {indication}, each documented in the medical record:",
        )
    else:
        justification = ()

    therapies = _therapy_rows(case)
    if therapies:
        therapy_intro = (
            f"{patient.full_name} has received the following treatments for this condition:"
        )
    else:
        therapy_intro = "No prior treatment for this condition is recorded."

    phone = f" at {prescriber.phone}" if prescriber.phone else ""
    fax = f" (fax {prescriber.fax})" if prescriber.fax else ""
    closing = (
        f"In my clinical judgment, immune globulin therapy is medically necessary for "
        f"{patient.full_name}. I ask that you approve this request. I am available to "
        f"discuss this patient's care; my office can be reached{phone}{fax}.",
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
    has_unverified = (
        any(d.unverified for d in diagnoses)
        or any(r.unverified for r in treatment_rows)
        or any(c.unverified for c in criteria_met)
        or any(r.unverified for r in references)
        or dosing_unverified
    )
    draft_reasons = assessment.verdict_reasons if assessment.verdict is Verdict.NOT_READY else ()
    measures: tuple[MeasureRow, ...] = ()
    dose_reduction = ""
    if case.request_type is RequestType.CONTINUATION:
        measures = response_rows(case, definition)
        dose_reduction = dose_reduction_text(case)

    return LetterContext(
        title=title,
        pdf_title=pdf_title,
        is_exception=is_exception,
        letter_date=format_date(letter_date),
        letterhead=Letterhead(
            practice_name=prescriber.practice_name
            or f"{prescriber.name}, {prescriber.credentials}",
            address=prescriber.practice_address,
            phone=prescriber.phone,
            fax=prescriber.fax,
        ),
        recipient=recipient,
        subject=subject,
        running_head=(
            f"{patient.full_name} · DOB {format_short_date(patient.date_of_birth)} · "
            f"Member ID {case.coverage.member_id}"
        ),
        member_rows=member_rows,
        salutation="Dear Medical Director:",
        opening=edits.get("opening", opening),
        diagnoses=tuple(diagnoses),
        treatment_rows=tuple(treatment_rows),
        clinical_history=edits.get("clinical_history", _paragraphs(case.clinical_summary)),
        justification=edits.get("justification", justification),
        criteria_met=criteria_met,
        therapy_intro=therapy_intro,
        therapies=therapies,
        dosing=edits.get("dosing", tuple(dosing)),
        dosing_refs=dosing_refs,
        dosing_unverified=dosing_unverified,
        closing=edits.get("closing", closing),
        signature=Signature(
            name=prescriber.name,
            credentials=prescriber.credentials,
            npi=prescriber.npi,
            specialty=_SPECIALTY_LABELS.get(prescriber.specialty, prescriber.specialty),
            practice_name=prescriber.practice_name,
            practice_address=prescriber.practice_address,
            phone=prescriber.phone,
            fax=prescriber.fax,
        ),
        enclosures=enclosures,
        references=references,
        has_unverified=has_unverified,
        draft_reasons=draft_reasons,
        definition_versions=tuple(sorted(assessment.definition_versions.items())),
        response_intro=(
            f"Objective measures before immune globulin and now, for {patient.full_name}:"
            if measures
            else ""
        ),
        response_rows=measures,
        dose_reduction=dose_reduction,
    )
