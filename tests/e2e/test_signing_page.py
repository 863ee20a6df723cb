"""The signing page at a laptop's size, in Chromium: the letter at full width, the refusal on top.

At 1,280 × 800 the letter's frame spans the page's content width and is tall enough to
read a page at a time, with a link to the full-size view; the warnings and safety flags
sit beside the attestation; a signature posted without "I have read the letter" shows
the error summary at the top, in view, listing what to fix. Axe finds nothing serious.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Auditor, prepare_database, serve
from sqlalchemy import select

from priorauth.store import db
from priorauth.store.models import User
from priorauth.store.seed import DEMO_ACCOUNTS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from web_helpers import build_case


@pytest.fixture(scope="module")
def ready_case(chromium_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("signing")
    url = prepare_database(folder)
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            people = {
                a.role: session.scalars(select(User).where(User.email == a.email)).one()
                for a in DEMO_ACCOUNTS
            }
            record = build_case(
                session,
                organization_id=people["billing"].organization_id,
                creator_id=people["billing"].id,
                signer=people["physician"],
                setup="ready",
            )
            case_id = record.id
    finally:
        engine.dispose()
    with serve(url, folder / "instance") as base_url:
        yield base_url, case_id


def test_the_letter_at_full_width_and_the_refusal_at_the_top(
    ready_case: Any, page: Any, auditor: Auditor
) -> None:
    base, case_id = ready_case
    account = next(a for a in DEMO_ACCOUNTS if a.role == "physician")
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()
    page.goto(f"{base}/cases/{case_id}/sign")
    auditor(page, "sign page")

    frame = page.locator("iframe.letter-frame").bounding_box()
    main = page.locator("main").bounding_box()
    assert frame is not None and main is not None
    # The frame spans the content column (less its padding) and shows a page at a time.
    assert frame["width"] >= main["width"] - 80, (frame, main)
    assert frame["height"] >= 1000, frame
    assert page.get_by_role("link", name="Open the letter at full size in a new tab").count() == 1

    # The warnings and safety flags sit beside the attestation at this width.
    before = page.locator("#before-signing").bounding_box()
    signature = page.locator("section[aria-labelledby='attest-title']").bounding_box()
    assert before is not None and signature is not None
    assert abs(before["y"] - signature["y"]) < 5 and before["x"] < signature["x"]

    # Signed without confirming: the summary is at the top, in view, and names the fix.
    page.get_by_label("Your password").fill(account.password)
    if page.get_by_label("I have read the warnings", exact=False).count():
        page.get_by_label("I have read the warnings", exact=False).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Sign the letter", exact=True).click()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    box = summary.bounding_box()
    assert box is not None and 0 <= box["y"] < 800, box  # in the viewport
    assert "read" in summary.inner_text().lower(), summary.inner_text()
    auditor(page, "sign refused")
    assert not auditor.problems, "\n".join(auditor.problems)
