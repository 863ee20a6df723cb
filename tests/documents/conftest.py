"""Fixtures for the documents layer: the example case, the library, and a guard
that fails any test during which WeasyPrint logs a warning or an error."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from priorauth.documents import LetterContext, Rendered, render_letter
from priorauth.documents.pdf import captured_weasyprint_messages
from priorauth.domain.case import Case
from priorauth.rules import evaluate, load_library
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cidp-initial-qualifies.json"


@pytest.fixture(autouse=True)
def weasyprint_guard(request: pytest.FixtureRequest) -> Iterator[list[logging.LogRecord]]:
    """Fail the test on any WeasyPrint warning, unless it asks for weasyprint_messages."""
    with captured_weasyprint_messages() as records:
        yield records
    if "weasyprint_messages" in request.fixturenames:
        return
    if records:
        lines = "\n".join(f"{r.levelname}: {r.getMessage()}" for r in records)
        pytest.fail(f"WeasyPrint logged {len(records)} message(s):\n{lines}")


@pytest.fixture
def weasyprint_messages(weasyprint_guard: list[logging.LogRecord]) -> list[logging.LogRecord]:
    """The WeasyPrint messages of a test that expects some (the guard then stays quiet)."""
    return weasyprint_guard


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()


@pytest.fixture(scope="session")
def example_json() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def example_data(example_json: dict[str, Any]) -> dict[str, Any]:
    """A fresh, editable copy of the example case's JSON."""
    return copy.deepcopy(example_json)


@pytest.fixture(scope="session")
def make_case() -> Callable[[dict[str, Any]], Case]:
    def make(data: dict[str, Any]) -> Case:
        return Case.model_validate(data, context={"today": TODAY})

    return make


@pytest.fixture
def render(
    library: Library, make_case: Callable[[dict[str, Any]], Case]
) -> Callable[..., Rendered[LetterContext]]:
    """Validate, assess and render a case's letter, as the web and CLI layers do."""

    def go(
        data: dict[str, Any], lib: Library | None = None, **kwargs: Any
    ) -> Rendered[LetterContext]:
        lib = lib or library
        case = make_case(data)
        assessment = evaluate(case, lib, TODAY)
        return render_letter(case, assessment, lib, letter_date=TODAY, **kwargs)

    return go
