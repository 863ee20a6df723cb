"""A continuation letter shows the measures before treatment and now, and the taper."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pdf_inspect

from priorauth.documents import build_letter_context, render_letter
from priorauth.domain.case import Case
from priorauth.rules import evaluate
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def case_of(name: str, make_case: Any) -> Case:
    return make_case(json.loads((EXAMPLES / name).read_text(encoding="utf-8"))["case"])  # type: ignore[no-any-return]


def test_cidp_continuation_shows_baseline_current_response_and_taper(
    library: Library, make_case: Any
) -> None:
    case = case_of("cidp-continuation-incat-improved.json", make_case)
    letter = render_letter(case, evaluate(case, library, TODAY), library, letter_date=TODAY)
    text = pdf_inspect.text(letter.pdf)
    assert "RESPONSE TO TREATMENT" in text
    row = letter.context.response_rows[0]
    assert (row.measure, row.before, row.now, row.change) == (
        "Adjusted INCAT disability score",
        "4 points (05/04/2026)",
        "2 points (11/02/2026)",
        "Improved by 2 points (lower is better)",
    )
    assert "Adjusted INCAT disability score 4 points (05/04/2026) 2 points (11/02/2026)" in text
    assert (
        "Attempt at dose reduction or a trial off IVIG: attempted; the patient relapsed or "
        "worsened." in text
    )


def test_pid_continuation_shows_infections_and_trough(library: Library, make_case: Any) -> None:
    case = case_of("pid-continuation-improved.json", make_case)
    context = build_letter_context(case, evaluate(case, library, TODAY), library, letter_date=TODAY)
    rows = {row.measure: row for row in context.response_rows}
    infections = rows["Bacterial infections in the past 12 months"]
    assert (infections.before, infections.now) == ("not recorded", "1 infection")
    assert rows["IgG trough level on treatment"].now == "780 mg/dL (10/26/2026)"
    assert rows["Response to IVIG so far"].now == "Improved on an objective measure"


def test_a_worse_score_is_said_plainly(library: Library, make_case: Any) -> None:
    data = json.loads((EXAMPLES / "cidp-continuation-incat-improved.json").read_text())["case"]
    data["answers"]["incat_score_current"] = {"value": 5, "date": "2026-11-02"}
    data["answers"]["mrc_sum_score_baseline"] = {"value": 50, "date": "2026-05-04"}
    data["answers"]["mrc_sum_score_current"] = {"value": 50, "date": "2026-11-02"}
    case: Case = make_case(data)
    context = build_letter_context(case, evaluate(case, library, TODAY), library, letter_date=TODAY)
    changes = {row.measure: row.change for row in context.response_rows}
    assert changes["Adjusted INCAT disability score"] == "Worse by 1 point (lower is better)"
    assert changes["MRC sum score"] == "No change"


def test_an_initial_letter_has_no_response_section(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    case: Case = make_case(example_data)
    letter = render_letter(case, evaluate(case, library, TODAY), library, letter_date=TODAY)
    assert letter.context.response_rows == ()
    assert "RESPONSE TO TREATMENT" not in pdf_inspect.text(letter.pdf)
