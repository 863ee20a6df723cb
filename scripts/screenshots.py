"""Take the README's screenshots of the web app and page images of the example documents.

Run from the repository root with the project's virtualenv:

    .venv/bin/python scripts/screenshots.py

It makes a throwaway SQLite database in a temporary folder, migrates it, seeds
the demo accounts, serves the app on 127.0.0.1 (a free port) in a background
thread, and drives Debian's headless Chromium through Playwright: log in as the
demo billing user, choose CIDP, fill the intake form with the synthetic case in
examples/cidp-initial-qualifies.json, submit a deliberate mistake, fix it, and
open the assessment and the letter. Each page goes to docs/screenshots/ as a
full-page PNG. It then renders the example's letter and cost summary with the
`priorauth render` command and turns each PDF page into a PNG in
docs/documents/ with pdftoppm. The PNGs already in those two folders are
replaced. Nothing is downloaded and nothing outside those folders is kept.

Everything shown is synthetic. The app's "today" and the documents' date are
fixed to AS_OF so the images do not change with the calendar.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cidp-initial-qualifies.json"
SCREENSHOTS = ROOT / "docs" / "screenshots"
DOCUMENTS = ROOT / "docs" / "documents"

# The date the example case is judged on (the tests' day too).
AS_OF = dt.date(2026, 11, 20)
VIEWPORT_WIDTH, VIEWPORT_HEIGHT = 1280, 800  # a laptop
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PDF_DPI = 70
TIMEOUT_MS = 30_000
MAX_PNG_BYTES = 1_500_000  # warn above this: the README should stay light


class ScreenshotError(Exception):
    """A step did not show what it should; the message says which and why."""


# --- the throwaway app ----------------------------------------------------------------------


def prepare_database(folder: Path) -> str:
    """Create, migrate and seed a SQLite database in ``folder``; return its URL."""
    from priorauth.store import db, seed

    url = f"sqlite:///{folder / 'priorauth.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            seed.seed_demo(session)
    finally:
        engine.dispose()
    return url


@contextmanager
def serve(database_url: str) -> Iterator[str]:
    """Serve the app on 127.0.0.1 and a free port in a thread; yield its base URL."""
    from werkzeug.serving import make_server

    from priorauth.web import create_app

    app = create_app(
        {
            "SECRET_KEY": "screenshots-only-not-a-real-key",
            "PRIORAUTH_DATABASE_URL": database_url,
            "PRIORAUTH_TODAY": AS_OF,
            # Plain http on 127.0.0.1: a Secure cookie would depend on the browser's
            # leniency for localhost. CSRF stays on, as in a clinic.
            "SESSION_COOKIE_SECURE": False,
        }
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="priorauth-screenshots")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        state = app.extensions.get("priorauth")
        if state is not None:
            state.engine.dispose()


# --- driving the browser --------------------------------------------------------------------


def example_case() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    case: dict[str, Any] = data.get("case", data)
    return case  # a bare case, or an example wrapper around one


def example_formdata() -> list[tuple[str, str]]:
    """The intake form's field names and values for the example case."""
    from priorauth.web.intake import formdata_for_case

    return list(formdata_for_case(example_case()).items(multi=True))


def shoot(page: Any, name: str, taken: list[Path]) -> None:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    taken.append(path)
    print(f"  {path.relative_to(ROOT)}  ({path.stat().st_size // 1024} kB)  {page.title()}")


def expect_status(response: Any, expected: int, step: str) -> None:
    status = response.status if response is not None else None
    if status != expected:
        raise ScreenshotError(f"{step}: expected HTTP {expected}, got {status} at {response.url}")


def submit(page: Any, button: Any, expected: int, step: str) -> None:
    """Click a submit button and check the status of the page it lands on."""
    with page.expect_navigation() as navigation:
        button.click()
    expect_status(navigation.value, expected, step)
    page.wait_for_load_state("load")


