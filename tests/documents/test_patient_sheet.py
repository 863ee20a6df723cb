"""The patient information sheet (issue 14): plain words, confirmed facts only, every example."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import textstat
from pdf_inspect import text

from priorauth.documents.patient_sheet import patient_sheet_context, render_patient_sheet
from priorauth.domain.case import Case
from priorauth.domain.costs import DrugPrice, PriceKind, PriceTable, ServicePrice
from priorauth.rules import evaluate
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
ALL_EXAMPLES = EXAMPLES + sorted((ROOT / "forms" / "indications").glob("*/examples/*.json"))
# Flesch-Kincaid grade (textstat 0.7.3) of the words a patient reads; the shipped
# examples measure 1.9 to 3.3. Patient materials are commonly aimed at grade 6 to 8.
MAX_GRADE = 6
INTERNAL_WORDS = ("UNVERIFIED", "Unverified", "illustrative", "ILLUSTRATIVE", "HCPCS", "$0.00")


def case_from(path: Path) -> Case:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return Case.model_validate(data.get("case", data), context={"today": TODAY})


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_sheet_renders_for_every_example_case(library: Library, path: Path) -> None:
    case = case_from(path)
    assessment = evaluate(case, library, TODAY)
    rendered = render_patient_sheet(case, assessment, library, prepared_on=TODAY)
    assert rendered.pdf.startswith(b"%PDF") and rendered.page_count <= 2
    content = text(rendered.pdf)
    for heading in (
        "What is this medicine?",
        "Your treatment plan",
        "Before treatment",
        "Side effects: when to get help",
        "What you may pay",
        "Approval: what happens next",
    ):
        assert heading in content, heading
    assert case.patient.full_name in content


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: f"{p.parent.parent.name}-{p.stem}")
def test_plain_words_and_no_internal_marks(library: Library, path: Path) -> None:
    case = case_from(path)
    context = patient_sheet_context(
        case, evaluate(case, library, TODAY), library, prepared_on=TODAY
    )
    words = context.plain_text()
    assert textstat.flesch_kincaid_grade(words) <= MAX_GRADE
    for internal in INTERNAL_WORDS:
        assert internal not in words, internal


def test_an_unconfirmed_infusion_time_is_left_out(library: Library) -> None:
    # Gammagard Liquid's intermediate rates are unverified in the catalog.
    case = case_from(ROOT / "examples" / "pid-initial-qualifies.json")
    context = patient_sheet_context(
        case, evaluate(case, library, TODAY), library, prepared_on=TODAY
    )
    timing = next(s for s in context.sections if s.heading == "How long does it take?")
    assert timing.paragraphs == ("Ask your nurse how long each visit will take.",)


def test_sample_prices_are_never_shown_as_the_patients_share(library: Library) -> None:
    case = case_from(ROOT / "examples" / "pid-initial-qualifies.json")
    context = patient_sheet_context(
        case, evaluate(case, library, TODAY), library, prepared_on=TODAY
    )
    cost = next(s for s in context.sections if s.heading == "What you may pay")
    assert "samples, not real prices" in cost.paragraphs[0]
    assert not any("$" in p for p in cost.paragraphs)


def test_the_share_with_real_prices_and_plan_terms(library: Library) -> None:
    case = case_from(ROOT / "examples" / "pid-initial-qualifies.json")
    product = library.products[case.regimen.product_id]
    table = PriceTable(
        id="clinic_2026",
        name="Example clinic contract 2026",
        kind=PriceKind.CONTRACTED,
        payer_profile=case.coverage.payer_profile,
        source="synthetic contract for the test",
        source_date="2026-01-01",
        effective_from=dt.date(2026, 1, 1),
        drugs=(DrugPrice(hcpcs=product.hcpcs, billing_unit_mg=500, price_per_unit=Decimal(60)),),
        services=tuple(
            ServicePrice(code=code, price_per_unit=Decimal(price))
            for code, price in (("96365", 150), ("96366", 40), ("99601", 200), ("99602", 60))
        ),
    )
    lib = dataclasses.replace(library, prices={table.id: table})
    assessment = evaluate(case, lib, TODAY)
    context = patient_sheet_context(case, assessment, lib, prepared_on=TODAY)
    cost = next(s for s in context.sections if s.heading == "What you may pay")
    assert cost.paragraphs[0].startswith("First infusion day: about $")
    assert any(p.startswith("For all of the request: about $") for p in cost.paragraphs)
    assert "Example clinic contract 2026" in cost.paragraphs[-1]
    assert "synthetic plan summary" in cost.paragraphs[-1]


def test_a_verified_period_is_told_and_an_unverified_one_is_not(library: Library) -> None:
    pid = case_from(ROOT / "examples" / "pid-initial-qualifies.json")
    cidp = case_from(ROOT / "examples" / "cidp-initial-qualifies.json")
    for case, told in ((pid, True), (cidp, False)):
        context = patient_sheet_context(
            case, evaluate(case, library, TODAY), library, prepared_on=TODAY
        )
        words = context.plain_text()
        assert ("the approval lasts up to" in words) is told


def test_no_patient_data_in_the_pdf_metadata(library: Library) -> None:
    case = case_from(ROOT / "examples" / "cidp-initial-qualifies.json")
    rendered = render_patient_sheet(
        case, evaluate(case, library, TODAY), library, prepared_on=TODAY
    )
    assert case.patient.last_name.encode() not in rendered.pdf.split(b"stream")[0]
