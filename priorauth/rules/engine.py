"""Evaluate a case against an indication's criteria under a payer's profile.

``evaluate`` is pure: the same case, definitions and date always give the same
assessment. Every criterion comes back met, not met, or information missing,
with the evidence it used, a plain reason, and the citations behind it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from priorauth.domain.case import (
    Case,
    LabResult,
    RequestType,
    Score,
    SiteOfCare,
    TherapyOutcome,
)
from priorauth.domain.catalog import Product
from priorauth.domain.dosing import Dose, MissingDosingInput, course_dose, dosing_weight
from priorauth.domain.facts import FACTS, SPECIALTIES, THERAPY_CLASSES

from .loader import Library, apply_override
from .schema import (
    AnyOfCriterion,
    ChoiceCriterion,
    CoverageStatus,
    CriterionBase,
    FlagCriterion,
    ImprovementCriterion,
    IndicationDefinition,
    LabCriterion,
    NumberCriterion,
    Op,
    PayerProfile,
    SpecialtyCriterion,
    StepTherapyCriterion,
)

SPECIALTY_LABELS = dict(SPECIALTIES)
CLASS_LABELS = dict(THERAPY_CLASSES)


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    MISSING = "missing"


class Verdict(StrEnum):
    READY = "ready"
    READY_WITH_WARNINGS = "ready_with_warnings"
    NOT_READY = "not_ready"


STATUS_LABELS = {
    Status.MET: "Met",
    Status.NOT_MET: "Not met",
    Status.MISSING: "Information missing",
}
VERDICT_LABELS = {
    Verdict.READY: "Ready to submit",
    Verdict.READY_WITH_WARNINGS: "Ready to submit, with warnings",
    Verdict.NOT_READY: "Not ready",
}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class CitationRef(Frozen):
    id: str
    text: str
    date: str
    url: str = ""
    unverified: bool = False


class CriterionResult(Frozen):
    id: str
    title: str
    why: str
    status: Status
    required: bool
    reason: str
    evidence: tuple[str, ...] = ()
    citations: tuple[CitationRef, ...] = ()
    unverified: bool = False
    payer_change: str = ""
    children: tuple[CriterionResult, ...] = ()


class Problem(Frozen):
    """Something in the case that cannot be right for this indication; names its field."""

    field: str
    message: str


class DoseFinding(Frozen):
    blocking: bool
    message: str


class DoseCheck(Frozen):
    dose: Dose | None
    limit_label: str = ""
    limit_text: str = ""
    weight_policy: str = ""
    findings: tuple[DoseFinding, ...] = ()
    unverified: bool = False


class Assessment(Frozen):
    indication_id: str
    indication_name: str
    payer_id: str
    payer_name: str
    request_type: RequestType
    as_of: dt.date
    coverage: CoverageStatus
    verdict: Verdict
    verdict_reasons: tuple[str, ...]
    criteria: tuple[CriterionResult, ...]
    problems: tuple[Problem, ...]
    dose: DoseCheck
    authorization_months: int | None
    authorization_note: str
    authorization_unverified: bool
    exception_needs: tuple[str, ...] = ()
    definition_versions: Mapping[str, str] = {}

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]


def _fmt(value: Decimal) -> str:
    """Plain number for evidence text: no trailing zeros, no exponent."""
    text = format(value.normalize(), "f")
    return text


def _cite(definition: IndicationDefinition, ids: tuple[str, ...]) -> tuple[CitationRef, ...]:
    refs = []
    for citation_id in ids:
        c = definition.citation(citation_id)
        refs.append(
            CitationRef(id=c.id, text=c.text, date=c.date, url=c.url, unverified=c.unverified)
        )
    return tuple(refs)


class _Facts:
    """Answers and derived facts of one case, as the criteria read them."""

    def __init__(self, case: Case, as_of: dt.date) -> None:
        self.case = case
        self.as_of = as_of

    def get(self, name: str) -> Any:
        if name == "age_years":
            return Decimal(self.case.patient.age_years(self.case.regimen.start_date))
        if name == "prescriber_specialty":
            return self.case.prescriber.specialty
        if name == "weeks_since_onset":
            onset = self.case.answer("symptom_onset_date")
            if onset is None:
                return None
            days = (self.case.regimen.start_date - onset).days
            return (Decimal(days) / 7).quantize(Decimal("0.1"))
        if name in ("days_since_onset", "days_since_exposure"):
            # Kawasaki counts from fever onset; post-exposure prophylaxis from the exposure.
            start = self.case.answer(
                "symptom_onset_date" if name == "days_since_onset" else "exposure_date"
            )
            if start is None:
                return None
            return Decimal((self.case.regimen.start_date - start).days)
        return self.case.answer(name)


def _result(
    criterion: CriterionBase,
    definition: IndicationDefinition,
    status: Status,
    reason: str,
    evidence: list[str] | tuple[str, ...] = (),
    payer_change: str = "",
    children: tuple[CriterionResult, ...] = (),
) -> CriterionResult:
    return CriterionResult(
        id=criterion.id,
        title=criterion.title,
        why=criterion.why,
        status=status,
        required=criterion.required,
        reason=reason,
        evidence=tuple(evidence),
        citations=_cite(definition, criterion.citations),
        unverified=criterion.unverified,
        payer_change=payer_change,
        children=children,
    )


def _lab(c: LabCriterion, facts: _Facts) -> tuple[Status, str, list[str]]:
    label = FACTS[c.fact].label
    unit = FACTS[c.fact].unit
    results: list[LabResult] = facts.get(c.fact) or []
    wanted = f"{label} {c.op.words} {_fmt(c.value)} {unit}"
    if c.occasions > 1:
        wanted += f" on {c.occasions} occasions"
        if c.min_days_apart:
            wanted += f" at least {c.min_days_apart} days apart"
    if not results:
        return Status.MISSING, f"No {label} result is recorded; the payer asks for {wanted}.", []
    evidence = [
        f"{label} {_fmt(r.value)} {unit} on {r.date.isoformat()}"
        for r in sorted(results, key=lambda r: r.date)
    ]
    recent = results
    if c.within_days:
        cutoff = facts.as_of - dt.timedelta(days=c.within_days)
        recent = [r for r in results if r.date >= cutoff]
        if not recent:
            return (
                Status.MISSING,
                f"Every {label} result is older than {c.within_days} days; "
                "the payer wants a recent one.",
                evidence,
            )
    qualifying = sorted((r for r in recent if c.op.holds(r.value, c.value)), key=lambda r: r.date)
    chosen: list[LabResult] = []
    for result in qualifying:
        if not chosen or (result.date - chosen[-1].date).days >= c.min_days_apart:
            chosen.append(result)
    if len(chosen) >= c.occasions:
        return Status.MET, f"{wanted}: documented.", evidence
    if len(recent) < c.occasions:
        return (
            Status.MISSING,
            f"The payer asks for {wanted}; {len(recent)} result(s) recorded. "
            "Add the other result if there is one.",
            evidence,
        )
    if qualifying and c.occasions > 1:
        return (
            Status.NOT_MET,
            f"The payer asks for {wanted}; the qualifying results are not "
            f"{c.min_days_apart} days apart or too few.",
            evidence,
        )
    return Status.NOT_MET, f"The payer asks for {wanted}; the results do not show it.", evidence


def _number(c: NumberCriterion, facts: _Facts) -> tuple[Status, str, list[str]]:
    fact = FACTS[c.fact]
    raw = facts.get(c.fact)
    value = raw.value if isinstance(raw, Score) else raw
    evidence = (
        [] if value is None else [f"{fact.label}: {_fmt(Decimal(value))} {fact.unit}".rstrip()]
    )
    if c.op is Op.GE and c.value == 0:
        # ">= 0" is how a definition asks only that a measure be on record.
        if value is None:
            return Status.MISSING, f"{fact.label} is not on record.", evidence
        return Status.MET, f"{fact.label} is on record.", evidence
    wanted = f"{fact.label} {c.op.words} {_fmt(c.value)} {fact.unit}".rstrip()
    if value is None:
        return Status.MISSING, f"{fact.label} is not recorded; the payer asks for {wanted}.", []
    if c.op.holds(Decimal(value), c.value):
        return Status.MET, f"{wanted}: documented.", evidence
    return Status.NOT_MET, f"The payer asks for {wanted}.", evidence


def _flag(c: FlagCriterion, facts: _Facts) -> tuple[Status, str, list[str]]:
    label = FACTS[c.fact].label
    value = facts.get(c.fact)
    if value is None:
        return Status.MISSING, f"Not answered: {label.lower()}.", []
    evidence = [f"{label}: {'yes' if value else 'no'}"]
    if value is c.expected:
        return Status.MET, f"{label}: documented.", evidence
    return (
        Status.NOT_MET,
        f"The payer asks for: {label.lower()} ({'yes' if c.expected else 'no'}).",
        evidence,
    )


def _choice(c: ChoiceCriterion, facts: _Facts) -> tuple[Status, str, list[str]]:
    fact = FACTS[c.fact]
    labels = dict(fact.choices)
    value = facts.get(c.fact)
    accepted = " or ".join(labels[a].lower() for a in c.accepted)
    if value is None or value in ("not_tested", "not_assessed"):
        shown = [f"{fact.label}: {labels[value]}"] if value else []
        return Status.MISSING, f"{fact.label}: the payer asks for {accepted}.", shown
    evidence = [f"{fact.label}: {labels[value]}"]
    if value in c.accepted:
        return Status.MET, f"{fact.label}: {labels[value].lower()}.", evidence
    return Status.NOT_MET, f"{fact.label}: the payer asks for {accepted}.", evidence


def _specialty(c: SpecialtyCriterion, facts: _Facts) -> tuple[Status, str, list[str]]:
    specialty = facts.case.prescriber.specialty
    evidence = [
        f"Prescriber: {facts.case.prescriber.name}, {facts.case.prescriber.credentials}, "
        f"{SPECIALTY_LABELS.get(specialty, specialty)}"
    ]
    wanted = " or ".join(SPECIALTY_LABELS[s].lower() for s in c.specialties)
    if specialty in c.specialties:
        return Status.MET, f"Prescribed by a specialist in {wanted}.", evidence
    return (
        Status.NOT_MET,
        f"The payer asks for a prescriber or consultant in {wanted}; "
        "attach the specialist's consultation note if there is one.",
        evidence,
    )


def _step(c: StepTherapyCriterion, facts: _Facts) -> tuple[Status, str, list[str]]:
    wanted = " or ".join(CLASS_LABELS[k].lower() for k in c.classes)
    counted, evidence = [], []
    for therapy in facts.case.prior_therapies:
        if therapy.therapy_class not in c.classes:
            continue
        weeks = therapy.duration_weeks(facts.as_of)
        line = (
            f"{therapy.agent} ({CLASS_LABELS[therapy.therapy_class].lower()}), "
            f"{therapy.start.isoformat()} to "
            f"{therapy.end.isoformat() if therapy.end else 'ongoing'}: "
            f"{therapy.outcome.value.replace('_', ' ')}"
        )
        evidence.append(line)
        long_enough = (
            c.min_weeks is None
            or weeks >= c.min_weeks
            or therapy.outcome is not TherapyOutcome.INADEQUATE_RESPONSE
        )
        if long_enough:
            counted.append(therapy)
    need = f"{c.min_count} prior {wanted}"
    if c.min_weeks:
        need += f" tried for at least {_fmt(c.min_weeks)} weeks"
    if len(counted) >= c.min_count:
        return (
            Status.MET,
            f"{need}: failed, not tolerated or contraindicated, as documented.",
            evidence,
        )
    if evidence:
        return (
            Status.NOT_MET,
            f"The payer asks for {need}; the trial recorded is too short.",
            evidence,
        )
    return (
        Status.MISSING,
        f"No prior {wanted} is recorded; the payer asks for {need} that "
        "failed, was not tolerated or is contraindicated.",
        evidence,
    )


def _improvement(c: ImprovementCriterion, facts: _Facts) -> tuple[Status, str, list[str]]:
    fact = FACTS[c.current]
    baseline, current = facts.get(c.baseline), facts.get(c.current)
    if baseline is None or current is None:
        return (
            Status.MISSING,
            f"{fact.label.replace(' now', '')}: both the baseline and the "
            "current value are needed to show a response.",
            [],
        )
    change = current.value - baseline.value
    if fact.higher_is_better is False:
        change = -change
    evidence = [
        f"{FACTS[c.baseline].label}: {_fmt(baseline.value)} {fact.unit}",
        f"{fact.label}: {_fmt(current.value)} {fact.unit}",
    ]
    if change >= c.min_change:
        return (
            Status.MET,
            f"Improved by {_fmt(change)} {fact.unit} (at least {_fmt(c.min_change)} needed).",
            evidence,
        )
    return (
        Status.NOT_MET,
        f"Improved by {_fmt(change)} {fact.unit}; the payer looks for at "
        f"least {_fmt(c.min_change)}.",
        evidence,
    )


_CHECKS = {
    LabCriterion: _lab,
    NumberCriterion: _number,
    FlagCriterion: _flag,
    ChoiceCriterion: _choice,
    SpecialtyCriterion: _specialty,
    StepTherapyCriterion: _step,
    ImprovementCriterion: _improvement,
}


def _evaluate_criterion(
    criterion: CriterionBase,
    definition: IndicationDefinition,
    facts: _Facts,
    payer_changes: Mapping[str, str],
) -> CriterionResult:
    payer_change = payer_changes.get(criterion.id, "")
    if isinstance(criterion, AnyOfCriterion):
        children = tuple(
            _evaluate_criterion(child, definition, facts, payer_changes)
            for child in criterion.criteria
        )
        met = sum(child.status is Status.MET for child in children)
        if met >= criterion.min_met:
            status, reason = (
                Status.MET,
                "Documented: "
                + "; ".join(child.title for child in children if child.status is Status.MET)
                + ".",
            )
        elif met + sum(child.status is Status.MISSING for child in children) < criterion.min_met:
            # Even if every missing answer came in met, too few alternatives would be.
            status = Status.NOT_MET
            reason = (
                "None of the accepted alternatives is documented."
                if met == 0
                else f"{met} of the {criterion.min_met} alternatives needed is documented."
            )
        else:
            status = Status.MISSING
            reason = (
                f"At least {criterion.min_met} of these is needed: "
                + "; ".join(child.title for child in children)
                + "."
            )
        evidence = [line for child in children for line in child.evidence]
        return _result(criterion, definition, status, reason, evidence, payer_change, children)
    status, reason, evidence = _CHECKS[type(criterion)](criterion, facts)  # type: ignore[operator]
    return _result(criterion, definition, status, reason, evidence, payer_change)


def _payer_criteria(
    definition: IndicationDefinition, payer: PayerProfile
) -> tuple[list[CriterionBase], dict[str, str]]:
    """Apply the payer's overrides at any depth; return the criteria and a note per change."""
    overrides = {o.criterion: o for o in payer.overrides if o.indication == definition.id}
    notes: dict[str, str] = {}

    def changed(criterion: CriterionBase) -> CriterionBase:
        if isinstance(criterion, AnyOfCriterion):
            criterion = criterion.model_copy(
                update={"criteria": tuple(changed(child) for child in criterion.criteria)}
            )
        override = overrides.get(criterion.id)
        if override is None:
            return criterion
        what = ", ".join(f"{key} = {value}" for key, value in override.set.items())
        mark = " (unverified)" if override.unverified else ""
        notes[criterion.id] = (
            f"{payer.name}: {what} ({override.source}, as of {override.as_of}){mark}"
        )
        return apply_override(criterion, override.set)

    return [changed(criterion) for criterion in definition.criteria], notes