def fill_field(page: Any, name: str, value: str) -> None:
    """Set one form control by its name, whatever kind of control it is."""
    controls = page.locator(f'[name="{name}"]')
    if controls.count() == 0:
        raise ScreenshotError(f"intake form: no field named {name!r}")
    kind = controls.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
    if kind == "input:hidden":
        return  # set by the page itself (form_request_type, version)
    if kind in ("input:radio", "input:checkbox"):
        option = page.locator(f'[name="{name}"][value="{value}"]')
        if option.count() == 0 and kind == "input:checkbox" and controls.count() == 1:
            option = controls  # a lone box (pregnant) posts "y"
        if option.count() != 1:
            raise ScreenshotError(f"intake form: {name!r} has no option {value!r}")
        option.check()
    elif kind.startswith("select"):
        controls.select_option(value)
    else:
        controls.fill(value)


def fill_intake(page: Any, step: str) -> None:
    """Fill the intake form with the example, adding therapy rows with the form's button."""
    pairs = example_formdata()
    therapy_rows = 1 + max(
        (int(name.split("-")[1]) for name, _ in pairs if name.startswith("prior_therapies-")),
        default=-1,
    )
    needs_row = [
        (n, v) for n, v in pairs if n.startswith("prior_therapies-") and not _on_page(page, n)
    ]
    for name, value in pairs:
        if (name, value) not in needs_row:
            fill_field(page, name, value)
    add = page.get_by_role("button", name="Add another therapy")
    while page.locator('[name$="-agent"][name^="prior_therapies-"]').count() < therapy_rows:
        before = page.locator('[name="patient-last_name"]').input_value()
        submit(page, add, 200, f"{step}: add another therapy")
        if page.locator('[name="patient-last_name"]').input_value() != before:
            raise ScreenshotError(f"{step}: adding a therapy row lost what was typed")
    for name, value in needs_row:
        fill_field(page, name, value)


def _console(message: Any, problems: list[str]) -> None:
    """Keep the browser's console errors, except the 422 the deliberate mistake causes."""
    if message.type == "error" and "status of 422" not in message.text:
        problems.append(f"console {message.type}: {message.text}")


def _on_page(page: Any, name: str) -> bool:
    return bool(page.locator(f'[name="{name}"]').count() > 0)


