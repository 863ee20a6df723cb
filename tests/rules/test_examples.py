"""Run every indication's example cases through the engine and compare with their "expect".

Each file in forms/indications/<id>/examples/ wraps a case:

    {"description": ..., "as_of": "YYYY-MM-DD", "expect": {"verdict": ...,
     "criteria": {"criterion_id": "met" | "not_met" | "missing"}}, "case": {...}}

An example may also pin what the engine finds beyond the criteria:

- "dose": attributes of the Dose (grams as strings or numbers: "per_course_g",
  "prescribed_g", "day_doses_g", "interval_weeks" (null for one course),
  "rounded", "per_week_g"; "loading.per_course_g" for the loading course);
- "dose_check": attributes of the DoseCheck ("route", "billing_units", "limit_label");
- "sc": attributes of the subcutaneous findings ("weekly_g", "conversion_weekly_g",
  "minutes", "quantity_limit_exceeded"; "sites.sites" for a site plan's field);
- "flags": the ids of every safety flag raised, as a set;
- "problems": the field of every problem in the case (an example that shows a
  refused input, such as an SC product for an IV induction); without it, none.

The glob picks up a new indication's examples without touching this file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
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
    # An example fits its definition, unless it shows a refused input by its field.
    problems = [problem.field for problem in case_problems(case, library)]
    assert problems == expect.get("problems", []), case_problems(case, library)

    assessment = evaluate(case, library, as_of)
    _check_attributes(path, "dose", assessment.dose.dose, expect.get("dose", {}))
    _check_attributes(path, "dose_check", assessment.dose, expect.get("dose_check", {}))
    _check_attributes(path, "sc", assessment.dose.sc, expect.get("sc", {}))
    if "flags" in expect:
        raised = sorted(flag.id for flag in assessment.safety.flags)
        assert raised == sorted(expect["flags"]), [f.title for f in assessment.safety.flags]

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


def _same(actual: Any, expected: Any) -> bool:
    """Equal, with numbers compared as Decimals (so "9.3" matches 9.30) and lists item by item."""
    if isinstance(expected, list):
        return (
            isinstance(actual, (list, tuple))
            and len(actual) == len(expected)
            and all(_same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, bool) or expected is None:
        return actual is expected or actual == expected
    if isinstance(expected, (int, float, str)) and isinstance(actual, (Decimal, int)):
        return Decimal(str(expected)) == Decimal(actual)
    return bool(actual == expected)


def _check_attributes(path: Path, what: str, found: Any, expected: dict[str, Any]) -> None:
    """Each "a.b" of the mapping names an attribute of what was found; its value must match."""
    if not expected:
        return
    assert found is not None, f"{path}: expect.{what} given, but the engine found none"
    for dotted, value in expected.items():
        actual = found
        for name in dotted.split("."):
            assert hasattr(actual, name), f"{path}: expect.{what}.{dotted}: no attribute {name}"
            actual = getattr(actual, name)
        assert _same(actual, value), f"{what}.{dotted}: {actual!r}, expected {value!r}"