def case_problems(case: Case, library: Library) -> list[Problem]:
    """Checks that need the definitions: codes, product, payer, unasked answers, dosing input."""
    problems: list[Problem] = []
    definition = library.indications.get(case.indication_id)
    if definition is None:
        return [
            Problem(
                field="indication_id",
                message=f"unknown indication {case.indication_id!r}; "
                f"known: {', '.join(sorted(library.indications))}",
            )
        ]
    for index, code in enumerate(case.icd10_codes):
        if definition.code(code) is None:
            known = ", ".join(c.code for c in definition.codes[:8])
            problems.append(
                Problem(
                    field=f"icd10_codes.{index}",
                    message=f"{code} is not a code for {definition.name}; expected one of {known}"
                    + ("…" if len(definition.codes) > 8 else ""),
                )
            )
    if case.regimen.product_id not in library.products:
        problems.append(
            Problem(
                field="regimen.product_id", message=f"unknown product {case.regimen.product_id!r}"
            )
        )
    payer = library.payers.get(case.coverage.payer_profile)
    if payer is None:
        problems.append(
            Problem(
                field="coverage.payer_profile",
                message=f"unknown payer profile {case.coverage.payer_profile!r}",
            )
        )
        payer = library.payers["reference"]
    asked = {q.fact for q in definition.questions_for(case.request_type)}
    for name in case.answers:
        if name not in asked:
            problems.append(
                Problem(
                    field=f"answers.{name}", message=f"{definition.name} does not ask for {name}"
                )
            )
    if case.regimen.phase and definition.dosing_for(case.request_type, case.regimen.phase) is None:
        problems.append(
            Problem(
                field="regimen.phase",
                message=f"{definition.name} has no dosing phase {case.regimen.phase!r}",
            )
        )
    try:
        dosing_weight(case.measurements, case.patient.sex, payer.dosing_weight)
    except MissingDosingInput as error:
        problems.append(Problem(field=error.field, message=str(error)))
    return problems


