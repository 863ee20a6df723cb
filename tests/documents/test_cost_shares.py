"""The patient's share from the plan terms on the case, and a yearly figure that adds up."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pdf_inspect import squeezed, text

from priorauth.documents.cost_summary import build_cost_summary_context, render_cost_summary
from priorauth.domain.case import Case
from priorauth.domain.costs import (
    DrugPrice,
    PatientPlan,
    PriceKind,
    PriceTable,
    add_shares,
    shares_in_order,
)
from priorauth.domain.plan_terms import PlanTerms
from priorauth.rules import evaluate
from priorauth.rules.estimate import estimate_costs
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    # Some examples wrap the case with the result it must give.
    case: dict[str, Any] = data.get("case", data)
    return case


def case_of(data: dict[str, Any]) -> Case:
    return Case.model_validate(data, context={"today": TODAY})


def test_plan_terms_are_validated_on_the_case() -> None:
    data = example("pid-initial-qualifies.json")
    terms = data["coverage"]["plan_terms"]
    assert case_of(data).coverage.plan_terms == PlanTerms.model_validate(terms)
    for wrong in (
        {**terms, "copay_per_infusion_usd": 50},  # coinsurance and copay both
        {**terms, "deductible_met_usd": 2000},  # more met than the deductible
        {**terms, "out_of_pocket_met_usd": 6000},
        {**terms, "coinsurance_percent": 120},
    ):
        broken = copy.deepcopy(data)
        broken["coverage"]["plan_terms"] = wrong
        with pytest.raises(ValueError):
            case_of(broken)


def test_shares_in_order_use_up_the_deductible_then_stop_at_the_maximum() -> None:
    plan = PatientPlan(
        deductible_remaining=Decimal(1000),
        coinsurance_percent=Decimal(20),
        out_of_pocket_max_remaining=Decimal(1500),
    )
    shares = shares_in_order([Decimal(2000)] * 4, plan)
    # 1000 + 20 % of 1000; then 20 % of 2000 = 400; then 100 to reach the cap; then 0.
    assert [s.patient_pays for s in shares] == [
        Decimal(1200),
        Decimal(300),
        Decimal(0),
        Decimal(0),
    ]
    assert shares[1].capped and shares[3].capped and not shares[0].capped
    assert add_shares(shares).patient_pays == Decimal(1500)
    copay = PatientPlan(deductible_remaining=Decimal(500), copay_per_infusion=Decimal(100))
    assert [s.patient_pays for s in shares_in_order([Decimal(2000)] * 3, copay)] == [
        Decimal(600),
        Decimal(100),
        Decimal(100),
    ]


def test_a_single_course_yearly_figure_equals_the_course(library: Library) -> None:
    # Issue 14: one 2 g/kg CIDP course (interval 3 weeks) was counted 18 times a year.
    case = case_of(example("cidp-initial-qualifies.json"))
    assert case.regimen.courses_requested == 1 and case.regimen.interval_weeks is not None
    summary = estimate_costs(
        case, evaluate(case, library, TODAY), library, prepared_on=TODAY
    ).summary
    assert summary.per_year.courses == 1
    assert summary.per_year.total == summary.per_course.total
    assert summary.per_year.infusions == summary.per_course.infusions == 4


def test_the_year_follows_the_months_requested(library: Library) -> None:
    data = example("pid-initial-qualifies.json")
    data["regimen"]["months_requested"] = 6
    case = case_of(data)
    summary = estimate_costs(
        case, evaluate(case, library, TODAY), library, prepared_on=TODAY
    ).summary
    assert summary.per_year.months == 6
    assert summary.per_year.courses == summary.per_period.courses
    assert any("a renewal would add to it" in note for note in summary.notes)


@pytest.mark.parametrize(
    "name", ["pid-initial-qualifies.json", "cidp-continuation-incat-improved.json"]
)
def test_example_cost_summaries_show_the_share_per_infusion_and_per_year(
    library: Library, name: str
) -> None:
    case = case_of(example(name))
    assert case.coverage.plan_terms is not None
    assessment = evaluate(case, library, TODAY)
    summary = estimate_costs(case, assessment, library, prepared_on=TODAY).summary
    shares = summary.infusion_shares
    assert len(shares) == summary.per_year.infusions
    year = summary.per_year.out_of_pocket
    assert year is not None and year.patient_pays == sum(s.patient_pays for s in shares)
    course = summary.per_course.out_of_pocket
    assert course is not None
    context = build_cost_summary_context(case, assessment, library, prepared_on=TODAY)
    per_infusion, per_course, _, per_year = context.horizons
    assert per_infusion.patient_share == f"${shares[0].patient_pays:,.2f}"
    assert per_infusion.share_detail.startswith("first; then $")
    assert per_course.patient_share == f"${course.patient_pays:,.2f}"
    assert per_year.patient_share == f"${year.patient_pays:,.2f}"
    rendered = render_cost_summary(case, assessment, library, prepared_on=TODAY)
    assert rendered.page_count == 1
    content = squeezed(text(rendered.pdf))
    for expected in (per_infusion.patient_share, per_infusion.share_detail, per_year.patient_share):
        assert squeezed(expected) in content, expected


def test_the_pid_examples_share_by_hand(library: Library) -> None:
    # Deductible 1,500 with 500 met; 20 %; maximum 5,000 with 1,000 met.
    case = case_of(example("pid-initial-qualifies.json"))
    summary = estimate_costs(
        case, evaluate(case, library, TODAY), library, prepared_on=TODAY
    ).summary
    day = summary.days[0].total
    first = summary.infusion_shares[0]
    assert first.deductible == min(day, Decimal(1000))
    expected = min(day, Decimal(1000)) + (day - min(day, Decimal(1000))) * Decimal("0.2")
    assert first.patient_pays == expected.quantize(Decimal("0.01"))
    year = summary.per_year.out_of_pocket
    assert year is not None and year.patient_pays <= Decimal(4000)


def test_an_asp_only_table_says_not_priced_never_zero(library: Library) -> None:
    # Issue 14: with only the CMS drug limits, administration showed as $0.00.
    case = case_of(example("cidp-initial-qualifies.json"))
    asp = PriceTable(
        id="asp_2026q4",
        name="CMS ASP payment limits, 4th quarter 2026",
        kind=PriceKind.ASP_PAYMENT_LIMIT,
        source="synthetic CMS-format file for the test",
        source_date="2026-09-15",
        effective_from=dt.date(2026, 10, 1),
        effective_to=dt.date(2026, 12, 31),
        drugs=(DrugPrice(hcpcs="J1459", billing_unit_mg=500, price_per_unit=Decimal("61.234")),),
    )
    lib = dataclasses.replace(library, prices={asp.id: asp})
    context = build_cost_summary_context(case, evaluate(case, lib, TODAY), lib, prepared_on=TODAY)
    admin = [line for line in context.lines if line.code.startswith("9")]
    assert admin and all(line.amount == "not priced" for line in admin)
    assert all(site.administration == "not priced" for site in context.sites if site.available)
    assert "$0.00" not in json.dumps(dataclasses.asdict(context))
    assert "not priced" in context.incomplete_text or "no price" in context.incomplete_text
