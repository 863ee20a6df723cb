"""Which of a definition's questions apply to one case (FHIR Questionnaire enableWhen).

A question whose conditions fail is not asked: it is not missing, readiness does
not count it, and criteria testing its fact behave as for a question not asked.
Conditions only hide what does not apply; they never decide a criterion.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from priorauth.domain.case import Case
from priorauth.domain.facts import ANSWERABLE_KINDS, FACTS

from .schema import (
    AnyOfCriterion,
    Condition,
    CriterionBase,
    IndicationDefinition,
    PayerProfile,
    Question,
)


def _case_fact(case: Case, name: str) -> Any:
    if name == "sex":
        return case.patient.sex.value
    if name == "age_years":
        return Decimal(case.patient.age_years(case.regimen.start_date))
    if name == "icd10_codes":
        return tuple(case.icd10_codes)
    if name == "request_type":
        return case.request_type.value
    return case.answer(name)


def _holds(condition: Condition, case: Case) -> bool:
    actual = _case_fact(case, condition.fact)
    if condition.operator == "exists":
        return actual not in (None, "", ())
    if actual is None:
        return False
    wanted = condition.value
    if condition.fact == "icd10_codes":
        codes = set(wanted) if isinstance(wanted, tuple) else {wanted}
        hit = bool(codes & set(actual))
        return not hit if condition.operator == "!=" else hit
    if condition.operator == "in":
        return isinstance(wanted, tuple) and actual in wanted
    if condition.operator in (">=", "<="):
        if isinstance(wanted, (int, float)) and not isinstance(wanted, bool):
            number = Decimal(str(wanted))
            return actual >= number if condition.operator == ">=" else actual <= number
        return False
    same = bool(actual == wanted)
    return same if condition.operator == "=" else not same


def enabled(question: Question, case: Case) -> bool:
    """Whether the question is asked for this case."""
    if not question.enable_when:
        return True
    results = (_holds(condition, case) for condition in question.enable_when)
    return all(results) if question.enable_behavior == "all" else any(results)


def questions_applying(definition: IndicationDefinition, case: Case) -> list[Question]:
    """The questions of the case's request type whose conditions hold."""
    return [q for q in definition.questions_for(case.request_type) if enabled(q, case)]


class CaseFacts:
    """Answers and derived facts of one case, as the criteria read them."""

    def __init__(
        self,
        case: Case,
        as_of: dt.date,
        asked: frozenset[str],
        payer: PayerProfile,
        disabled: frozenset[str] = frozenset(),
    ) -> None:
        self.case = case
        self.as_of = as_of
        self.asked = asked
        # Questions of this request type whose enable_when fails for this case.
        self.disabled = disabled
        # The payer the results' citations are chosen for (citations.py).
        self.payer = payer

    def disabled_in(self, criterion: CriterionBase) -> bool:
        """Whether the criterion tests a question whose condition turned it off."""
        names = [getattr(criterion, key, None) for key in ("fact", "baseline", "current")]
        return any(name in self.disabled for name in names if name)

    def answerable(self, criterion: CriterionBase) -> bool:
        """Whether this request asks the question(s) the criterion tests."""
        if isinstance(criterion, AnyOfCriterion):
            return any(self.answerable(child) for child in criterion.criteria)
        names = [getattr(criterion, key, None) for key in ("fact", "baseline", "current")]
        tested = [name for name in names if name and FACTS[name].kind in ANSWERABLE_KINDS]
        return all(name in self.asked for name in tested)

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
        fact = FACTS.get(name)
        if fact is not None and fact.kind in ANSWERABLE_KINDS and name not in self.asked:
            # A stale answer to a question not asked (its enable_when failed) is dropped.
            return None
        return self.case.answer(name)
