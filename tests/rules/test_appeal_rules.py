"""forms/appeals.toml: it loads, covers every level and reason, and reports mistakes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from priorauth.domain.case import PlanType
from priorauth.domain.denial import AppealLevel, Denial, DenialReason
from priorauth.paths import forms_dir
from priorauth.rules import load_library
from priorauth.rules.appeals import (
    AppealRules,
    appeal_deadline,
    denial_problems,
    fill,
    load_appeal_rules,
)
from priorauth.rules.loader import DefinitionError

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def rules() -> AppealRules:
    return load_appeal_rules()


def denial(**changes: Any) -> Denial:
    data: dict[str, Any] = {
        "date": "2026-11-05",
        "payer_reference": "DN-1",
        "reasons": [{"category": "not_medically_necessary"}],
    }
    data.update(changes)
    return Denial.model_validate(data, context={"today": TODAY})


def test_every_level_and_reason_has_its_wording(rules: AppealRules) -> None:
    assert {level.id for level in rules.levels} == set(AppealLevel)
    assert {reason.id for reason in rules.reasons} == set(DenialReason)
    for level in rules.levels:
        for plan_type in PlanType:
            assert level.deadline_rule(plan_type).source
    for reason in rules.reasons:
        assert reason.objections, f"{reason.id} has no objections for the peer-to-peer sheet"


def test_no_deadline_claims_a_source_the_reference_notes_lack(rules: AppealRules) -> None:
    """The reference notes hold no appeal deadline: every rule must say it is unverified."""
    for level in rules.levels:
        for rule in level.deadlines:
            assert rule.unverified, (level.id, rule.plan_types)


def test_deadline_from_the_notice_wins_and_is_not_marked_unverified(rules: AppealRules) -> None:
    deadline = appeal_deadline(denial(appeal_deadline="2027-01-04"), PlanType.COMMERCIAL, rules)
    assert deadline.date == dt.date(2027, 1, 4)
    assert deadline.from_notice and not deadline.unverified
    assert "DN-1" in deadline.source


@pytest.mark.parametrize(
    ("plan_type", "level", "received", "expected"),
    [
        # 180 days from receipt; no receipt date → from the notice's date (the earlier).
        (PlanType.COMMERCIAL, "first_internal", None, dt.date(2027, 5, 4)),
        (PlanType.COMMERCIAL, "first_internal", "2026-11-09", dt.date(2027, 5, 8)),
        (PlanType.MEDICARE_ADVANTAGE, "first_internal", "2026-11-09", dt.date(2027, 1, 9)),
        (PlanType.MEDICAID, "first_internal", None, dt.date(2027, 1, 4)),
        # 4 months, counted in calendar months.
        (PlanType.COMMERCIAL, "external_review", "2026-11-09", dt.date(2027, 3, 9)),
        # Set by the plan: no date is invented.
        (PlanType.COMMERCIAL, "second_internal", None, None),
    ],
)
def test_deadlines_are_counted_from_the_right_day(
    rules: AppealRules,
    plan_type: PlanType,
    level: str,
    received: str | None,
    expected: dt.date | None,
) -> None:
    deadline = appeal_deadline(denial(level=level, received_on=received), plan_type, rules)
    assert deadline.date == expected
    assert deadline.unverified
    assert deadline.text


def test_expedited_levels_state_the_decision_time_as_unverified(rules: AppealRules) -> None:
    recorded = denial(level="expedited", delay_risks_health=True, urgency="Worse every week.")
    deadline = appeal_deadline(recorded, PlanType.COMMERCIAL, rules)
    assert "72 hours" in deadline.decision
    assert deadline.unverified


def test_a_criterion_the_indication_lacks_is_named() -> None:
    library = load_library()
    problems = denial_problems(
        denial(reasons=[{"category": "criteria_not_met", "criteria": ["demyelinaton"]}]),
        library.indications["cidp"],
    )
    assert len(problems) == 1
    assert problems[0].field == "reasons.0.criteria"
    assert "has no criterion 'demyelinaton'" in problems[0].message
    assert "demyelination" in problems[0].message


def test_fill_keeps_an_unknown_value_visible() -> None:
    assert fill("For $patient at $site", {"patient": "A"}) == "For A at $site"


@pytest.fixture
def forms_copy(tmp_path: Path) -> Path:
    root = tmp_path / "forms"
    shutil.copytree(forms_dir(), root)
    return root


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        (
            'heading = "Medical necessity"',
            'heading = "For $pateint"',
            "unknown placeholder $pateint",
        ),
        ('id = "site_of_care"', 'id = "site_of_cure"', "reasons[5] (site_of_cure)"),
        ("days = 65", "days = 65\nweeks = 9", "weeks: unknown key"),
        (
            'plan_types = ["medicaid"]\n  days = 60',
            'plan_types = ["medicare"]\n  days = 60',
            "plan types with two deadline rules: medicare",
        ),
    ],
)
def test_mistakes_are_reported_as_breadcrumbs(
    forms_copy: Path, old: str, new: str, needle: str
) -> None:
    path = forms_copy / "appeals.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_appeal_rules(forms_copy)
    report = "\n".join(caught.value.problems)
    assert str(path) in report
    assert needle in report, report


def test_a_missing_file_says_where_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"copy appeals\.toml"):
        load_appeal_rules(tmp_path)