def drive(base_url: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from priorauth.store.seed import DEMO_ACCOUNTS

    billing = next(account for account in DEMO_ACCOUNTS if account.role == "billing")
    taken: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(
                viewport={"width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT},
                device_scale_factor=1,
                locale="en-US",
                timezone_id="UTC",
                color_scheme="light",
                reduced_motion="reduce",
            )
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
            page.on("console", lambda message: _console(message, problems))

            # 1. Login page.
            expect_status(page.goto(f"{base_url}/login"), 200, "login page")
            shoot(page, "01-login", taken)

            # 2. Dashboard, logged in as the demo billing user.
            page.fill('[name="email"]', billing.email)
            page.fill('[name="password"]', billing.password)
            submit(page, page.get_by_role("button", name="Log in"), 200, "log in")
            if page.url.rstrip("/") != base_url:
                raise ScreenshotError(f"log in: landed on {page.url}, not the dashboard")
            shoot(page, "02-dashboard", taken)

            # 3. Choose the indication: search for CIDP.
            page.get_by_role("link", name="Start a new case").click()
            page.wait_for_load_state("load")
            page.fill("#q", "CIDP")
            submit(page, page.get_by_role("button", name="Search"), 200, "search CIDP")
            if page.locator("#rt-cidp").count() != 1:
                raise ScreenshotError("choose page: searching 'CIDP' did not list CIDP")
            shoot(page, "03-choose-indication", taken)

            # 4. The intake form, filled with the example case.
            page.select_option("#rt-cidp", "initial")
            start = page.locator('form[aria-labelledby="ind-cidp"] button[type="submit"]')
            submit(page, start, 200, "start the CIDP case")
            fill_intake(page, "intake form")
            # No focus ring on the last field typed in: the picture is of the form.
            page.evaluate("document.activeElement && document.activeElement.blur()")
            shoot(page, "04-intake-form", taken)

            # 5. A deliberate mistake: weight 0 gives a field error and the summary.
            save = page.get_by_role("button", name="Save and check the case")
            weight = page.locator('[name="measurements-weight"]')
            good_weight = weight.input_value()
            weight.fill("0")
            submit(page, save, 422, "save with weight 0")
            if page.locator(".error-summary").count() != 1:
                raise ScreenshotError("weight 0: no error summary on the page")
            if page.locator("#measurements-weight-error").count() != 1:
                raise ScreenshotError("weight 0: no error beside the weight field")
            shoot(page, "05-intake-error", taken)

            # 6. Fixed and saved: the assessment.
            page.locator('[name="measurements-weight"]').fill(good_weight)
            submit(page, page.get_by_role("button", name="Save and check the case"), 200, "save")
            shoot(page, "06-assessment", taken)

            # 7. The letter page with its preview frame, and 8. the preview on its own.
            page.get_by_role("link", name="Preview the letter").click()
            page.wait_for_load_state("load")
            frame = page.frame_locator("iframe.letter-frame")
            frame.locator("body").wait_for()
            shoot(page, "07-letter-page", taken)
            preview_url = page.locator("iframe.letter-frame").get_attribute("src")
            expect_status(page.goto(f"{base_url}{preview_url}"), 200, "letter preview")
            shoot(page, "08-letter-preview", taken)

            if problems:
                print("  the browser reported:", *problems, sep="\n    ")
            context.close()
        finally:
            browser.close()
    return taken


# --- the documents --------------------------------------------------------------------------


def priorauth_command() -> list[str]:
    """The installed `priorauth` next to this interpreter, else `python -m priorauth`."""
    script = Path(sys.executable).parent / "priorauth"
    return [str(script)] if script.exists() else [sys.executable, "-m", "priorauth"]


def render_documents(folder: Path) -> list[Path]:
    """Render the example's letter and cost summary, then each PDF page to a PNG."""
    if shutil.which("pdftoppm") is None:
        raise ScreenshotError("pdftoppm not found: install poppler-utils")
    made: list[Path] = []
    for document in ("letter", "cost-summary"):
        pdf = folder / f"{document}.pdf"
        subprocess.run(
            [
                *priorauth_command(),
                "render",
                str(EXAMPLE.relative_to(ROOT)),
                "--document",
                document,
                "--as-of",
                AS_OF.isoformat(),
                "-o",
                str(pdf),
            ],
            cwd=ROOT,
            check=True,
        )
        subprocess.run(
            ["pdftoppm", "-png", "-r", str(PDF_DPI), str(pdf), str(DOCUMENTS / document)],
            check=True,
        )
        pages = sorted(DOCUMENTS.glob(f"{document}-*.png"), key=_page_number)
        if not pages:
            raise ScreenshotError(f"pdftoppm made no page images from {document}.pdf")
        for path in pages:
            print(f"  {path.relative_to(ROOT)}  ({path.stat().st_size // 1024} kB)")
        made.extend(pages)
    return made


def _page_number(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


# --- main -----------------------------------------------------------------------------------


def clear_pngs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-app", action="store_true", help="only the document pages")
    parser.add_argument("--skip-documents", action="store_true", help="only the app screenshots")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="priorauth-screenshots-") as temp:
        folder = Path(temp)
        # Keep the app's instance folder (secret key, database) out of the checkout.
        os.environ["PRIORAUTH_INSTANCE_PATH"] = str(folder / "instance")
        made: list[Path] = []
        try:
            if not args.skip_app:
                clear_pngs(SCREENSHOTS)
                print("screenshots of the app:")
                url = prepare_database(folder)
                with serve(url) as base_url:
                    made += drive(base_url)
            if not args.skip_documents:
                clear_pngs(DOCUMENTS)
                print("pages of the example documents:")
                made += render_documents(folder)
        except (ScreenshotError, subprocess.CalledProcessError) as error:
            print(f"screenshots: error: {error}", file=sys.stderr)
            return 1
    large = [path for path in made if path.stat().st_size > MAX_PNG_BYTES]
    for path in large:
        print(f"screenshots: warning: {path.relative_to(ROOT)} is large", file=sys.stderr)
    print(f"done: {len(made)} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