def _check_dose(
    case: Case, definition: IndicationDefinition, payer: PayerProfile, product: Product | None
) -> DoseCheck:
    policy = payer.dosing_weight
    limit = definition.dosing_for(case.request_type, case.regimen.phase)
    try:
        weight = dosing_weight(case.measurements, case.patient.sex, policy)
    except MissingDosingInput as error:
        return DoseCheck(
            dose=None,
            weight_policy=policy.describe(),
            findings=(DoseFinding(blocking=True, message=str(error)),),
        )
    dose = course_dose(weight, case.regimen, policy.rounding_step_g)
    findings: list[DoseFinding] = []
    if limit is None:
        return DoseCheck(
            dose=dose,
            weight_policy=policy.describe(),
            findings=(
                DoseFinding(blocking=True, message="No dosing limits apply to this request type."),
            ),
        )
    regimen = case.regimen
    if not limit.g_per_kg_per_course.contains(regimen.dose_g_per_kg):
        above = (
            limit.g_per_kg_per_course.max is not None
            and regimen.dose_g_per_kg > limit.g_per_kg_per_course.max
        )
        findings.append(
            DoseFinding(
                blocking=above,
                message=f"{_fmt(regimen.dose_g_per_kg)} g/kg per course is "
                f"{'above' if above else 'below'} the {limit.label.lower()} range of "
                f"{limit.g_per_kg_per_course.describe('g/kg')}"
                + ("; this needs a medical-exception request." if above else "."),
            )
        )
    if not limit.days_per_course.contains(Decimal(regimen.days_per_course)):
        findings.append(
            DoseFinding(
                blocking=False,
                message=f"{regimen.days_per_course} infusion days per course; the "
                f"usual range is {limit.days_per_course.describe('days')}.",
            )
        )
    if not limit.interval_weeks.contains(regimen.interval_weeks):
        shorter = (
            limit.interval_weeks.min is not None
            and regimen.interval_weeks < limit.interval_weeks.min
        )
        findings.append(
            DoseFinding(
                blocking=shorter,
                message=f"Every {_fmt(regimen.interval_weeks)} weeks is outside "
                f"the interval of {limit.interval_weeks.describe('weeks')}"
                + ("; more frequent dosing needs a medical-exception request." if shorter else "."),
            )
        )
    caps = [(limit.max_g_per_kg_per_day, f"{definition.short_name or definition.name} dosing")]
    if product is not None and product.max_g_per_kg_per_day is not None:
        caps.append((product.max_g_per_kg_per_day, f"the {product.name} label"))
    for (cap, where), from_policy in zip(caps, (True, False), strict=False):
        if cap is not None and dose.g_per_kg_per_day > cap:
            findings.append(
                DoseFinding(
                    # The indication's limit is the payer's rule; a label's largest
                    # daily dose is a warning the letter must justify (Kawasaki
                    # disease is given as 2 g/kg in one infusion, off-label).
                    blocking=from_policy,
                    message=f"{_fmt(dose.g_per_kg_per_day)} g/kg per day exceeds "
                    f"{_fmt(cap)} g/kg per day ({where}); "
                    + (
                        "spread the course over more days."
                        if from_policy
                        else "the letter must justify the higher daily dose."
                    ),
                )
            )
    text = f"{limit.g_per_kg_per_course.describe('g/kg')} per course"
    if not limit.days_per_course.is_open():
        text += f" over {limit.days_per_course.describe('days')}"
    if not limit.interval_weeks.is_open():
        text += f", every {limit.interval_weeks.describe('weeks')}"
    return DoseCheck(
        dose=dose,
        limit_label=limit.label,
        limit_text=text,
        weight_policy=policy.describe(),
        findings=tuple(findings),
        unverified=limit.unverified or payer.dosing_weight_unverified,
    )


