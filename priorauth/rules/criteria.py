"""Each criterion of an indication checked against one case: met, not met or missing.

One function per criterion ``kind`` (the ``_CHECKS`` table); an ``any_of`` combines
its alternatives. Every result carries the evidence it used, a plain reason and the
citations behind it. A payer's overrides are applied first, at any depth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from priorauth.domain.case import Case, LabResult, Score
from priorauth.domain.facts import FACTS, SPECIALTIES, THERAPY_CLASSES
from priorauth.domain.quantities import plain_number
from priorauth.domain.treatment_history import (
    FAILED_OUTCOMES,
    NEVER_TRIED_LABELS,
    NeverTriedReason,
    TherapyOutcome,
)

from .assessment import CriterionResult, Status
from .citations import cite
from .conditions import CaseFacts as _Facts
from .conditions import questions_applying
from .loader import apply_override
from .schema import (
    AnyOfCriterion,
    ChoiceCriterion,
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


def _result(
    criterion: CriterionBase,
    definition: IndicationDefinition,
    payer: PayerProfile,
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
        citations=cite(definition, criterion.citations, payer),
        unverified=criterion.unverified,
        note=criterion.note,
        payer_change=payer_change,
        children=children,
    )


def _lab(c: LabCriterion, facts: _Facts) -> tuple[Status, str, list[str]]:
    label = FACTS[c.fact].label
    unit = FACTS[c.fact].unit
    results: list[LabResult] = facts.get(c.fact) or []
    wanted = f"{label} {c.op.words} {plain_number(c.value)} {unit}"
    if c.occasions > 1:
        wanted += f" on {c.occasions} occasions"
        if c.min_days_apart:
            wanted += f" at least {c.min_days_apart} days apart"
    if not results:
        return Status.MISSING, f"No {label} result is recorded; the payer asks for {wanted}.", []
    evidence = [
        f"{label} {plain_number(r.value)} {unit} on {r.date.isoformat()}"
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
        []
        if value is None
        else [f"{fact.label}: {plain_number(Decimal(value))} {fact.unit}".rstrip()]
    )
    if c.op is Op.GE and c.value == 0:
        # ">= 0" is how a definition asks only that a measure be on record.
        if value is None:
            return Status.MISSING, f"{fact.label} is not on record.", evidence
        return Status.MET, f"{fact.label} is on record.", evidence
    wanted = f"{fact.label} {c.op.words} {plain_number(c.value)} {fact.unit}".rstrip()
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


# A class never given counts toward step therapy only when the reason is one a
# payer accepts in place of a trial: the therapy is contraindicated or not tolerated.
_NEVER_TRIED_COUNTS = frozenset({NeverTriedReason.CONTRAINDICATED, NeverTriedReason.NOT_TOLERATED})


def _step(c: StepTherapyCriterion, facts: _Facts) -> tuple[Status, str, list[str]]:
    wanted = " or ".join(CLASS_LABELS[k].lower() for k in c.classes)
    counted: list[str] = []
    evidence: list[str] = []
    short: list[str] = []
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
        if therapy.outcome not in FAILED_OUTCOMES:
            continue  # given, not failed (a course being renewed): no trial to count
        long_enough = (
            c.min_weeks is None
            or weeks >= c.min_weeks
            or therapy.outcome is not TherapyOutcome.INADEQUATE_RESPONSE
        )
        if long_enough:
            counted.append(therapy.agent)
        else:
            short.append(
                f"{therapy.agent} for {plain_number(weeks.quantize(Decimal('0.1')))} weeks"
            )
    declined: list[str] = []
    for item in facts.case.never_tried:
        if item.therapy_class not in c.classes:
            continue
        label = CLASS_LABELS[item.therapy_class]
        why = NEVER_TRIED_LABELS[item.reason].lower()
        evidence.append(f"{label}: never given ({why})" + (f"; {item.note}" if item.note else ""))
        if item.reason in _NEVER_TRIED_COUNTS:
            counted.append(label)
        else:
            declined.append(f"{label.lower()} was never tried ({why})")
    need = f"{c.min_count} prior {wanted}"
    if c.min_weeks:
        need += f" tried for at least {plain_number(c.min_weeks)} weeks"
    if len(counted) >= c.min_count:
        return (
            Status.MET,
            f"{need}: failed, not tolerated or contraindicated, as documented.",
            evidence,
        )
    if not evidence:
        return (
            Status.MISSING,
            f"No prior {wanted} is recorded; the payer asks for {need} that "
            "failed, was not tolerated or is contraindicated. If none was ever given, "
            "record it as never tried, with the reason.",
            evidence,
        )
    why_not = []
    if short:
        why_not.append("the trial recorded is too short (" + "; ".join(short) + ")")
    if declined:
        why_not.append("; ".join(declined))
    if len(counted) and len(counted) < c.min_count:
        why_not.append(f"{len(counted)} of the {c.min_count} needed is documented")
    return (
        Status.NOT_MET,
        f"The payer asks for {need}; " + "; ".join(why_not or ["none of them counts"]) + ".",
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
        f"{FACTS[c.baseline].label}: {plain_number(baseline.value)} {fact.unit}",
        f"{fact.label}: {plain_number(current.value)} {fact.unit}",
    ]
    if change >= c.min_change:
        return (
            Status.MET,
            f"Improved by {plain_number(change)} {fact.unit} "
            f"(at least {plain_number(c.min_change)} needed).",
            evidence,
        )
    return (
        Status.NOT_MET,
        f"Improved by {plain_number(change)} {fact.unit}; the payer looks for at "
        f"least {plain_number(c.min_change)}.",
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
        # An alternative whose question a condition (enable_when) turned off is not asked for.
        children = tuple(
            child.model_copy(
                update={
                    "status": Status.NOT_NEEDED,
                    "reason": "Not asked: the question does not apply to this case.",
                }
            )
            if child.status is Status.MISSING and facts.disabled_in(alternative)
            else child
            for child, alternative in zip(children, criterion.criteria, strict=True)
        )
        met = sum(child.status is Status.MET for child in children)
        # An alternative whose question this request does not ask cannot change the result.
        open_ = sum(
            child.status is Status.MISSING and facts.answerable(alternative)
            for child, alternative in zip(children, criterion.criteria, strict=True)
        )
        if met >= criterion.min_met:
            status, reason = (
                Status.MET,
                "Documented: "
                + "; ".join(child.title for child in children if child.status is Status.MET)
                + ".",
            )
            # The group is satisfied: its unanswered alternatives are not to be asked for.
            children = tuple(
                child.model_copy(
                    update={
                        "status": Status.NOT_NEEDED,
                        "reason": "Not needed: another alternative of the group is met.",
                    }
                )
                if child.status is Status.MISSING
                else child
                for child in children
            )
        elif met + open_ < criterion.min_met:
            # Even if every open answer came in met, too few alternatives would be.
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
        return _result(
            criterion, definition, facts.payer, status, reason, evidence, payer_change, children
        )
    status, reason, evidence = _CHECKS[type(criterion)](criterion, facts)  # type: ignore[operator]
    return _result(criterion, definition, facts.payer, status, reason, evidence, payer_change)


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


def unverified_met(result: CriterionResult) -> list[str]:
    """Titles of unverified rules a met result rests on.

    An any_of met through at least one verified alternative rests on that one;
    only when every met alternative is unverified does the doubt carry up.
    """
    found = [result.title] if result.unverified else []
    met_children = [child for child in result.children if child.status is Status.MET]
    doubts = [unverified_met(child) for child in met_children]
    if doubts and all(doubts):
        found.extend(title for doubt in doubts for title in doubt)
    return found


def evaluate_criteria(
    case: Case, definition: IndicationDefinition, payer: PayerProfile, as_of: dt.date
) -> tuple[CriterionResult, ...]:
    """Every criterion that applies to the case's request type, under the payer's overrides."""
    # A question whose enable_when fails is not asked (conditions.py).
    asked = frozenset(q.fact for q in questions_applying(definition, case))
    disabled = frozenset(q.fact for q in definition.questions_for(case.request_type)) - asked
    facts = _Facts(case, as_of, asked, payer, disabled)
    criteria, payer_notes = _payer_criteria(definition, payer)
    return tuple(
        _evaluate_criterion(criterion, definition, facts, payer_notes)
        for criterion in criteria
        if case.request_type in criterion.applies_to
    )
