"""Uploads through Chromium: a 9.5 MB photo is attached, an 11 MB one comes back with the
limit named (issue 16: ordinary photos were refused as larger than 10 MB)."""

from __future__ import annotations

from typing import Any

from live_http import Client, noise_jpeg

from priorauth.store.seed import DEMO_ACCOUNTS

MB = 1024 * 1024


def test_a_photo_up_to_ten_megabytes_goes_in_and_a_larger_one_is_named(
    live_server: str, page: Any
) -> None:
    account = next(a for a in DEMO_ACCOUNTS if a.role == "billing")
    maker = Client(live_server)
    maker.log_in(account.email, account.password)
    case_id = maker.create_cidp_case()

    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/cases/{case_id}/attachments")

    photo = noise_jpeg(int(9.5 * MB))
    page.set_input_files(
        "#file", files=[{"name": "lab.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Attach the file").click()
    assert "File attached (JPEG" in page.locator(".flashes").inner_text()
    assert "lab.jpg" in page.locator("main").inner_text()

    large = noise_jpeg(11 * MB, seed=11)
    assert len(large) > 10.5 * MB
    page.set_input_files(
        "#file", files=[{"name": "big.jpg", "mimeType": "image/jpeg", "buffer": large}]
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Attach the file").click()
    flashes = page.locator(".flashes").inner_text()
    assert "larger than 10 MB, the limit per file" in flashes, flashes
    assert "big.jpg" not in page.locator("main").inner_text()
    assert not page.script_problems, page.script_problems
