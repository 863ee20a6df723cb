"""Take the README's screenshots of the web app and page images of the example documents.

Run from the repository root with the project's virtualenv:

    .venv/bin/python scripts/screenshots.py

It makes a throwaway SQLite database in a temporary folder, migrates it, seeds
the demo accounts, serves the app on 127.0.0.1 (a free port) in a background
thread, and drives Debian's headless Chromium through Playwright along the same
journey the end-to-end test checks (tests/e2e/journey.py): billing staff create
a CIDP case step by step and download the letter, the physician signs, billing
records the submission and the denial, the advocate records the denial notice,
attaches records and produces the appeal and the packet; the appeal is signed,
submitted and approved, and billing starts the renewal. The steps named in
SHOTS go to docs/screenshots/ as full-page PNGs at a laptop's width, and two
more at a tablet's. It then renders the example's cost summary with the
`priorauth render` command and turns each PDF page into a PNG in docs/documents/
with pdftoppm (the letter's pages come from scripts/document_images.py). The PNGs
already in those two folders are replaced. Nothing is downloaded and nothing
outside those folders is kept.

Everything shown is synthetic. The app's "today" and the documents' date are
fixed to AS_OF so the images do not change with the calendar.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The journey and the live server are the end-to-end tests' own.
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from e2e_support import (  # noqa: E402
    AS_OF,
    EXAMPLE,
    LAPTOP,
    TABLET,
    chromium_problem,
    launch,
    new_page,
    prepare_database,
    serve,
)
from journey import Journey  # noqa: E402

SCREENSHOTS = ROOT / "docs" / "screenshots"
DOCUMENTS = ROOT / "docs" / "documents"
PDF_DPI = 70
MAX_PNG_BYTES = 1_500_000  # warn above this: the README should stay light

# The journey's checkpoints that become pictures, with the README's caption.
SHOTS = {
    "01-login": "The login page.",
    "02-dashboard": "Billing staff's dashboard before any case exists: the work queue and "
    "“Start a new case”.",
    "03-step-patient": "Step 1 of the guided intake: patient, coverage and prescriber. The "
    "step indicator shows where you are; every step is saved as a draft.",
    "04-step-indication": "Step 2: the indication, found by searching “CIDP” (a name or an "
    "ICD-10-CM code).",
    "05-step-questions": "Step 3: the diagnosis code and what the payer asks about CIDP; the "
    "readiness checklist waits for the weight and regimen.",
    "06-step-therapies": "Step 4: two prior therapies (the second row added with “Add another "
    "therapy”).",
    "07-step-measurements": "Step 5: weight in pounds, height in feet and inches, product and "
    "regimen. The checklist beside the form turned to “Ready to submit” as the fields were "
    "filled in, without a reload: every criterion met, 160 g per course, 40 g a day in one "
    "40 g vial.",
    "08-review": "Step 6: the review of every answer, with a link to change each step, and "
    "the clinical summary.",
    "09-case": "The saved case: its workflow, the assessment of every criterion, the dose.",
    "10-letter": "The letter page: the preview and “Download the PDF”.",
    "11-physician-queue": "The physician's dashboard: the letter waiting for their signature.",
    "12-sign": "Signing: the letter, the attestation, and the password asked again.",
    "13-record-denial": "Billing records the payer's denial and its appeal deadline.",
    "14-advocate-queue": "The advocate's dashboard: the denial and the days left to appeal.",
    "15-denial-notice": "The advocate records the denial notice: its reasons (step therapy "
    "not met), the reviewer's words, the level of appeal and the deadline.",
    "16-appeal": "The appeal page: the denial, the deadline, the documents to make and the "
    "appeal letter's preview.",
    "17-upload-refused": "A damaged PDF is refused with the reason; the case is unchanged.",
    "18-attachments": "The attachments: the nerve conduction study and the denial notice "
    "attached, the enclosures checklist, the fax packet.",
    "19-search": "Search by patient name or payer reference (posted, never in the URL).",
    "20-case-history": "The case page after the denial: every document with its state (the "
    "signed letter superseded by the denial, the appeal, the packet) and the history of "
    "who did what and when.",
    "21-approved": "The appeal approved: the authorization, its units and dates.",
    "22-continuation": "“Start a continuation”: the renewal starts from the approved case, "
    "the baseline INCAT carried over and only the new measures left to fill in.",
}
TABLET_SHOTS = {
    "23-tablet-measurements": "At a tablet's width (820 px): the continuation's weight and "
    "regimen step, the checklist above the form.",
    "24-tablet-case": "At a tablet's width: the case page.",
}
POLICY_SHOTS = {
    "25-payer-profile-refused": "An administrator edits a payer profile in the app: a typo "
    "is refused with the breadcrumb `forms check` gives, the text kept, nothing saved.",
    "26-payer-profile-history": "The profile saved as a new version (raised, with a stricter "
    "CIDP criterion and the reason): its history, with what each version changed.",
}
# The edit the policy pictures make: the reference profile's version raised, and a CIDP
# criterion made stricter (a demonstration, not a payer's rule).
STRICTER = """
[[overrides]]
indication = "cidp"
criterion = "duration_2_months"
set = { value = 12, title = "Course of at least 12 months" }
source = "a demonstration edit (not a payer's rule)"
as_of = "2026-11-20"
"""


class ScreenshotError(Exception):
    """A step did not show what it should; the message says which and why."""


def shoot(page: Any, name: str, taken: list[Path]) -> None:
    path = SCREENSHOTS / f"{name}.png"
    # Chromium does not paint an iframe that lies below the viewport into a full-page
    # capture (the appeal's preview came out blank): make the viewport as tall as the
    # page first, then put it back.
    size = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    page.wait_for_timeout(250)
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    page.set_viewport_size(size)
    taken.append(path)
    print(f"  {path.relative_to(ROOT)}  ({path.stat().st_size // 1024} kB)  {page.title()}")


def drive(base_url: str, downloads: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    taken: list[Path] = []

    def checkpoint(page: Any, name: str) -> None:
        if name in SHOTS:
            # No focus ring on the last field typed in, and from the top: the picture is
            # of the page (a sticky checklist would otherwise sit where it was scrolled).
            page.evaluate(
                "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)"
            )
            shoot(page, name, taken)

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = new_page(browser, LAPTOP)
            journey = Journey(page, base_url, checkpoint, downloads)
            try:
                journey.run()
            except AssertionError as error:
                raise ScreenshotError(f"the journey stopped at {page.url}: {error}") from error
            page.context.close()

            tablet = new_page(browser, TABLET)
            other = Journey(tablet, base_url, lambda _page, _name: None, downloads)
            other.login("billing", "tablet-dashboard")
            continuation = tablet.get_by_role("link", name="Continue:").first
            href = continuation.get_attribute("href") or ""
            step = href.rsplit("/", 1)[0] + "/measurements"
            other.open(f"{base_url}{step}", "the continuation's measurements")
            shoot(tablet, "23-tablet-measurements", taken)
            other.open(journey.case_url, "the case page")
            shoot(tablet, "24-tablet-case", taken)
            tablet.context.close()

            admin = new_page(browser, LAPTOP)
            policy = Journey(admin, base_url, lambda _page, _name: None, downloads)
            policy_pictures(policy, base_url, taken)
            admin.context.close()
        finally:
            browser.close()
    return taken


def policy_pictures(journey: Any, base_url: str, taken: list[Path]) -> None:
    """An admin's edit of a payer profile refused, then saved (the journey's one case is
    approved far from renewal, so no case is in play for the re-check queue to show)."""
    page = journey.page
    journey.login("admin", "admin-dashboard")
    journey.open(f"{base_url}/admin/payers/reference/edit", "the profile's edit page")
    box = page.get_by_label("The profile (TOML)")
    shipped = box.input_value()
    raised = shipped.replace('version = "1"', 'version = "2"', 1)
    box.fill(raised.replace("[dosing_weight]", "[dosing_wieght]", 1))
    page.get_by_label("What changed, and why").fill("The payer's policy update of 1 Dec 2026")
    journey.submit(journey.button("Check and save"), "a typo", expected=422)
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "25-payer-profile-refused", taken)
    box.fill(raised + STRICTER)
    journey.submit(journey.button("Check and save"), "the edit saved")
    page.locator("details").first.evaluate("d => d.open = true")
    shoot(page, "26-payer-profile-history", taken)


# --- the documents --------------------------------------------------------------------------


def priorauth_command() -> list[str]:
    """The installed `priorauth` next to this interpreter, else `python -m priorauth`."""
    script = Path(sys.executable).parent / "priorauth"
    return [str(script)] if script.exists() else [sys.executable, "-m", "priorauth"]


def render_documents(folder: Path) -> list[Path]:
    """Render the example's cost summary, then each PDF page to a PNG."""
    if shutil.which("pdftoppm") is None:
        raise ScreenshotError("pdftoppm not found: install poppler-utils")
    made: list[Path] = []
    for document in ("cost-summary",):
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
        pages = sorted(DOCUMENTS.glob(f"{document}-[0-9]*.png"), key=_page_number)
        if not pages:
            raise ScreenshotError(f"pdftoppm made no page images from {document}.pdf")
        for path in pages:
            print(f"  {path.relative_to(ROOT)}  ({path.stat().st_size // 1024} kB)")
        made.extend(pages)
    return made


def _page_number(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


# --- main -----------------------------------------------------------------------------------


def clear_pngs(folder: Path, patterns: tuple[str, ...] = ("*.png",)) -> None:
    """Remove the pictures this script makes (docs/documents also holds others')."""
    folder.mkdir(parents=True, exist_ok=True)
    for pattern in patterns:
        for old in folder.glob(pattern):
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
                problem = chromium_problem()
                if problem is not None:
                    raise ScreenshotError(problem)
                clear_pngs(SCREENSHOTS)
                print("screenshots of the app:")
                url = prepare_database(folder)
                downloads = folder / "downloads"
                downloads.mkdir()
                with serve(url, folder / "instance") as base_url:
                    made += drive(base_url, downloads)
            if not args.skip_documents:
                # Only its own pages: scripts/document_images.py makes the others.
                clear_pngs(DOCUMENTS, ("cost-summary-[0-9]*.png",))
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
