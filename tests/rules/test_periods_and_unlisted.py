"""Authorization periods for every indication, and a condition outside the library (issue 14)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from priorauth.domain.case import Case
from priorauth.rules import DefinitionError, evaluate, load_library
from priorauth.rules.engine import case_problems
from priorauth.rules.schema import CoverageStatus
from priorauth.web.intake.building import matching_indications

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
UNLISTED = FORMS_DIR / "indications" / "unlisted_condition"
LIBRARY = load_library()


def unlisted_case(**changes: Any) -> Case:
    data = json.loads((UNLISTED / "examples" / "exception-with-rationale.json").read_text())
    data["case"].update(changes)
    return Case.model_validate(data["case"])


@pytest.mark.parametrize("indication_id", sorted(LIBRARY.indications))
def test_every_indication_has_periods_from_a_source_or_says_why_not(indication_id: str) -> None:
    periods = LIBRARY.indications[indication_id].authorization
    has_period = periods.initial_months is not None or periods.continuation_months is not None
    if periods.unverified:
        assert periods.note.strip(), "an unverified period needs its reason"
    else:
        assert has_period and periods.citations, "a verified period needs its source"


def test_a_definition_without_periods_or_reason_is_refused(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    shutil.copytree(FORMS_DIR, forms)
    path = forms / "indications" / "kawasaki" / "definition.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("[authorization]")
    end = text.index("[[enclosures]]", start)
    path.write_text(text[:start] + '[authorization]\nnote = "x"\n\n' + text[end:], encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_library(forms)
    assert any(
        "indication kawasaki → authorization: give the periods from a source" in p
        for p in caught.value.problems
    )


def test_a_condition_outside_the_library_is_an_exception_request() -> None:
    definition = LIBRARY.indications["unlisted_condition"]
    assert definition.any_code and definition.coverage is CoverageStatus.NOT_COVERED
    case = unlisted_case()
    assert case_problems(case, LIBRARY) == []
    assessment = evaluate(case, LIBRARY, case.regimen.start_date)
    assert assessment.verdict.value != "ready"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("D89.99", "not in the ICD-10-CM code set"), ("D89.8", "not a billable")],
)
def test_its_code_is_checked_against_the_code_set(code: str, expected: str) -> None:
    problems = case_problems(unlisted_case(icd10_codes=[code]), LIBRARY)
    assert [p.field for p in problems] == ["icd10_codes.0"]
    assert expected in problems[0].message


def test_it_needs_the_physicians_rationale() -> None:
    problems = case_problems(unlisted_case(clinical_summary=""), LIBRARY)
    assert [p.field for p in problems] == ["clinical_summary"]
    assert "rationale" in problems[0].message


@pytest.mark.parametrize("query", ["PANDAS", "COVID-19", "cidp", ""])
def test_a_search_always_offers_the_exception_request(query: str) -> None:
    found = [d.id for d in matching_indications(LIBRARY, query)]
    assert "unlisted_condition" in found
    if query == "cidp":
        assert found[0] == "cidp"
