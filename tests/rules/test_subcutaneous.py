"""Subcutaneous regimens as the rules read them: schedules, conversion, ramp-up, sites, limits.

Facts: ../shared/reference/ivig-products-billing.md §1.2–§1.3 (Hizentra and
Gammagard Liquid SC conversion 1.37; Gammagard Liquid per-site volume and rate;
HyQvia ramp-up and volumes; PH-90059 quantity limits) and ivig-criteria.md §3.1
(Ontario SCIG 0.1–0.15 g/kg weekly; AAAAI 100–200 mg/kg per week).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from priorauth.domain.case import Case
from priorauth.domain.catalog import Route
from priorauth.rules import evaluate, load_library
from priorauth.rules.assessment import Assessment, Verdict
from priorauth.rules.engine import case_problems

REPO = Path(__file__).resolve().parents[2]
LIBRARY = load_library()
AS_OF = dt.date(2026, 11, 20)
PID = REPO / "forms/indications/pid/examples/initial-qualifies.json"
CIDP = REPO / "examples/cidp-initial-qualifies.json"


def _data(path: Path, **regimen: Any) -> dict[str, Any]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    data: dict[str, Any] = copy.deepcopy(raw.get("case", raw))
    data["regimen"].update(regimen)
    return data


def _assess(data: dict[str, Any]) -> Assessment:
    return evaluate(Case.model_validate(data, context={"today": AS_OF}), LIBRARY, AS_OF)


def _messages(assessment: Assessment) -> str:
    return " ".join(f.message for f in assessment.dose.findings)


def test_weekly_every_two_weeks_and_daily_push_are_one_weekly_range() -> None:
    # 62 kg: 0.15 g/kg a week, given weekly, every two weeks (double) or over 5 days.
    for dose, days, weeks in (("0.15", 1, 1), ("0.3", 1, 2), ("0.15", 5, 1)):
        assessment = _assess(
            _data(
                PID,
                product_id="hizentra",
                dose_g_per_kg=dose,
                days_per_course=days,
                interval_weeks=weeks,
            )
        )
        check = assessment.dose
        assert check.route is Route.SC and check.limit_label == "Subcutaneous replacement"
        assert check.sc is not None and check.sc.weekly_g == Decimal("9.3")
        assert not check.findings, _messages(assessment)
        assert assessment.verdict is not Verdict.NOT_READY


def test_a_subcutaneous_course_of_more_than_7_days_or_4_weeks_is_refused() -> None:
    long = _assess(
        _data(PID, product_id="hizentra", dose_g_per_kg="0.6", days_per_course=8, interval_weeks=4)
    )
    assert long.verdict is Verdict.NOT_READY
    assert "1–7 days" in _messages(long)
    assert "not a subcutaneous schedule for Hizentra" in _messages(long)


def test_one_course_without_an_interval_is_no_subcutaneous_regimen() -> None:
    data = _data(PID, product_id="hizentra", dose_g_per_kg="0.15", days_per_course=1)
    data["regimen"].pop("interval_weeks")
    data["regimen"]["courses_requested"] = 1
    assert "A subcutaneous regimen repeats" in _messages(_assess(data))


def test_the_switch_from_iv_is_worked_out_and_a_far_dose_prompts_a_check() -> None:
    switch = {"iv_dose_g": 28, "iv_interval_weeks": 4}
    close = _assess(
        _data(
            PID,
            product_id="hizentra",
            dose_g_per_kg="0.15",
            days_per_course=1,
            interval_weeks=1,
            switch_from_iv=switch,
        )
    )
    assert close.dose.sc is not None
    assert close.dose.sc.conversion_weekly_g == Decimal("9.59")
    assert "28 g every 4 weeks × 1.37 ÷ 4 = 9.59 g per week" in close.dose.sc.conversion
    assert not close.dose.findings  # 9.3 g is within 10 % of 9.59 g
    far = _assess(
        _data(
            PID,
            product_id="hizentra",
            dose_g_per_kg="0.2",
            days_per_course=1,
            interval_weeks=1,
            switch_from_iv=switch,
        )
    )
    assert "from the label's conversion" in _messages(far)


def test_hyqvia_starts_with_the_labels_ramp_up() -> None:
    # 30 g every 4 weeks: 7.5 g in week 1, 15 g in week 2, 22.5 g in week 4, 30 g in week 7.
    data = _data(
        PID, product_id="hyqvia", dose_g_per_kg="0.48387", days_per_course=1, interval_weeks=4
    )
    data["measurements"]["weight"] = 62
    sc = _assess(data).dose.sc
    assert sc is not None
    assert [(r.week, round(r.dose_g, 1)) for r in sc.ramp_up] == [
        (1, Decimal("7.5")),
        (2, Decimal("15.0")),
        (4, Decimal("22.5")),
        (7, Decimal("30.0")),
    ]
    weekly = _assess(
        _data(PID, product_id="hyqvia", dose_g_per_kg="0.15", days_per_course=1, interval_weeks=1)
    ).dose.sc
    assert weekly is not None and not weekly.ramp_up and "unverified" in weekly.ramp_up_note


def test_gammagard_liquid_under_the_skin_is_sited_by_its_label() -> None:
    assessment = _assess(
        _data(
            PID,
            product_id="gammagard_liquid",
            phase="scig_replacement",
            dose_g_per_kg="0.15",
            days_per_course=1,
            interval_weeks=1,
        )
    )
    sc = assessment.dose.sc
    assert assessment.dose.route is Route.SC and sc is not None and sc.sites is not None
    # 9.3 g is 93 mL: 4 sites of 23.25 mL at 20 mL/h (≥ 40 kg), about 70 minutes.
    assert (sc.sites.sites, sc.minutes, sc.sites_unverified) == (4, 70, False)
    assert "42 g per week" in sc.quantity_limit


def test_a_weekly_dose_above_the_payer_limit_is_a_dose_finding() -> None:
    data = _data(PID, product_id="hizentra", dose_g_per_kg="0.2", days_per_course=2)
    data["regimen"]["interval_weeks"] = 1
    data["measurements"]["weight"] = 240
    assessment = _assess(data)
    assert assessment.dose.sc is not None and assessment.dose.sc.quantity_limit_exceeded
    assert "above the payer SCIG quantity limit" in _messages(assessment)
    assert "PH-90059" in _messages(assessment)


def test_an_iv_only_product_for_a_subcutaneous_phase_is_an_error_on_the_product() -> None:
    data = _data(
        PID,
        product_id="privigen",
        phase="scig_replacement",
        dose_g_per_kg="0.15",
        days_per_course=1,
        interval_weeks=1,
    )
    case = Case.model_validate(data, context={"today": AS_OF})
    problems = case_problems(case, LIBRARY)
    assert [p.field for p in problems] == ["regimen.product_id"]
    assert "Privigen is intravenous" in problems[0].message


def test_a_loading_course_is_checked_against_the_loading_phase() -> None:
    loading = {"dose_g_per_kg": 2, "days": 4}
    data = _data(
        CIDP,
        phase="maintenance",
        dose_g_per_kg=1,
        days_per_course=2,
        interval_weeks=3,
        loading=loading,
    )
    assessment = _assess(data)
    dose = assessment.dose
    assert dose.dose is not None and dose.dose.loading is not None
    assert dose.loading_limit_label == "Induction (loading)"
    assert dose.dose.loading.per_course_g == 160  # 2 g/kg × 79.6 kg, rounded to 5 g
    assert not dose.findings, _messages(assessment)
    too_much = _assess(
        _data(
            CIDP,
            phase="maintenance",
            dose_g_per_kg=1,
            days_per_course=2,
            interval_weeks=3,
            loading={"dose_g_per_kg": 3, "days": 2},
        )
    )
    assert too_much.verdict is Verdict.NOT_READY
    assert "Loading course of 3 g/kg is above" in _messages(too_much)
