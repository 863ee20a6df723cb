"""Each criterion kind comes back met, not met or information missing, as the case warrants.

The definition here is synthetic: one criterion per kind, built in the test so
that a change to the shipped definitions does not change what is tested.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from priorauth.domain.case import Case
from priorauth.rules import evaluate, load_library
from priorauth.rules.assessment import CriterionResult, Status, Verdict
from priorauth.rules.library import Library
from priorauth.rules.schema import IndicationDefinition

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
AS_OF = dt.date(2026, 11, 20)
MET, NOT_MET, MISSING = Status.MET, Status.NOT_MET, Status.MISSING


def _question(fact: str) -> dict[str, str]:
    return {"fact": fact, "why": "test"}


DEFINITION: dict[str, Any] = {
    "schema_version": 1,
    "id": "kinds",
    "name": "Every criterion kind",
    "category": "test",
    "version": "2026-11-20",
    "effective_date": "2026-11-20",
    "codes": [{"code": "G61.81", "description": "test code"}],
    "questions": [
        _question(fact)
        for fact in (
            "igg_mg_dl",
            "igg_trough_mg_dl",
            "symptom_duration_months",
            "symptom_onset_date",
            "demyelination_on_electrodiagnostics",
            "conduction_block",
            "disease_course",
            "pneumococcal_vaccine_response",
            "incat_score_baseline",
            "incat_score_current",
            "mrc_sum_score_baseline",
            "mrc_sum_score_current",
        )
    ],
    "criteria": [
        {
            "id": "igg_low_twice",
            "kind": "lab",
            "title": "IgG below 500 twice, 22 days apart",
            "fact": "igg_mg_dl",
            "op": "<",
            "value": 500,
            "occasions": 2,
            "min_days_apart": 22,
        },
        {
            "id": "trough_recent",
            "kind": "lab",
            "title": "Trough within a year",
            "fact": "igg_trough_mg_dl",
            "op": ">=",
            "value": 0,
            "within_days": 365,
        },
        {
            "id": "duration",
            "kind": "number",
            "title": "At least 2 months",
            "fact": "symptom_duration_months",
            "op": ">=",
            "value": 2,
        },
        {
            "id": "incat_at_least_2",
            "kind": "number",
            "title": "Baseline INCAT at least 2",
            "fact": "incat_score_baseline",
            "op": ">=",
            "value": 2,
        },
        {
            "id": "onset_8_weeks",
            "kind": "number",
            "title": "At least 8 weeks from onset",
            "fact": "weeks_since_onset",
            "op": ">=",
            "value": 8,
        },
        {
            "id": "adult",
            "kind": "number",
            "title": "Adult",
            "fact": "age_years",
            "op": ">=",
            "value": 18,
        },
        {
            "id": "demyelination",
            "kind": "flag",
            "title": "Demyelination",
            "fact": "demyelination_on_electrodiagnostics",
        },
        {
            "id": "no_conduction_block",
            "kind": "flag",
            "title": "No conduction block",
            "fact": "conduction_block",
            "expected": False,
        },
        {
            "id": "course",
            "kind": "choice",
            "title": "Progressive or relapsing",
            "fact": "disease_course",
            "accepted": ["progressive", "relapsing"],
        },
        {
            "id": "vaccine",
            "kind": "choice",
            "title": "Impaired vaccine response",
            "fact": "pneumococcal_vaccine_response",
            "accepted": ["impaired"],
        },
        {
            "id": "neurologist",
            "kind": "specialty",
            "title": "Neurologist",
            "specialties": ["neurology", "neuromuscular"],
        },
        {
            "id": "steroid_tried",
            "kind": "step_therapy",
            "title": "A steroid or immunosuppressant for 8 weeks",
            "classes": ["corticosteroid", "immunosuppressant"],
            "min_weeks": 8,
        },
        {
            "id": "incat_improved",
            "kind": "improvement",
            "title": "INCAT improved by 1",
            "baseline": "incat_score_baseline",
            "current": "incat_score_current",
            "min_change": 1,
        },
        {
            "id": "mrc_improved",
            "kind": "improvement",
            "title": "MRC improved by 2",
            "baseline": "mrc_sum_score_baseline",
            "current": "mrc_sum_score_current",
            "min_change": 2,
        },
        {
            "id": "either",
            "kind": "any_of",
            "title": "Demyelination or a progressive course",
            "criteria": [
                {
                    "id": "either_demyelination",
                    "kind": "flag",
                    "title": "Demyelination",
                    "fact": "demyelination_on_electrodiagnostics",
                },
                {
                    "id": "either_course",
                    "kind": "choice",
                    "title": "Progressive",
                    "fact": "disease_course",
                    "accepted": ["progressive"],
                },
            ],
        },
        {
            "id": "both",
            "kind": "any_of",
            "title": "Demyelination and a progressive course",
            "min_met": 2,
            "criteria": [
                {
                    "id": "both_demyelination",
                    "kind": "flag",
                    "title": "Demyelination",
                    "fact": "demyelination_on_electrodiagnostics",
                },
                {
                    "id": "both_course",
                    "kind": "choice",
                    "title": "Progressive",
                    "fact": "disease_course",
                    "accepted": ["progressive"],
                },
            ],
        },
    ],
    "dosing": [{"id": "any", "label": "Any", "g_per_kg_per_course": {"min": 0.1, "max": 3}}],
}

BASE_CASE: dict[str, Any] = {
    "patient": {
        "first_name": "Avery",
        "last_name": "Testpatient",
        "date_of_birth": "1968-04-12",
        "sex": "male",
    },
    "coverage": {"payer_name": "Example Health Plan", "plan_type": "commercial", "member_id": "E1"},
    "prescriber": {
        "name": "Dana Example",
        "credentials": "MD",
        "npi": "1234567893",
        "specialty": "neurology",
    },
    "site_of_care": "infusion_center",
    "request_type": "initial",
    "indication_id": "kinds",
    "icd10_codes": ["G61.81"],
    "measurements": {"weight": 70, "height": 175, "measured_on": "2026-11-02"},
    "answers": {},
    "prior_therapies": [],
    "regimen": {
        "product_id": "privigen",
        "dose_g_per_kg": 2,
        "days_per_course": 5,
        "interval_weeks": 4,
        "courses_requested": 1,
        "start_date": "2026-12-01",
    },
}


@pytest.fixture(scope="module")
def library() -> Library:
    shipped = load_library(FORMS_DIR)
    definition = IndicationDefinition.model_validate(DEFINITION)
    return Library(
        root=shipped.root,
        indications={"kinds": definition},
        payers=shipped.payers,
        products=shipped.products,
        catalog_as_of=shipped.catalog_as_of,
    )


def assess(library: Library, as_of: dt.date = AS_OF, **changes: Any) -> dict[str, CriterionResult]:
    data = copy.deepcopy(BASE_CASE)
    data.update(changes)
    case = Case.model_validate(data, context={"today": as_of})
    found: dict[str, CriterionResult] = {}

    def walk(results: tuple[CriterionResult, ...]) -> None:
        for result in results:
            found[result.id] = result
            walk(result.children)

    walk(evaluate(case, library, as_of).criteria)
    return found


def status(library: Library, criterion_id: str, **changes: Any) -> Status:
    return assess(library, **changes)[criterion_id].status


def labs(*pairs: tuple[int, str]) -> list[dict[str, Any]]:
    return [{"value": value, "date": date} for value, date in pairs]


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([], MISSING),
        ([(380, "2026-08-03")], MISSING),
        ([(380, "2026-08-03"), (410, "2026-09-14")], MET),
        ([(720, "2026-08-03"), (690, "2026-09-14")], NOT_MET),
        ([(380, "2026-09-04"), (410, "2026-09-14")], NOT_MET),  # only 10 days apart
        ([(380, "2026-08-03"), (720, "2026-09-14")], NOT_MET),  # one low, one normal
        ([(380, "2026-08-03"), (720, "2026-08-20"), (410, "2026-09-14")], MET),
        ([(499, "2026-08-03"), (500, "2026-09-14")], NOT_MET),  # "below 500" is strict
    ],
)
def test_lab_on_several_occasions(
    library: Library, results: list[tuple[int, str]], expected: Status
) -> None:
    answers = {"igg_mg_dl": labs(*results)} if results else {}
    outcome = assess(library, answers=answers)["igg_low_twice"]
    assert outcome.status is expected, outcome.reason
    assert len(outcome.evidence) == len(results)


@pytest.mark.parametrize(
    ("date", "as_of", "expected"),
    [
        ("2026-10-01", AS_OF, MET),
        ("2025-09-01", AS_OF, MISSING),  # older than 365 days
        ("2025-11-21", AS_OF, MET),  # 364 days
        ("2025-11-21", dt.date(2026, 11, 23), MISSING),  # the window moves with as_of
    ],
)
def test_lab_within_a_window(library: Library, date: str, as_of: dt.date, expected: Status) -> None:
    answers = {"igg_trough_mg_dl": labs((700, date))}
    assert assess(library, as_of, answers=answers)["trough_recent"].status is expected


@pytest.mark.parametrize(
    ("months", "expected"), [(2, MET), (6, MET), (1, NOT_MET), (None, MISSING)]
)
def test_number(library: Library, months: int | None, expected: Status) -> None:
    answers = {} if months is None else {"symptom_duration_months": months}
    assert status(library, "duration", answers=answers) is expected


@pytest.mark.parametrize(("score", "expected"), [(3, MET), (1, NOT_MET), (None, MISSING)])
def test_number_reads_a_score_value(library: Library, score: int | None, expected: Status) -> None:
    answers = {} if score is None else {"incat_score_baseline": {"value": score}}
    assert status(library, "incat_at_least_2", answers=answers) is expected


@pytest.mark.parametrize(
    ("onset", "expected"),
    [("2026-09-01", MET), ("2026-11-01", NOT_MET), (None, MISSING)],  # start is 2026-12-01
)
def test_number_on_weeks_since_onset(library: Library, onset: str | None, expected: Status) -> None:
    answers = {} if onset is None else {"symptom_onset_date": onset}
    assert status(library, "onset_8_weeks", answers=answers) is expected


@pytest.mark.parametrize(
    ("born", "expected"),
    [("1968-04-12", MET), ("2008-12-01", MET), ("2008-12-02", NOT_MET)],  # age at the start date
)
def test_number_on_age(library: Library, born: str, expected: Status) -> None:
    patient = {**BASE_CASE["patient"], "date_of_birth": born}
    assert status(library, "adult", patient=patient) is expected


@pytest.mark.parametrize(("answer", "expected"), [(True, MET), (False, NOT_MET), (None, MISSING)])
def test_flag(library: Library, answer: bool | None, expected: Status) -> None:
    answers = {} if answer is None else {"demyelination_on_electrodiagnostics": answer}
    assert status(library, "demyelination", answers=answers) is expected


@pytest.mark.parametrize(("answer", "expected"), [(False, MET), (True, NOT_MET), (None, MISSING)])
def test_flag_expecting_no(library: Library, answer: bool | None, expected: Status) -> None:
    answers = {} if answer is None else {"conduction_block": answer}
    assert status(library, "no_conduction_block", answers=answers) is expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("progressive", MET), ("relapsing", MET), ("monophasic", NOT_MET), (None, MISSING)],
)
def test_choice(library: Library, answer: str | None, expected: Status) -> None:
    answers = {} if answer is None else {"disease_course": answer}
    assert status(library, "course", answers=answers) is expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("impaired", MET), ("adequate", NOT_MET), ("not_tested", MISSING), (None, MISSING)],
)
def test_choice_not_tested_counts_as_missing(
    library: Library, answer: str | None, expected: Status
) -> None:
    answers = {} if answer is None else {"pneumococcal_vaccine_response": answer}
    assert status(library, "vaccine", answers=answers) is expected


@pytest.mark.parametrize(
    ("specialty", "expected"),
    [("neurology", MET), ("neuromuscular", MET), ("family_medicine", NOT_MET)],
)
def test_specialty(library: Library, specialty: str, expected: Status) -> None:
    prescriber = {**BASE_CASE["prescriber"], "specialty": specialty}
    outcome = assess(library, prescriber=prescriber)["neurologist"]
    assert outcome.status is expected
    assert "Dana Example" in outcome.evidence[0]


def therapy(
    start: str, end: str | None, outcome: str = "inadequate_response", cls: str = "corticosteroid"
) -> dict[str, Any]:
    return {"agent": "Agent", "therapy_class": cls, "start": start, "end": end, "outcome": outcome}


@pytest.mark.parametrize(
    ("therapies", "expected"),
    [
        ([], MISSING),
        ([therapy("2026-06-01", "2026-08-24")], MET),  # 12 weeks
        ([therapy("2026-06-01", "2026-06-29")], NOT_MET),  # 4 weeks: too short
        ([therapy("2026-06-01", "2026-06-15", "intolerance")], MET),  # stopped for a reason
        ([therapy("2026-06-01", "2026-06-15", "contraindicated")], MET),
        ([therapy("2026-06-01", "2026-09-01", cls="plasma_exchange")], MISSING),  # other class
        ([therapy("2026-09-01", None)], MET),  # ongoing: 11.4 weeks by as_of
        ([therapy("2026-10-15", None)], NOT_MET),  # ongoing: 5.1 weeks by as_of
        ([therapy("2026-06-01", "2026-06-29", cls="immunosuppressant")], NOT_MET),
    ],
)
def test_step_therapy(library: Library, therapies: list[dict[str, Any]], expected: Status) -> None:
    outcome = assess(library, prior_therapies=therapies)["steroid_tried"]
    assert outcome.status is expected, outcome.reason


def scores(baseline: int | None, current: int | None, name: str) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    if baseline is not None:
        answers[f"{name}_baseline"] = {"value": baseline, "date": "2026-05-01"}
    if current is not None:
        answers[f"{name}_current"] = {"value": current, "date": "2026-11-01"}
    return answers


@pytest.mark.parametrize(
    ("baseline", "current", "expected"),
    [
        (4, 3, MET),  # INCAT: lower is better
        (4, 1, MET),
        (4, 4, NOT_MET),
        (4, 5, NOT_MET),
        (4, None, MISSING),
        (None, 3, MISSING),
    ],
)
def test_improvement_where_lower_is_better(
    library: Library, baseline: int | None, current: int | None, expected: Status
) -> None:
    answers = scores(baseline, current, "incat_score")
    assert status(library, "incat_improved", answers=answers) is expected


@pytest.mark.parametrize(
    ("baseline", "current", "expected"),
    [(40, 42, MET), (40, 41, NOT_MET), (40, 38, NOT_MET), (None, None, MISSING)],
)
def test_improvement_where_higher_is_better(
    library: Library, baseline: int | None, current: int | None, expected: Status
) -> None:
    answers = scores(baseline, current, "mrc_sum_score")
    assert status(library, "mrc_improved", answers=answers) is expected


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"demyelination_on_electrodiagnostics": True}, MET),
        ({"disease_course": "progressive"}, MET),
        ({"demyelination_on_electrodiagnostics": False, "disease_course": "relapsing"}, NOT_MET),
        ({"demyelination_on_electrodiagnostics": False}, MISSING),
        ({}, MISSING),
    ],
)
def test_any_of(library: Library, answers: dict[str, Any], expected: Status) -> None:
    outcome = assess(library, answers=answers)["either"]
    assert outcome.status is expected
    assert [child.id for child in outcome.children] == ["either_demyelination", "either_course"]


def test_any_of_with_min_met_counts_met_children(library: Library) -> None:
    both = {"demyelination_on_electrodiagnostics": True, "disease_course": "progressive"}
    assert status(library, "both", answers=both) is MET
    one = {"demyelination_on_electrodiagnostics": True}
    assert status(library, "both", answers=one) is MISSING


def test_any_of_that_can_no_longer_reach_min_met_is_not_met(library: Library) -> None:
    answers = {"demyelination_on_electrodiagnostics": True, "disease_course": "monophasic"}
    assert status(library, "both", answers=answers) is NOT_MET


def test_every_result_carries_a_reason(library: Library) -> None:
    for result in assess(library).values():
        assert result.reason.strip(), result.id


def test_required_criterion_missing_makes_the_request_not_ready(library: Library) -> None:
    case = Case.model_validate(BASE_CASE, context={"today": AS_OF})
    assessment = evaluate(case, library, AS_OF)
    assert assessment.verdict is Verdict.NOT_READY
    assert any("information missing" in reason for reason in assessment.verdict_reasons)
