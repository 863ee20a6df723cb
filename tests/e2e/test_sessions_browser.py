"""In a real browser: a password change ends the other browser's session, and a cookie
copied into a third browser before logout is refused after it.
"""

from __future__ import annotations

import re
from typing import Any

from e2e_support import LAPTOP, Auditor, new_page

from priorauth.store.seed import DEMO_ACCOUNTS

ADVOCATE = next(a for a in DEMO_ACCOUNTS if a.role == "advocate")
BILLING = next(a for a in DEMO_ACCOUNTS if a.role == "billing")
NEW_PASSWORD = "violet-anchor-river-tundra-42"


def _log_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def test_changing_the_password_ends_the_other_browsers_session(
    live_server: str, browser: Any, auditor: Auditor
) -> None:
    here, elsewhere = new_page(browser, LAPTOP), new_page(browser, LAPTOP)
    try:
        _log_in(here, live_server, ADVOCATE.email, ADVOCATE.password)
        _log_in(elsewhere, live_server, ADVOCATE.email, ADVOCATE.password)
        here.get_by_role("link", name="Password").click()
        here.wait_for_url(f"{live_server}/account/password")
        auditor(here, "password change")
        # A weak password first: refused beside the field, nothing changed.
        here.get_by_label("Current password").fill(ADVOCATE.password)
        here.get_by_label(re.compile(r"^New password( \(needed\))?$")).fill("password1234")
        here.get_by_label("New password again").fill("password1234")
        here.get_by_role("button", name="Change the password").click()
        assert "too easy to guess" in here.locator("main").inner_text()
        here.get_by_label("Current password").fill(ADVOCATE.password)
        here.get_by_label(re.compile(r"^New password( \(needed\))?$")).fill(NEW_PASSWORD)
        here.get_by_label("New password again").fill(NEW_PASSWORD)
        here.get_by_role("button", name="Change the password").click()
        here.wait_for_url(f"{live_server}/")
        assert "Your password is changed" in here.locator("main").inner_text()
        elsewhere.reload()
        assert "/login" in elsewhere.url
        assert "Your session has ended" in elsewhere.locator("main").inner_text()
        assert not auditor.problems, auditor.problems
    finally:
        here.context.close()
        elsewhere.context.close()


def test_a_cookie_copied_before_logout_is_refused_after_it(live_server: str, browser: Any) -> None:
    original, thief = new_page(browser, LAPTOP), new_page(browser, LAPTOP)
    try:
        _log_in(original, live_server, BILLING.email, BILLING.password)
        thief.context.add_cookies(original.context.cookies())
        thief.goto(f"{live_server}/")
        assert thief.url == f"{live_server}/"  # the copy works while the session lives
        original.get_by_role("button", name="Log out").click()
        original.wait_for_url(f"{live_server}/login")
        thief.goto(f"{live_server}/")
        assert "/login" in thief.url
    finally:
        original.context.close()
        thief.context.close()