def _unverified_met(result: CriterionResult) -> list[str]:
    """Titles of unverified rules a met result rests on.

    An any_of met through at least one verified alternative rests on that one;
    only when every met alternative is unverified does the doubt carry up.
    """
    found = [result.title] if result.unverified else []
    met_children = [child for child in result.children if child.status is Status.MET]
    doubts = [_unverified_met(child) for child in met_children]
    if doubts and all(doubts):
        found.extend(title for doubt in doubts for title in doubt)
    return found


def _authorization(
    definition: IndicationDefinition, payer: PayerProfile, request_type: RequestType
) -> tuple[int | None, str, bool]:
    """The period to request: the indication's, capped by the payer's when it sets one.

    A payer's period (eviCore's 180 days) is a ceiling on approvals, not a reason
    to ask six months for a single Guillain-Barré course.
    """
    periods = definition.authorization
    initial = request_type is RequestType.INITIAL
    own = periods.initial_months if initial else periods.continuation_months
    cap = payer.authorization_initial_months if initial else payer.authorization_continuation_months
    if cap is None or (own is not None and own <= cap):
        return own, periods.note, periods.unverified
    note = f"{payer.name} limits approvals to {cap} months: {payer.authorization_source}"
    return cap, note, payer.authorization_unverified


def evaluate(case: Case, library: Library, as_of: dt.date) -> Assessment:
    """Assess a case against its indication under its payer profile, as of a date."""
    definition = library.indications.get(case.indication_id)
    if definition is None:
        raise ValueError(f"unknown indication {case.indication_id!r}")
    payer = library.payers.get(case.coverage.payer_profile, library.payers["reference"])
    product = library.products.get(case.regimen.product_id)
    facts = _Facts(case, as_of)
    problems = case_problems(case, library)

    criteria, payer_notes = _payer_criteria(definition, payer)
    results = [
        _evaluate_criterion(criterion, definition, facts, payer_notes)
        for criterion in criteria
        if case.request_type in criterion.applies_to
    ]
    dose = _check_dose(case, definition, payer, product)

    blocking: list[str] = [p.message for p in problems]
    warnings: list[str] = []
    for result in results:
        if result.status is Status.MET:
            shaky = _unverified_met(result)
            if shaky:
                warnings.append(
                    f"{result.title}: met, but the rule behind it is unverified "
                    f"({'; '.join(shaky)}); check it against the payer's current policy."
                )
            continue
        what = "not met" if result.status is Status.NOT_MET else "information missing"
        (blocking if result.required else warnings).append(f"{result.title}: {what}.")
    for finding in dose.findings:
        (blocking if finding.blocking else warnings).append(finding.message)
    if product is not None and product.id in payer.excluded_products:
        blocking.append(
            f"{payer.name} does not cover {product.name}; choose another product or "
            "request an exception."
        )
    elif (
        payer.preferred_products
        and product is not None
        and product.id not in payer.preferred_products
    ):
        warnings.append(f"{product.name} is not a preferred product for {payer.name}.")
    if (
        case.site_of_care is SiteOfCare.HOME
        and payer.home_infusion_codes
        and not set(case.icd10_codes) & set(payer.home_infusion_codes)
    ):
        blocking.append(
            f"{payer.name} pays for immune globulin at home only for the diagnoses on its "
            f"home-infusion list ({payer.home_infusion_source or 'see the payer profile'}); "
            "none of this case's codes is on it. Choose another site of care."
        )
    if definition.coverage is not CoverageStatus.STANDARD:
        warnings.insert(
            0,
            f"Standard policy does not cover IVIG for {definition.name}: this "
            "request is a medical-exception request.",
        )

    if blocking:
        verdict = Verdict.NOT_READY
    elif warnings:
        verdict = Verdict.READY_WITH_WARNINGS
    else:
        verdict = Verdict.READY

    months, note, unverified = _authorization(definition, payer, case.request_type)

    return Assessment(
        indication_id=definition.id,
        indication_name=definition.name,
        payer_id=payer.id,
        payer_name=payer.name,
        request_type=case.request_type,
        as_of=as_of,
        coverage=definition.coverage,
        verdict=verdict,
        verdict_reasons=tuple(blocking + warnings),
        criteria=tuple(results),
        problems=tuple(problems),
        dose=dose,
        authorization_months=months,
        authorization_note=note,
        authorization_unverified=unverified,
        exception_needs=definition.exception_needs,
        definition_versions=library.versions_for(definition.id, payer.id),
    )
