"""The patient information sheet: what the treatment is, in plain words, for the patient.

Built like the other documents: a frozen context of plain values, rendered by
``templates/documents/patient_sheet.html``. Every fact on it comes from the case
(what the doctor ordered), the assessment and cost estimate (what the rules
worked out), or the reference notes with their source. Anything unverified is
left out: an infusion time from an unconfirmed rate ladder, a period no source
gives, a price from the illustrative demo table. Short sentences and common
words keep it readable (the tests hold it to a reading grade; see README).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from priorauth.domain.case import Case, PlanType, SiteOfCare
from priorauth.domain.catalog import Route
from priorauth.domain.costs import CostSummary
from priorauth.domain.quantities import plain_number
from priorauth.rules.assessment import Assessment, Verdict
from priorauth.rules.codesets import icd10cm_entry
from priorauth.rules.estimate import CostSummaryUnavailable, estimate_costs
from priorauth.rules.library import Library
from priorauth.rules.schema import CoverageStatus

from .cost_rows import format_money
from .output import Rendered, document_record, render_document
from .wording import format_date, plural

PATIENT_SHEET_TEMPLATE = "documents/patient_sheet.html"
PDF_TITLE = "About your treatment"

# Where each fact comes from, named as the patient can look it up. The project's
# notes hold them: ivig-products-billing.md §1.2 (label), ivig-criteria.md §1.5 and
# anchor-systems.md (tests payers ask for), ivig-products-billing.md §6 (rates),
# ivig-criteria.md [S15] (Immune Deficiency Foundation).
SOURCE_BOXED_WARNING = (
    "Warning on IVIG labels about blood clots (thrombosis) and kidney problems: "
    "Privigen label on DailyMed, updated April 4, 2022"
)
SOURCE_TESTS = (
    "Health plans' immune globulin criteria, e.g. Medical Mutual (Gamunex-C): kidney blood "
    "tests (BUN and creatinine) within 30 days before treatment"
)
SOURCE_INFUSION = "Infusion time worked out from the rate steps in the product's label"
SOURCE_MEDICARE_PI = (
    'Immune Deficiency Foundation: "Understanding the benefits of Medicare Part B coverage for PI '
    'diagnoses" (Aug 6, 2019) and "Medicare Home IVIG Benefit: FAQs" (Jan 19, 2023)'
)
SITE_WORDS = {
    SiteOfCare.HOSPITAL_OUTPATIENT: "at a hospital infusion clinic",
    SiteOfCare.INFUSION_CENTER: "at an infusion center",
    SiteOfCare.PHYSICIAN_OFFICE: "at your doctor's office",
    SiteOfCare.HOME: "at home, with a nurse",
    SiteOfCare.INPATIENT: "in the hospital, during your stay",
}


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]
    bullets: tuple[str, ...] = ()
    sources: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class PatientSheetContext:
    title: str
    pdf_title: str
    running_head: str
    prepared_on: str
    patient_name: str
    sections: tuple[Section, ...]
    sources: tuple[str, ...]
    contact: str

    def plain_text(self) -> str:
        """The words a patient reads (for the reading-level check)."""
        parts = [self.title]
        for section in self.sections:
            parts += [section.heading, *section.paragraphs, *section.bullets]
        return "\n".join(parts)


class _Sources:
    def __init__(self) -> None:
        self.items: list[str] = []

    def cite(self, text: str) -> int:
        if text not in self.items:
            self.items.append(text)
        return self.items.index(text) + 1


def _condition(case: Case, library: Library) -> str:
    definition = library.indications[case.indication_id]
    if definition.any_code and case.icd10_codes:
        entry = icd10cm_entry(case.icd10_codes[0])
        if entry is not None:
            return entry.description.lower()
    return definition.short_name or definition.name


def _what(case: Case, library: Library, route: Route) -> Section:
    product = library.products[case.regimen.product_id]
    how = (
        "through a thin tube into a vein. This is called IVIG"
        if route is Route.IV
        else "with a small needle under the skin. This is called SCIG"
    )
    maker = "" if product.is_unverified("manufacturer") else f", made by {product.manufacturer}"
    return Section(
        "What is this medicine?",
        (
            f"Immune globulin is a medicine. You get it {how}.",
            f"Your doctor chose {product.name}{maker}.",
            "Your doctor asked your health plan to pay for it to treat: "
            f"{_condition(case, library)}.",
        ),
    )


def _plan(case: Case, assessment: Assessment, summary: CostSummary | None) -> Section:
    regimen = case.regimen
    dose = assessment.dose.dose
    lines = []
    if dose is not None:
        days = plural(dose.days_per_course, "day")
        lines.append(f"You get {plain_number(dose.per_course_g)} grams over {days}.")
    if regimen.interval_weeks is None:
        lines.append("This is given one time. It is not repeated.")
    else:
        lines.append(f"This is repeated every {plural(regimen.interval_weeks, 'week')}.")
    if regimen.courses_requested is not None:
        lines.append(f"The request asks for {plural(regimen.courses_requested, 'round')}.")
    elif regimen.months_requested is not None:
        lines.append(f"The request asks for {plural(regimen.months_requested, 'month')}.")
    lines.append(f"The first day is planned for {format_date(regimen.start_date)}.")
    lines.append(f"Where: {SITE_WORDS[case.site_of_care]}.")
    return Section("Your treatment plan", tuple(lines))


def _time(summary: CostSummary | None, sources: _Sources) -> Section | None:
    if summary is None or not summary.days:
        return None
    plan = summary.days[0].infusion
    minutes = plan.total_minutes_rounded
    # An unconfirmed rate ladder gives an unconfirmed time: the nurse says instead.
    if minutes is None or plan.unverified or plan.schedule_is_default:
        return Section(
            "How long does it take?",
            ("Ask your nurse how long each visit will take.",),
        )
    hours, rest = divmod(minutes, 60)
    took = (
        f"{plural(hours, 'hour')} and {plural(rest, 'minute')}" if hours else plural(rest, "minute")
    )
    return Section(
        "How long does it take?",
        (
            f"The drip takes about {took} each day.",
            "Plan for more time to get ready before and to be checked after.",
        ),
        sources=(sources.cite(SOURCE_INFUSION),),
    )


def _before(case: Case, sources: _Sources) -> Section:
    lines = []
    if case.regimen.premedication:
        premedication = case.regimen.premedication
        lines.append(f"Your doctor wants you to take this before each infusion: {premedication}.")
    lines.append("You will need blood tests first. One checks how well your kidneys work.")
    lines.append("Your plan asks for recent results.")
    return Section("Before treatment", tuple(lines), sources=(sources.cite(SOURCE_TESTS),))


def _safety(case: Case, sources: _Sources) -> Section:
    phone = case.prescriber.phone
    call = f"call your care team at {phone}" if phone else "call your care team"
    return Section(
        "Side effects: when to get help",
        (
            "All IVIG medicines carry a warning about blood clots and kidney problems.",
            f"If you feel unwell during or after an infusion, tell the nurse or {call}.",
            "In an emergency, call 911.",
        ),
        sources=(sources.cite(SOURCE_BOXED_WARNING),),
    )


def _cost(case: Case, summary: CostSummary | None) -> Section:
    ask = "Ask the billing office for help."
    if summary is None:
        return Section("What you may pay", ("We cannot estimate your share yet.", ask))
    reason = ""
    if summary.patient_plan is None:
        reason = "Your plan's deductible and coinsurance are not on file yet."
    elif summary.price_table is None:
        reason = "There are no prices on file."
    elif summary.illustrative:
        reason = "The prices on file are samples, not real prices."
    elif summary.missing_prices or summary.inpatient:
        reason = "Some parts of the treatment have no price on file."
    if reason:
        return Section("What you may pay", (f"We cannot estimate your share yet. {reason}", ask))
    shares = [s.patient_pays for s in summary.infusion_shares]
    year = summary.per_year.out_of_pocket
    lines = [f"First infusion day: about {format_money(shares[0])}."]
    if len(shares) > 1:
        low, high = min(shares[1:]), max(shares[1:])
        later = format_money(low) if low == high else f"{format_money(low)} to {format_money(high)}"
        lines.append(f"Each later day: about {later}.")
    if year is not None:
        lines.append(f"For all of the request: about {format_money(year.patient_pays)}.")
    plan_source = summary.patient_plan.source if summary.patient_plan else ""
    table_name = summary.price_table.name if summary.price_table else ""
    lines.append(
        f"This is an estimate. It uses your {plan_source} and the prices in {table_name}. "
        "The real bill may differ."
    )
    return Section("What you may pay", tuple(lines))


def _next(case: Case, assessment: Assessment, library: Library) -> Section:
    definition = library.indications[case.indication_id]
    payer = case.coverage.payer_name
    lines = []
    if definition.coverage is not CoverageStatus.STANDARD:
        lines.append(
            f"{payer} does not usually pay for this use. Your doctor is asking for an exception."
        )
    if assessment.verdict is Verdict.NOT_READY:
        lines.append("Your doctor's office is still getting what the plan asks for.")
    else:
        lines.append(f"Your doctor's office is sending the request to {payer}.")
    lines.append("The plan will send its answer to your doctor. The office will call you.")
    months = assessment.authorization_months
    if months is not None and not assessment.authorization_unverified:
        lines.append(f"If the plan says yes, the approval lasts up to {plural(months, 'month')}.")
    return Section("Approval: what happens next", tuple(lines))


def _help(case: Case, sources: _Sources) -> Section:
    lines = ["Ask the billing office about help with costs."]
    cited: tuple[int, ...] = ()
    if case.coverage.plan_type is PlanType.MEDICARE and case.indication_id == "pid":
        lines.append(
            "The Immune Deficiency Foundation explains how Medicare Part B pays for immune "
            "globulin, including at home."
        )
        cited = (sources.cite(SOURCE_MEDICARE_PI),)
    return Section("Help with costs", tuple(lines), sources=cited)


def patient_sheet_context(
    case: Case, assessment: Assessment, library: Library, *, prepared_on: dt.date
) -> PatientSheetContext:
    """Write the sheet for one assessed case."""
    sources = _Sources()
    summary: CostSummary | None
    route = library.products[case.regimen.product_id].route
    try:
        estimate = estimate_costs(case, assessment, library, prepared_on=prepared_on)
        summary, route = estimate.summary, estimate.route
    except CostSummaryUnavailable:
        summary = None
    sections = [
        _what(case, library, route),
        _plan(case, assessment, summary),
        _time(summary, sources),
        _before(case, sources),
        _safety(case, sources),
        _cost(case, summary),
        _next(case, assessment, library),
        _help(case, sources),
    ]
    prescriber = case.prescriber
    contact = prescriber.practice_name or f"{prescriber.name}, {prescriber.credentials}"
    if prescriber.phone:
        contact += f" · {prescriber.phone}"
    return PatientSheetContext(
        title="About your treatment",
        pdf_title=PDF_TITLE,
        running_head=f"About your treatment · {case.patient.full_name}",
        prepared_on=format_date(prepared_on),
        patient_name=case.patient.full_name,
        sections=tuple(s for s in sections if s is not None),
        sources=tuple(sources.items),
        contact=contact,
    )


def render_patient_sheet(
    case: Case, assessment: Assessment, library: Library, *, prepared_on: dt.date
) -> Rendered[PatientSheetContext]:
    context = patient_sheet_context(case, assessment, library, prepared_on=prepared_on)
    record = document_record("patient_sheet", case, assessment, document_date=prepared_on)
    return render_document(PATIENT_SHEET_TEMPLATE, context, record, title=context.pdf_title)
