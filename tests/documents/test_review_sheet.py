"""The physician's review sheet: the payer document's content with every doubt beside it.

What the letter no longer prints (why the case is not ready, the unverified marks,
the weight rule assumed, how a source was read, the sources left out for this
payer) is on the sheet, each with where it comes from.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import layout_inspect
import pdf_inspect

from priorauth.documents import render_letter
from priorauth.documents.doubts import DoubtKind, Review
from priorauth.documents.exception import ExceptionTopic, render_exception_request
from priorauth.documents.letter import draft_letter
from priorauth.documents.review import render_letter_review, render_review_sheet
from priorauth.domain.case import Case
from priorauth.rules import evaluate
from priorauth.rules.assessment import Verdict
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)
PID = Path(__file__).resolve().parents[2] / "forms" / "indications" / "pid" / "examples"


def pid_case(name: str, make_case: Any, payer: str = "") -> Case:
    data = json.loads((PID / f"{name}.json").read_text(encoding="utf-8"))["case"]
    if payer:
        data["coverage"]["payer_profile"] = payer
    return make_case(data)  # type: ignore[no-any-return]


def contains(text: str, needle: str) -> bool:
    return pdf_inspect.squeezed(needle) in pdf_inspect.squeezed(text)


def doubts_of(review: Review, heading: str) -> dict[str, list[str]]:
    """Each line of a block, with its doubts and their sources as text."""
    found = next(b for b in review.blocks if b.heading == heading)
    return {line.shown: [f"{d.text} | {d.source}" for d in line.doubts] for line in found.lines}


def test_a_case_not_ready_reads_clean_for_the_payer_and_says_why_on_the_sheet(
    library: Library, make_case: Any
) -> None:
    # Two low IgG results 10 days apart: the payer wants more than 3 weeks.
    case = pid_case("initial-igg-too-close", make_case)
    assessment = evaluate(case, library, TODAY)
    assert assessment.verdict is Verdict.NOT_READY
    letter = render_letter(case, assessment, library, letter_date=TODAY)
    text = pdf_inspect.text(letter.pdf)
    assert "Draft" not in text and "not ready" not in text.lower()
    # The key evidence is stated with its dates, though the criterion is not claimed.
    assert contains(text, "LABORATORY RESULTS")
    for result in case.answers["igg_mg_dl"]:
        assert contains(text, f"{result.value} mg/dL on {result.date:%m/%d/%Y}")

    sheet = render_letter_review(case, assessment, library, letter_date=TODAY)
    sheet_text = pdf_inspect.text(sheet.pdf)
    assert contains(sheet_text, "Not ready to send as it stands")
    assert contains(
        sheet_text, "Hypogammaglobulinemia documented, or a genetic diagnosis: not met."
    )
    assert contains(sheet_text, "Internal: not for the payer")
    # The sheet shows the letter's own words beside its doubts.
    assert contains(sheet_text, "Serum IgG:")
    assert pdf_inspect.embedded_files(sheet.pdf) == []


def test_an_exception_states_the_lab_values_too(library: Library, make_case: Any) -> None:
    case = pid_case("initial-igg-too-close", make_case)
    exception = render_exception_request(
        case,
        evaluate(case, library, TODAY),
        library,
        letter_date=TODAY,
        topics=[ExceptionTopic.NON_PREFERRED_SITE],
    )
    text = pdf_inspect.text(exception.pdf)
    for result in case.answers["igg_mg_dl"]:
        assert contains(text, f"{result.value} mg/dL on {result.date:%m/%d/%Y}")


def test_a_criterion_met_another_way_still_shows_the_lab_values(
    library: Library, make_case: Any
) -> None:
    # Met through the genetic diagnosis: its line names that, and the IgG is still stated.
    case = pid_case("initial-genetic-diagnosis", make_case)
    letter = draft_letter(case, evaluate(case, library, TODAY), library, letter_date=TODAY)
    labs = {row.label: row.value for row in letter.context.labs}
    assert labs["Serum IgG"] == "80 mg/dL on 10/05/2026"


def test_every_unverified_value_is_beside_its_line_with_its_source(
    library: Library, make_case: Any
) -> None:
    case = pid_case("initial-qualifies", make_case)
    review = draft_letter(case, evaluate(case, library, TODAY), library, letter_date=TODAY).review
    # Issue 14: the ICD-10-CM code set confirms the code, so the diagnosis carries no doubt.
    assert doubts_of(review, "Diagnosis") == {
        "ICD-10-CM D83.9 Common variable immunodeficiency, unspecified": []
    }
    criteria = doubts_of(review, "Medical necessity")
    secondary = next(d for line, d in criteria.items() if line.startswith("Secondary causes"))
    assert "AI question-and-answer site" in secondary[0]
    # The weight rule the dose rests on is an assumption, with the profile's source.
    dosing = next(b for b in review.blocks if b.heading == "Dosing")
    assumption = next(
        d for line in dosing.lines for d in line.doubts if d.kind is DoubtKind.ASSUMPTION
    )
    assert "titrated to IgG levels" in assumption.text
    assert "Ontario IGUM dose calculator" in assumption.source


def test_sources_left_out_for_this_payer_and_how_its_own_was_read(
    library: Library, make_case: Any
) -> None:
    uhc = pid_case("initial-qualifies", make_case, payer="uhc")
    review = draft_letter(uhc, evaluate(uhc, library, TODAY), library, letter_date=TODAY).review
    left_out = " ".join(review.not_cited)
    assert "Aetna Clinical Policy Bulletin 0206" in left_out
    assert "another payer's policy" in left_out
    assert "eviCore" in left_out

    aetna = pid_case("initial-qualifies", make_case, payer="aetna")
    drafted = draft_letter(aetna, evaluate(aetna, library, TODAY), library, letter_date=TODAY)
    # Aetna's own policy is cited to Aetna, first, and how it was read is on the sheet.
    first = drafted.context.references[0]
    assert first.text.startswith("Aetna Clinical Policy Bulletin 0206")
    references = doubts_of(drafted.review, "References")
    line = next(doubts for shown, doubts in references.items() if shown.startswith("[1] Aetna"))
    assert any("third-party summaries" in doubt for doubt in line)
    assert "Aetna" not in " ".join(drafted.review.not_cited)


def test_the_sheet_lays_out_cleanly_with_every_flex_item_at_min_width_0(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    example_data["clinical_summary"] = "Weakness progressed over months. " * 120
    case: Case = make_case(example_data)
    assessment = evaluate(case, library, TODAY)
    review = draft_letter(case, assessment, library, letter_date=TODAY).review
    sheet = render_review_sheet(review, case, assessment, prepared_on=TODAY)
    layout = layout_inspect.inspect(sheet.html)
    assert layout.pages == sheet.page_count
    assert layout.overflow == [], layout.overflow[:5]
    assert layout.auto_min_width == set(), layout.auto_min_width
