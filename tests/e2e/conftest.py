"""Fixtures of the browser tests: a live app on a throwaway database, Debian's Chromium, axe.

Every test here is marked ``e2e`` and runs in ``make test``. Without Debian's
``chromium`` (or Playwright, or the axe package) the tests FAIL with the command
that installs what is missing: they are never skipped, on a laptop or in CI
(where CI=true), because a skipped browser test reads like a passing one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import LAPTOP, Auditor, chromium_problem, launch, new_page, prepare_database, serve

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium_ready() -> None:
    problem = chromium_problem()
    if problem is not None:
        pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="module")
def live_server(chromium_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("live")
    url = prepare_database(folder)
    with serve(url, folder / "instance") as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser(chromium_ready: None) -> Iterator[Any]:
    # Imported here: without Playwright the browser tests skip (chromium_problem) instead
    # of failing collection.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = launch(playwright)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    opened = new_page(browser, LAPTOP)
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    opened.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and "status of 422" not in message.text
            else None
        ),
    )
    opened.script_problems = problems
    try:
        yield opened
    finally:
        opened.context.close()


@pytest.fixture
def auditor() -> Auditor:
    return Auditor()
