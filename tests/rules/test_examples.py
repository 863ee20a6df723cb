"""Run every indication's example cases through the engine and compare with their "expect".

Each file in forms/indications/<id>/examples/ wraps a case:

    {"description": ..., "as_of": "YYYY-MM-DD", "expect": {"verdict": ...,
     "criteria": {"criterion_id": "met" | "not_met" | "missing"}}, "case": {...}}

The glob picks up a new indication's examples without touching this file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from priorauth.domain.case import Case
from priorauth.rules import evaluate, load_library
from priorauth.rules.assessment import CriterionResult, Status, Verdict
from priorauth.rules.engine import case_problems
from priorauth.rules.library import Library

REPO_ROOT = Path(__file__).resolve().parents[2]
FORMS_DIR = REPO_ROOT / "forms"
EXAMPLE_FILES = sorted(FORMS_DIR.glob("indications/*/examples/*.json"))
DEFAULT_AS_OF = dt.date(2026, 11, 20)
STATUSES = {status.value for status in Status}
VERDICTS = {verdict.value for verdict in Verdict}


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(FORMS_DIR)


def _flatten(results: tuple[CriterionResult, ...]) -> Iterator[CriterionResult]:
    for result in results:
        yield result
        yield from _flatten(result.children)


def _load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: not a JSON object"
    assert set(data) <= {"description", "as_of", "expect", "case"}, f"{path}: unknown keys"
    assert data.get("description"), f"{path}: say what the example shows in 'description'"
    return data


def test_every_indication_has_examples() -> None:
    definitions = sorted(FORMS_DIR.glob("indications/*/definition.toml"))
    assert definitions, "no definitions found"
    without = [d.parent.name for d in definitions if not list(d.parent.glob("examples/*.json"))]
    assert not without, f"indications without example cases: {without}"


@pytest.mark.parametrize(
    "path", EXAMPLE_FILES, ids=[str(p.relative_to(REPO_ROOT)) for p in EXAMPLE_FILES]
)
def test_example(path: Path, library: Library) -> None:
    data = _load(path)
    expect = data.get("expect")
    assert isinstance(expect, dict) and expect.get("verdict") in VERDICTS, (
        f"{path}: expect.verdict must be one of {sorted(VERDICTS)}"
    )
    expected_criteria: dict[str, str] = expect.get("criteria", {})
    assert set(expected_criteria.values()) <= STATUSES, f"{path}: unknown status in expect"

    as_of = dt.date.fromisoformat(data["as_of"]) if data.get("as_of") else DEFAULT_AS_OF
    case = Case.model_validate(data["case"], context={"today": as_of})
    assert case.indication_id == path.parent.parent.name, "example sits under its indication"
    # An example tests the criteria, not bad input: it must fit its definition.
    assert case_problems(case, library) == []

    assessment = evaluate(case, library, as_of)

    by_id = {result.id: result for result in _flatten(assessment.criteria)}
    unknown = sorted(set(expected_criteria) - set(by_id))
    assert not unknown, f"expect names criteria the assessment does not have: {unknown}"
    actual = {cid: by_id[cid].status.value for cid in expected_criteria}
    assert actual == expected_criteria, [
        f"{cid}: {by_id[cid].reason}"
        for cid in expected_criteria
        if actual[cid] != expected_criteria[cid]
    ]
    assert assessment.verdict.value == expect["verdict"], assessment.verdict_reasons
