"""The indication library: every issue-3 indication loads, is complete, and is honest.

Complete: codes, dosing, questions for every tested fact, citations that exist.
Honest: a code marked verified is one the reference notes verified, and a request
outside usual coverage is said plainly to be outside it.
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
from priorauth.rules.assessment import Status, Verdict
from priorauth.rules.library import Library
from priorauth.rules.schema import (
    AnyOfCriterion,
    CoverageStatus,
    CriterionBase,
    IndicationDefinition,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
FORMS_DIR = REPO_ROOT / "forms"
AS_OF = dt.date(2026, 11, 20)

# Issue 3's indications, by the id of their definition. Adult ITP and myasthenia
# gravis are split by clinical setting (see the comment at the top of each file).
ISSUE_3_STANDARD = (
    "secondary_hypogammaglobulinemia",
    "itp_adult_acute",
    "itp_adult_procedure",
    "itp_adult_pregnancy",
    "itp_adult_chronic",
    "itp_children",
    "fnait",
    "gbs",
    "mmn",
    "mg_exacerbation",
    "mg_preoperative",
    "mg_maintenance",
    "lems",
    "stiff_person_syndrome",
    "autoimmune_encephalitis",
    "dermatomyositis_polymyositis",
    "kawasaki",
    "pemphigus_pemphigoid",
    "pediatric_hiv",
    "measles_pep",
    "varicella_pep",
    "toxic_shock_syndrome",
)
ISSUE_3_OFF_POLICY = {
    "alzheimers_disease": CoverageStatus.NOT_COVERED,
    "multiple_sclerosis": CoverageStatus.NOT_COVERED,
    "autism": CoverageStatus.NOT_COVERED,
    "chronic_fatigue_syndrome": CoverageStatus.NOT_COVERED,
    "systemic_lupus_erythematosus": CoverageStatus.RARELY_COVERED,
    "rheumatoid_arthritis": CoverageStatus.RARELY_COVERED,
    "crohns_disease": CoverageStatus.RARELY_COVERED,
}
ISSUE_3 = (*ISSUE_3_STANDARD, *ISSUE_3_OFF_POLICY)

# Codes the reference notes (ivig-criteria.md §2, §1.4) record as verified.
NOTES_VERIFIED_CODES = {
    "G61.0", "G61.81", "G61.82", "G70.00", "G70.01", "G25.82", "P61.0",
    "G11.3", "D80.0", "D80.2", "D80.3", "D80.4", "D80.5", "D80.6", "D80.7",
    "D81.0", "D81.1", "D81.2", "D81.5", "D81.6", "D81.7", "D81.89", "D81.9",
    "D82.0", "D82.1", "D82.4", "D83.0", "D83.1", "D83.2", "D83.8", "D83.9",
}  # fmt: skip


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(FORMS_DIR)


def _walk(criteria: tuple[CriterionBase, ...]) -> Iterator[CriterionBase]:
    for criterion in criteria:
        yield criterion
        if isinstance(criterion, AnyOfCriterion):
            yield from _walk(criterion.criteria)


def test_every_issue_3_indication_is_present(library: Library) -> None:
    missing = [i for i in ISSUE_3 if i not in library.indications]
    assert not missing, f"issue-3 indications without a definition: {missing}"


@pytest.mark.parametrize("indication_id", ISSUE_3)
def test_definition_is_complete(library: Library, indication_id: str) -> None:
    definition = library.indications[indication_id]
    assert definition.codes, "no ICD-10-CM codes"
    assert all(code.description for code in definition.codes)
    assert definition.dosing, "no dosing limits"
    assert definition.citations, "no citations"
    assert definition.enclosures, "no enclosures"
    assert all(q.why.strip() for q in definition.questions), "a question does not say why"
    cited = {c.id for c in definition.citations}
    for criterion in _walk(definition.criteria):
        assert set(criterion.citations) <= cited, criterion.id
    for limit in definition.dosing:
        assert set(limit.citations) <= cited, limit.id
    # The loader does not check the authorization block's citations.
    assert set(definition.authorization.citations) <= cited


@pytest.mark.parametrize("indication_id", ISSUE_3_STANDARD)
def test_every_required_top_level_criterion_cites_a_source(
    library: Library, indication_id: str
) -> None:
    definition = library.indications[indication_id]
    uncited = [c.id for c in definition.criteria if c.required and not c.citations]
    assert not uncited, f"required criteria without a citation: {uncited}"


@pytest.mark.parametrize("indication_id", ISSUE_3)
def test_every_code_is_confirmed_by_the_code_set_and_says_its_source(
    library: Library, indication_id: str
) -> None:
    # Issue 14: a code the ICD-10-CM code set confirms is verified, whatever the
    # reference notes could not confirm; its note names the source.
    definition = library.indications[indication_id]
    unconfirmed = [c.code for c in definition.codes if not c.verified]
    assert not unconfirmed, f"codes the code set did not confirm: {unconfirmed}"
    unsourced = [
        c.code
        for c in definition.codes
        if "ICD-10-CM code set" not in c.note and c.code not in NOTES_VERIFIED_CODES
    ]
    assert not unsourced, f"codes whose note names no source: {unsourced}"


@pytest.mark.parametrize("indication_id", ISSUE_3)
def test_unverified_items_say_why(library: Library, indication_id: str) -> None:
    definition = library.indications[indication_id]
    for criterion in _walk(definition.criteria):
        if criterion.unverified:
            assert criterion.note, f"criterion {criterion.id} is unverified without a note"
    for limit in definition.dosing:
        if limit.unverified:
            assert limit.note, f"dosing {limit.id} is unverified without a note"
    if definition.authorization.unverified:
        assert definition.authorization.note


def _examples(indication_id: str) -> list[dict[str, Any]]:
    folder = FORMS_DIR / "indications" / indication_id / "examples"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


@pytest.mark.parametrize("indication_id", ISSUE_3)
def test_examples_qualify_once_and_fail_each_kind(library: Library, indication_id: str) -> None:
    """At least one example qualifies, and each kind of criterion used is seen failing."""
    examples = _examples(indication_id)
    verdicts = {e["expect"]["verdict"] for e in examples}
    assert verdicts & {"ready", "ready_with_warnings"}, "no example that qualifies"
    assert "not_ready" in verdicts, "no example that fails"
    definition: IndicationDefinition = library.indications[indication_id]
    kind_of = {c.id: c.kind for c in definition.criteria}
    failed_kinds = {
        kind_of[criterion_id]
        for e in examples
        for criterion_id, status in e["expect"].get("criteria", {}).items()
        if status in ("not_met", "missing") and criterion_id in kind_of
    }
    unexercised = set(kind_of.values()) - failed_kinds
    assert not unexercised, f"no example shows a {sorted(unexercised)} criterion failing"


def _exception_case(indication_id: str, code: str, answers: dict[str, bool]) -> Case:
    return Case.model_validate(
        {
            "patient": {
                "first_name": "Avery",
                "last_name": "Testpatient",
                "date_of_birth": "1970-05-05",
                "sex": "female",
            },
            "coverage": {
                "payer_name": "Example Health Plan",
                "plan_type": "commercial",
                "member_id": "EHP000123",
            },
            "prescriber": {
                "name": "Dana Example",
                "credentials": "MD",
                "npi": "1234567893",
                "specialty": "neurology",
            },
            "site_of_care": "infusion_center",
            "request_type": "initial",
            "indication_id": indication_id,
            "icd10_codes": [code],
            "measurements": {"weight": 70, "height": 165, "measured_on": "2026-11-01"},
            "answers": answers,
            "regimen": {
                "product_id": "privigen",
                "dose_g_per_kg": 1,
                "days_per_course": 2,
                "interval_weeks": 4,
                "months_requested": 3,
                "start_date": "2026-12-01",
            },
        },
        context={"today": AS_OF},
    )


@pytest.mark.parametrize("indication_id", sorted(ISSUE_3_OFF_POLICY))
def test_off_policy_assessment_says_standard_policy_does_not_cover_it(
    library: Library, indication_id: str
) -> None:
    definition = library.indications[indication_id]
    assert definition.coverage is ISSUE_3_OFF_POLICY[indication_id]
    needs = " ".join(definition.exception_needs).lower()
    for theme in ("standard therapies", "severity", "published evidence", "specialist"):
        assert theme in needs, f"exception_needs does not mention {theme!r}"

    everything_documented = {fact: True for fact in (q.fact for q in definition.questions)}
    case = _exception_case(indication_id, definition.codes[0].code, everything_documented)
    assessment = evaluate(case, library, AS_OF)

    assert all(result.status is Status.MET for result in assessment.criteria)
    # Even a complete exception request is never plainly "ready": the first thing
    # the assessment says is that standard policy does not cover it.
    assert assessment.verdict is Verdict.READY_WITH_WARNINGS
    assert assessment.verdict_reasons[0].startswith("Standard policy does not cover IVIG for")
    assert definition.name in assessment.verdict_reasons[0]
    assert "medical-exception request" in assessment.verdict_reasons[0]
    assert assessment.coverage is definition.coverage
    assert assessment.exception_needs == definition.exception_needs


def test_standard_indications_are_not_flagged_off_policy(library: Library) -> None:
    flagged = [
        i
        for i in ISSUE_3_STANDARD
        if library.indications[i].coverage is not CoverageStatus.STANDARD
    ]
    assert not flagged
