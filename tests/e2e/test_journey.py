"""From intake to appeal in headless Chromium, with the accessibility audit on every page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import e2e_support
import pytest
from e2e_support import CHROMIUM, INSTALL_COMMAND, TABLET, Auditor, chromium_problem, new_page
from journey import Journey

from priorauth.store.seed import DEMO_ACCOUNTS


def _audited_every_page(journey: Journey, auditor: Auditor) -> None:
    visited = {url for url in journey.visited if url.startswith("http")}
    missing = sorted(visited - set(auditor.audited))
    assert not missing, f"pages visited without the accessibility audit: {missing}"


def test_billing_physician_and_advocate_from_intake_to_appeal(
    live_server: str, page: Any, auditor: Auditor, tmp_path: Path
) -> None:
    journey = Journey(page, live_server, auditor, tmp_path)
    journey.run()
    assert journey.case_id is not None
    assert not page.script_problems, page.script_problems
    _audited_every_page(journey, auditor)
    assert not auditor.problems, "accessibility (axe, serious or critical):\n" + "\n".join(
        auditor.problems
    )
    assert len(auditor.audited) >= 30


def test_the_pages_fit_a_tablet(live_server: str, browser: Any, auditor: Auditor) -> None:
    """At 820 × 1180 the pages need no sideways scrolling and pass the audit."""
    page = new_page(browser, TABLET)
    try:
        journey = Journey(page, live_server, auditor, Path("/nonexistent"))
        journey.open(f"{live_server}/login", "login")
        auditor(page, "tablet-login")
        journey.login("billing", "tablet-dashboard")
        journey.follow("Start a new case", "start")
        journey.fill_example("patient-", "coverage-", "prescriber-")
        auditor(page, "tablet-patient-step")
        journey.submit(journey.button("Save and continue"), "save the patient step")
        auditor(page, "tablet-indication-all")
        page.get_by_label("Find an indication by name or ICD-10-CM code").fill("CIDP")
        journey.submit(journey.button("Search"), "search")
        auditor(page, "tablet-indication")
        journey.submit(
            page.locator('form[aria-labelledby="ind-cidp"] button[type="submit"]'), "choose"
        )
        auditor(page, "tablet-questions")
        for step in ("therapies", "measurements", "review"):
            journey.open(re.sub(r"/questions$", f"/{step}", page.url.split("#")[0]), step)
            auditor(page, f"tablet-{step}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= TABLET["width"], f"{step}: the page is {width} px wide"
        journey.open(f"{live_server}/", "dashboard")
        auditor(page, "tablet-dashboard-drafts")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= TABLET["width"], f"dashboard: the page is {width} px wide"
        _audited_every_page(journey, auditor)
        assert not auditor.problems, "\n".join(auditor.problems)
    finally:
        page.context.close()


def test_missing_chromium_fails_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(e2e_support, "CHROMIUM", "/nonexistent/chromium")
    problem = chromium_problem()
    assert problem is not None
    assert INSTALL_COMMAND in problem
    assert "sudo apt-get install -y --no-install-recommends chromium" in problem
    assert CHROMIUM == "/usr/bin/chromium"


def test_the_audit_reports_what_it_should(live_server: str, page: Any) -> None:
    """A control without a label, put on a page on purpose, fails the audit."""
    auditor = Auditor()
    page.goto(f"{live_server}/login")
    auditor(page, "login")
    assert not auditor.problems, auditor.problems
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', "
        '\'<input type="text" id="unlabelled">\')'
    )
    auditor(page, "login-with-an-unlabelled-input")
    assert any("label" in problem and "critical" in problem for problem in auditor.problems)


def _tab_to(page: Any, name: str, limit: int = 120, *, prefix: bool = False) -> None:
    """Press Tab until the focused control is the one named (or whose name begins so)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "(document.activeElement.innerText || document.activeElement.value || '').trim()"
        )
        focused = " ".join(focused.split())
        if focused == name or (prefix and focused.startswith(name)):
            # The focused control shows where the keyboard is.
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"{name!r} has no visible focus"
            return
    seen = page.evaluate("[...document.querySelectorAll('.steps__link')].map(e => e.innerText)")
    raise AssertionError(f"{name!r} cannot be reached with the Tab key; steps: {seen}")


def test_the_intake_can_be_used_with_the_keyboard_alone(
    live_server: str, page: Any, auditor: Auditor
) -> None:
    billing = next(a for a in DEMO_ACCOUNTS if a.role == "billing")
    page.goto(f"{live_server}/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    page.keyboard.type(billing.email)
    page.keyboard.press("Tab")
    page.keyboard.type(billing.password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.rstrip("/") == live_server
    _tab_to(page, "Start a new case")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/cases/start")
    _tab_to(page, "Save and continue")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # Nothing typed: saved as a draft, and "Save and continue" goes on; the step
    # indicator marks the first step's problems, and takes the keyboard back to it.
    assert re.search(r"/drafts/\d+/indication$", page.url), page.url
    _tab_to(page, "1 Patient and coverage (", prefix=True)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # There the errors are announced and focused first.
    assert re.search(r"/drafts/\d+/patient$", page.url), page.url
    page.wait_for_function("document.activeElement.classList.contains('error-summary')")
    auditor(page, "keyboard-patient-errors")
    # The summary's first link takes the keyboard to the field.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    focused = page.evaluate("document.activeElement.id")
    assert focused.startswith(("patient-", "coverage-", "prescriber-")), focused
    assert not auditor.problems, auditor.problems
