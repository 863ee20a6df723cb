"""The API tokens page in Chromium: a token made, shown once, used, revoked; the API docs page.

The browser's own session never opens the API (its cookie is removed on the
way in): a fetch from the logged-in page answers 401, while the token shown on
the page, sent as a bearer header, answers 200 until it is revoked. Each page
passes the accessibility audit.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from e2e_support import Auditor
from journey import Journey


def _status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            json.loads(response.read())
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_token_is_made_shown_once_used_and_revoked(
    live_server: str, page: Any, auditor: Auditor, tmp_path: Path
) -> None:
    journey = Journey(page, live_server, auditor, tmp_path)
    journey.login("billing", "tokens-login")
    journey.follow("API tokens", "tokens page")
    auditor(page, "tokens-empty")

    # An empty name is refused beside the field.
    journey.submit(journey.button("Make the token"), "empty name", expected=422)
    assert "Give the token a name" in page.locator("#token-name-error").inner_text()

    page.get_by_label("Name").fill("Practice EHR")
    page.get_by_label("Expires after").select_option("30")
    journey.submit(journey.button("Make the token"), "make a token", expected=201)
    auditor(page, "tokens-made")
    secret = page.locator("code.token-secret").inner_text().strip()
    assert secret.startswith("pa_")

    cases = f"{live_server}/api/v1/cases"
    assert _status(cases, secret) == 200
    # The page's own session cookie does not reach the API.
    from_page = page.evaluate("url => fetch(url).then(r => r.status)", cases)
    assert from_page == 401

    journey.open(f"{live_server}/account/tokens", "tokens page again")
    assert secret not in page.content()  # shown once
    assert "Practice EHR" in page.locator("table").inner_text()
    journey.submit(journey.button("Revoke"), "revoke")
    assert "revoked" in page.locator("body").inner_text()
    assert _status(cases, secret) == 401

    journey.open(f"{live_server}/api/v1/docs", "API docs page")
    assert "GET /api/v1/cases" in page.locator("table").inner_text()
    auditor(page, "api-docs")

    # The one 401 is the page's own fetch above, refused as it should be.
    problems = [p for p in page.script_problems if "status of 401" not in p]
    assert not problems, problems
    assert not auditor.problems, "accessibility (axe, serious or critical):\n" + "\n".join(
        auditor.problems
    )
