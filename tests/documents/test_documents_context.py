"""The letter's context: plain values only, and only what the assessment supports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import jinja2
import markupsafe
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from priorauth.documents import LetterContext, build_letter_context, render_html
from priorauth.documents.pdf import resources
from priorauth.documents.render import environment
from priorauth.documents.wording import format_date
from priorauth.domain.case import Case
from priorauth.domain.dates import period_end
from priorauth.domain.quantities import plain_number
from priorauth.rules import evaluate
from priorauth.rules.assessment import Status, walk_results
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)
TEMPLATE_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "body",
    "p",
    "header",
    "div",
    "section",
    "strong",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "span",
}


@pytest.fixture
def build(
    library: Library, make_case: Callable[[dict[str, Any]], Case]
) -> Callable[..., LetterContext]:
    def go(data: dict[str, Any], **kwargs: Any) -> LetterContext:
        case = make_case(data)
        assessment = evaluate(case, library, TODAY)
        return build_letter_context(case, assessment, library, letter_date=TODAY, **kwargs)

    return go


def _plain(value: Any, where: str = "context") -> None:
    """Fail unless value is built only from str, bool, int, None, tuples and frozen records."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, tuple):
        for index, item in enumerate(value):
            _plain(item, f"{where}[{index}]")
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        assert type(value).__dataclass_params__.frozen, f"{where} is not frozen"  # type: ignore[attr-defined]
        for field in dataclasses.fields(value):
            _plain(getattr(value, field.name), f"{where}.{field.name}")
        return
    raise AssertionError(f"{where} is a {type(value).__name__}, not a plain value")


def test_the_context_is_frozen_plain_values(
    build: Callable[..., LetterContext], example_data: dict[str, Any]
) -> None:
    context = build(example_data)
    _plain(context)
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.title = "changed"  # type: ignore[misc]


def test_references_follow_the_payers_order_then_first_use_and_all_are_cited(
    library: Library, make_case: Callable[[dict[str, Any]], Case], example_data: dict[str, Any]
) -> None:
    case = make_case(example_data)
    assessment = evaluate(case, library, TODAY)
    context = build_letter_context(case, assessment, library, letter_date=TODAY)
    markers = [line.refs for line in context.criteria_met] + [context.dosing_refs]
    cited = [n for marker in markers for n in marker]
    numbers = [r.number for r in context.references]
    assert numbers == list(range(1, len(numbers) + 1))
    assert set(cited) == set(numbers)
    # Each marker names a source once, in order: never "[1, 2, 1]".
    assert all(list(marker) == sorted(set(marker)) for marker in markers)
    # The payer's order (the rules' rank), then the order of first use.
    sources = {c.text: c for r in walk_results(assessment.criteria) for c in r.citations}
    sources |= {c.text: c for c in assessment.dose.limit_citations}
    ranks = [sources[r.text].rank for r in context.references]
    assert ranks == sorted(ranks)
    first_use = list(dict.fromkeys(cited))
    for rank in set(ranks):
        same = [n for n, r in zip(numbers, ranks, strict=True) if r == rank]
        assert same == [n for n in first_use if n in same]


def test_only_met_criteria_are_listed_and_required_ones_first(
    library: Library,
    make_case: Callable[[dict[str, Any]], Case],
    example_data: dict[str, Any],
) -> None:
    example_data["answers"]["other_causes_excluded"] = False
    case = make_case(example_data)
    assessment = evaluate(case, library, TODAY)
    context = build_letter_context(case, assessment, library, letter_date=TODAY)
    met = {r.title for r in assessment.criteria if r.status is Status.MET}
    listed = [line.title for line in context.criteria_met]
    assert set(listed) == met
    assert "Other causes excluded (paraprotein workup)" not in listed
    required = [line.required for line in context.criteria_met]
    assert required == sorted(required, reverse=True)


def test_an_any_of_criterion_shows_only_the_evidence_of_what_was_met(
    build: Callable[..., LetterContext], example_data: dict[str, Any]
) -> None:
    del example_data["answers"]["mrc_sum_score_baseline"]
    context = build(example_data)
    line = next(c for c in context.criteria_met if c.title.startswith("Objective baseline"))
    assert line.evidence == ("Adjusted INCAT disability score before IVIG: 4 points",)


def test_dates_and_numbers_are_written_for_a_letter() -> None:
    assert format_date(dt.date(2026, 3, 1)) == "March 1, 2026"
    assert plain_number(Decimal("160.0")) == "160"
    assert plain_number(Decimal("0.500")) == "0.5"
    assert plain_number(Decimal("79.6")) == "79.6"
    assert plain_number(Decimal("1E+2")) == "100"
    # A three-month authorization from December 1 ends on the last day of February.
    assert period_end(dt.date(2026, 12, 1), 3) == dt.date(2027, 2, 28)
    assert period_end(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 27)
    assert period_end(dt.date(2026, 6, 15), 6) == dt.date(2026, 12, 14)


def test_the_environment_escapes_and_refuses_undefined_values() -> None:
    env = environment()
    assert env is environment()
    assert env.autoescape("documents/letter.html") is True  # type: ignore[operator]
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        render_html("documents/letter.html", {"title": "only a title"})


def test_the_stylesheet_and_fonts_are_built_once_per_process() -> None:
    first = resources()
    assert resources() is first
    assert first.font_config is resources().font_config
    assert first.stylesheet is resources().stylesheet


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(summary=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_any_typed_summary_reaches_the_html_escaped(
    build: Callable[..., LetterContext], example_data: dict[str, Any], summary: str
) -> None:
    example_data["clinical_summary"] = summary
    context = build(example_data)
    html = render_html("documents/letter.html", context)
    for paragraph in context.clinical_history:
        assert f"<p>{markupsafe.escape(paragraph)}</p>" in html
    # Typed text adds no element: paragraphs open and close in pairs, and the only
    # tags are the template's own.
    assert len(re.findall(r"<p[ >]", html)) == html.count("</p>")
    assert set(re.findall(r"</?([a-z0-9]+)", html)) <= TEMPLATE_TAGS
