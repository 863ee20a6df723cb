"""Questions that apply, and only those: enable_when conditions in the definitions."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from priorauth.domain.case import Case
from priorauth.rules import evaluate, load_library
from priorauth.rules.assessment import CriterionResult, Status
from priorauth.rules.conditions import enabled, questions_applying
from priorauth.rules.library import Library
from priorauth.rules.schema import Condition, Question

REPO_ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(REPO_ROOT / "forms")


def _pid(**changes: Any) -> Case:
    data = json.loads((REPO_ROOT / "examples" / "pid-initial-qualifies.json").read_text())
    case = copy.deepcopy(data["case"])
    case.update(changes)
    return Case.model_validate(case)


def _find(results: tuple[CriterionResult, ...], wanted: str) -> CriterionResult:
    for result in results:
        if result.id == wanted:
            return result
        try:
            return _find(result.children, wanted)
        except LookupError:
            continue
    raise LookupError(wanted)


def test_genetic_question_is_asked_only_for_codes_that_need_it(library: Library) -> None:
    definition = library.indications["pid"]
    cvid = {q.fact for q in questions_applying(definition, _pid(icd10_codes=["D83.9"]))}
    xla = {q.fact for q in questions_applying(definition, _pid(icd10_codes=["D80.0"]))}
    assert "genetic_diagnosis_confirmed" not in cvid
    assert "genetic_diagnosis_confirmed" in xla
    assert cvid | {"genetic_diagnosis_confirmed"} == xla


def test_a_stale_answer_to_a_question_not_asked_is_dropped(library: Library) -> None:
    answers = dict(_pid().answers)
    answers["igg_mg_dl"] = [
        {"value": 900, "date": "2026-08-03"},
        {"value": 880, "date": "2026-09-14"},
    ]
    answers["genetic_diagnosis_confirmed"] = True
    cvid = evaluate(_pid(icd10_codes=["D83.9"], answers=answers), library, AS_OF)
    xla = evaluate(_pid(icd10_codes=["D80.0"], answers=answers), library, AS_OF)
    # For a CVID code the genetic answer left from another code does not decide low_igg.
    assert _find(cvid.criteria, "low_igg").status is Status.NOT_MET
    assert _find(xla.criteria, "low_igg").status is Status.MET


def test_a_question_not_asked_is_not_missing(library: Library) -> None:
    answers = {k: v for k, v in _pid().answers.items() if k != "genetic_diagnosis_confirmed"}
    answers.pop("igg_mg_dl")
    assessment = evaluate(_pid(icd10_codes=["D83.9"], answers=answers), library, AS_OF)
    genetic = _find(assessment.criteria, "genetic_diagnosis")
    assert genetic.status is Status.NOT_NEEDED
    assert "Not asked" in genetic.reason


def _question(**condition: Any) -> Question:
    return Question.model_validate(
        {"fact": "genetic_diagnosis_confirmed", "why": "test", "enable_when": [condition]}
    )


@pytest.mark.parametrize(
    ("condition", "case_changes", "expected"),
    [
        ({"fact": "sex", "operator": "=", "value": "female"}, {}, True),
        ({"fact": "sex", "operator": "!=", "value": "female"}, {}, False),
        ({"fact": "age_years", "operator": ">=", "value": 12}, {}, True),
        ({"fact": "age_years", "operator": "<=", "value": 12}, {}, False),
        ({"fact": "request_type", "operator": "in", "value": ["initial"]}, {}, True),
        ({"fact": "igg_mg_dl", "operator": "exists"}, {}, True),
        ({"fact": "icd10_codes", "operator": "!=", "value": "D83.9"}, {}, False),
    ],
)
def test_conditions_on_case_facts_and_answers(
    condition: dict[str, Any], case_changes: dict[str, Any], expected: bool
) -> None:
    assert enabled(_question(**condition), _pid(**case_changes)) is expected


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"fact": "shoe_size", "operator": "exists"}, "unknown fact 'shoe_size'"),
        ({"fact": "sex", "operator": "=", "value": "unknown"}, "not a possible value"),
        ({"fact": "request_type", "operator": "=", "value": "renewal"}, "not a possible value"),
        ({"fact": "sex", "operator": "in", "value": "female"}, "takes a list"),
        ({"fact": "sex", "operator": "exists", "value": "female"}, "takes no value"),
        ({"fact": "icd10_codes", "operator": "in", "value": ["XYZ"]}, "not ICD-10-CM"),
    ],
)
def test_impossible_conditions_are_refused(condition: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Condition.model_validate(condition)
