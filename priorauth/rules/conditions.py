"""Which of a definition's questions apply to one case (FHIR Questionnaire enableWhen).

A question whose conditions fail is not asked: it is not missing, readiness does
not count it, and criteria testing its fact behave as for a question not asked.
Conditions only hide what does not apply; they never decide a criterion.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from priorauth.domain.case import Case

from .schema import Condition, IndicationDefinition, Question


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
