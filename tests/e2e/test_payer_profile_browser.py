"""An administrator edits a payer profile in Chromium: a typo refused, the fix saved, its history.

The refusal shows the breadcrumb at the top of the page with what was typed kept in
the box; the saved version is listed in the history with its diff. Every page passes
the accessibility audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from e2e_support import Auditor
from journey import Journey


def test_an_admin_edit_refused_then_saved(
    live_server: str, page: Any, auditor: Auditor, tmp_path: Path
) -> None:
    journey = Journey(page, live_server, auditor, tmp_path)
    journey.login("admin", "admin-login")
    journey.open(f"{live_server}/admin/payers", "payers")
    auditor(page, "payers")
    journey.follow("Edit Guideline reference profile", "edit")
    auditor(page, "profile-edit")
    box = page.get_by_label("The profile (TOML)")
    shipped = box.input_value()
    typo = shipped.replace('version = "1"', 'version = "2"', 1).replace(
        "[dosing_weight]", "[dosing_wieght]", 1
    )
    box.fill(typo)
    page.get_by_label("What changed, and why").fill("The payer's update of 1 Dec 2026")
    journey.submit(journey.button("Check and save"), "typo", expected=422)
    summary = page.locator(".error-summary").inner_text()
    assert "dosing_wieght" in summary and "Nothing was saved" in summary, summary
    assert page.locator(".error-summary").is_visible()
    assert "[dosing_wieght]" in box.input_value()  # kept as typed
    auditor(page, "profile-refused")
    box.fill(typo.replace("[dosing_wieght]", "[dosing_weight]", 1))
    journey.submit(journey.button("Check and save"), "fixed")
    assert "/history" in page.url, page.url
    assert "version 2 is in effect" in page.locator("body").inner_text()
    auditor(page, "profile-history")
    assert not auditor.problems, "\n".join(auditor.problems)
