"""The cost summary document: its context, its HTML, and the text a reader finds in its PDF."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pdf_inspect import squeezed, text

from priorauth.documents.cost_summary import (
    CostSummaryContext,
    build_cost_summary_context,
    render_cost_summary,
)
from priorauth.domain.case import Case, SiteOfCare
from priorauth.domain.costs import (
    DrugPrice,
    PatientPlan,
    PriceKind,
    PriceTable,
    ServicePrice,
)
from priorauth.domain.dosing import DosingWeightPolicy
from priorauth.rules import evaluate
from priorauth.rules.estimate import CostSummaryUnavailable
from priorauth.rules.library import Library
from priorauth.rules.prices import load_price_tables

TODAY = dt.date(2026, 11, 20)

# A synthetic 60 kg woman with primary immunodeficiency: 0.4 g/kg every 4 weeks, one day.
WOMAN: dict[str, Any] = {
    "patient": {
        "first_name": "Jordan",
        "last_name": "Synthetic",
        "date_of_birth": "1980-03-02",
        "sex": "female",
    },
    "coverage": {
        "payer_name": "Example Health Plan",
        "payer_profile": "actual_weight",
        "plan_type": "commercial",
        "member_id": "EHP000999",
    },
    "prescriber": {
        "name": "Sam Example",
        "credentials": "MD",
        "npi": "1234567893",
        "specialty": "allergy_immunology",
    },
    "site_of_care": "physician_office",
    "request_type": "initial",
    "indication_id": "pid",
    "icd10_codes": ["D83.9"],
    "measurements": {"weight": 60, "height": 165, "measured_on": "2026-11-01"},
    "regimen": {
        "product_id": "privigen",
        "dose_g_per_kg": "0.4",
        "days_per_course": 1,
        "interval_weeks": 4,
        "months_requested": 6,
        "start_date": "2026-12-01",
    },
}


@pytest.fixture(scope="module")
def actual_weight_library(library: Library) -> Library:
    """The shipped library plus a payer that doses on actual weight without rounding."""
    reference = library.payers["reference"]
    payer = reference.model_copy(
        update={
            "id": "actual_weight",
            "name": "Actual-weight plan",
            "dosing_weight": DosingWeightPolicy(),
        }
    )
    return dataclasses.replace(library, payers={**library.payers, "actual_weight": payer})


@pytest.fixture
def woman(make_case: Callable[[dict[str, Any]], Case]) -> Case:
    return make_case(copy.deepcopy(WOMAN))


def _context(case: Case, lib: Library, **options: Any) -> CostSummaryContext:
    assessment = evaluate(case, lib, TODAY)
    return build_cost_summary_context(case, assessment, lib, prepared_on=TODAY, **options)


def test_worked_example_figures_by_hand(woman: Case, actual_weight_library: Library) -> None:
    context = _context(woman, actual_weight_library)
    assert context.dose_text.startswith("24 g per course: 0.4 g/kg × 60 kg (actual body weight)")
    (day,) = context.days
    # Privigen 24 g: 20 + 5 g opened; 48 units given, 2 discarded; 142 min (notes §6 ladder).
    assert (day.vials, day.units, day.discarded, day.time) == (
        "1 × 20 g + 1 × 5 g",
        "48",
        "2",
        "2 h 22 min",
    )
    lines = {(line.code, line.modifier): line for line in context.lines}
    assert lines[("J1459", "")].amount == "$2,400.00"
    assert lines[("J1459", "JW")].amount == "$100.00"
    assert lines[("96365", "")].amount == "$150.00"
    assert lines[("96366", "")].units == "1"
    # 48 × $50 + 2 × $50 + $150 + $40 (illustrative demo prices).
    assert context.course_total == "$2,690.00"
    # Every 4 weeks for 6 months from 1 Dec 2026: 182 days / 28 → 7 courses.
    period = context.horizons[2]
    assert period.detail.startswith("7 courses")
    assert period.total == "$18,830.00"
    assert context.illustrative


def test_every_priced_line_names_its_source(woman: Case, actual_weight_library: Library) -> None:
    context = _context(woman, actual_weight_library)
    numbers = {source.number for source in context.sources}
    assert all(line.source in numbers for line in context.lines if line.amount != "not priced")
    demo = context.sources[0]
    assert "Illustrative demo prices" in demo.text
    assert demo.illustrative
    assert "2020-01-01" in demo.date


def test_patient_share_from_the_plan(woman: Case, actual_weight_library: Library) -> None:
    plan = PatientPlan(
        deductible_remaining=Decimal(1000),
        coinsurance_percent=Decimal(20),
        out_of_pocket_max_remaining=Decimal(4000),
    )
    context = _context(woman, actual_weight_library, patient_plan=plan)
    per_course = context.horizons[1]
    # $1,000 deductible, then 20 % of the other $1,690.
    assert per_course.patient_share == "$1,338.00"
    per_year = context.horizons[3]
    assert per_year.patient_share == "$4,000.00"
    assert per_year.capped


def test_pdf_is_one_page_with_the_figures_and_the_illustrative_mark(
    woman: Case, actual_weight_library: Library
) -> None:
    assessment = evaluate(woman, actual_weight_library, TODAY)
    rendered = render_cost_summary(woman, assessment, actual_weight_library, prepared_on=TODAY)
    assert rendered.page_count == 1
    content = squeezed(text(rendered.pdf))
    for expected in (
        "ILLUSTRATIVEPRICES",
        "$2,690.00",
        "$2,400.00",
        "J1459-JW",
        "2h22min",
        "1×20g+1×5g",
        "Illustrativedemoprices",
        "Privigen:vialsizes",  # unverified facts are listed
    ):
        assert squeezed(expected) in content, expected
    assert rendered.pdf.startswith(b"%PDF")


def test_typical_cidp_case_fits_on_one_page(
    example_data: dict[str, Any],
    make_case: Callable[[dict[str, Any]], Case],
    library: Library,
) -> None:
    case = make_case(example_data)
    assessment = evaluate(case, library, TODAY)
    rendered = render_cost_summary(
        case,
        assessment,
        library,
        prepared_on=TODAY,
        patient_plan=PatientPlan(
            deductible_remaining=Decimal(500), coinsurance_percent=Decimal(20)
        ),
    )
    assert rendered.page_count == 1
    assert "UNVERIFIED" in text(rendered.pdf)


def _real_table() -> PriceTable:
    return PriceTable(
        id="acme",
        name="Acme Health contract 2026",
        kind=PriceKind.CONTRACTED,
        source="Acme Health fee schedule (synthetic test data)",
        source_date="2025-12-15",
        effective_from=dt.date(2026, 1, 1),
        payer_profile="actual_weight",
        drugs=(DrugPrice(hcpcs="J1459", billing_unit_mg=500, price_per_unit=Decimal("61.25")),),
        services=(
            ServicePrice(code="96365", price_per_unit=Decimal(180)),
            ServicePrice(code="96366", price_per_unit=Decimal(45)),
        ),
    )


def test_real_prices_carry_no_illustrative_mark(
    woman: Case, actual_weight_library: Library
) -> None:
    prices = [*load_price_tables().values(), _real_table()]
    assessment = evaluate(woman, actual_weight_library, TODAY)
    rendered = render_cost_summary(
        woman, assessment, actual_weight_library, prices, prepared_on=TODAY
    )
    assert not rendered.context.illustrative
    content = text(rendered.pdf)
    assert "ILLUSTRATIVE" not in content.upper()
    # 50 units × $61.25 + $180 + $45.
    assert "$3,287.50" in content
    assert "Acme Health contract 2026" in content


def test_missing_prices_are_named(woman: Case, actual_weight_library: Library) -> None:
    table = _real_table()
    context = _context(woman, actual_weight_library, prices=[table], product_id="gamunex_c")
    assert "J1561" in context.incomplete_text
    assert any(line.amount == "not priced" for line in context.lines)


def test_staff_choose_the_product_and_site(woman: Case, actual_weight_library: Library) -> None:
    office = _context(woman, actual_weight_library)
    home = _context(woman, actual_weight_library, product_id="gamunex_c", site=SiteOfCare.HOME)
    assert office.about_rows[3].value.startswith("Privigen")
    assert home.about_rows[3].value.startswith("Gamunex-C")
    codes = {line.code for line in home.lines}
    assert {"J1561", "99601", "S9338"} <= codes
    assert "96365" not in codes
    # Gamunex-C makes 24 g exactly (20 + 2.5 + 1 + …): nothing discarded.
    assert home.days[0].discarded == "0"
    assert [row.label for row in home.sites if row.chosen] == ["Home infusion"]
    assert [row.name for row in home.products if row.chosen] == ["Gamunex-C"]


def test_typed_text_is_escaped(
    make_case: Callable[[dict[str, Any]], Case], actual_weight_library: Library
) -> None:
    data = copy.deepcopy(WOMAN)
    data["patient"]["last_name"] = "<script>alert(1)</script>"
    case = make_case(data)
    assessment = evaluate(case, actual_weight_library, TODAY)
    rendered = render_cost_summary(case, assessment, actual_weight_library, prepared_on=TODAY)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html


def test_no_dose_no_summary(make_case: Callable[[dict[str, Any]], Case], library: Library) -> None:
    data = copy.deepcopy(WOMAN)
    data["coverage"]["payer_profile"] = "reference"  # adjusted weight needs a height
    del data["measurements"]["height"]
    case = make_case(data)
    assessment = evaluate(case, library, TODAY)
    with pytest.raises(CostSummaryUnavailable, match="height"):
        build_cost_summary_context(case, assessment, library, prepared_on=TODAY)
