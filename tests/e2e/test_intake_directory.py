"""A request in fewer interactions, in Chromium: the clinic's directory, steps that move.

The interaction count is what a person does: each field filled, each option
chosen, each click (login included), from the login page to the downloaded
letter. The counts are printed (run with ``-s`` to see them) beside the
targets the issue set, and asserted not to grow past what was measured.

Also here: a male patient never sees the pregnancy fields, choosing a dosing
phase fills the regimen, a start date in the year 3000 is refused beside its
field, a long paste stops at the field's limit, and every page visited passes
the accessibility audit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from e2e_support import Auditor, pdf_text

from priorauth.store.seed import DEMO_ACCOUNTS

# The targets of issue 12 (login → downloaded letter), printed beside each count and
# asserted: no change may add an interaction unnoticed.
CIDP_TARGET = 25
PI_TARGET = 28


class Counted:
    """Drives the page and counts what a person would do: fills, choices, clicks."""

    def __init__(self, page: Any, base: str, auditor: Auditor) -> None:
        self.page = page
        self.base = base
        self.auditor = auditor
        self.count = 0
        self.log: list[str] = []

    def _note(self, what: str) -> None:
        self.count += 1
        self.log.append(f"{self.count:2d} {what}")

    def named(self, name: str) -> Any:
        return self.page.locator(f'[name="{name}"]:not([type="hidden"])').first

    def fill(self, name: str, value: str) -> None:
        self.named(name).fill(value)
        self._note(f"fill {name}")

    def choose(self, name: str, value: str) -> None:
        control = self.named(name)
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            self.page.locator(f'[name="{name}"][value="{value}"]').check()
        self._note(f"choose {name}={value}")

    def click(self, locator: Any, what: str, *, status: int = 200) -> None:
        with self.page.expect_navigation() as navigation:
            locator.click()
        response = navigation.value
        assert response is not None and response.status == status, (what, response)
        self.page.wait_for_load_state("load")
        self._note(f"click {what}")
        self.auditor(self.page, what)

    def button(self, name: str) -> Any:
        return self.page.get_by_role("button", name=name, exact=True)

    def login(self, role: str) -> None:
        account = next(a for a in DEMO_ACCOUNTS if a.role == role)
        self.page.goto(f"{self.base}/login")
        self.page.get_by_label("Email").fill(account.email)
        self._note("fill email")
        self.page.get_by_label("Password").fill(account.password)
        self._note("fill password")
        self.click(self.button("Log in"), "log in")

    def download_letter(self, folder: Path) -> str:
        """From the case page, in one click (the preview is a click away, not on the way)."""
        with self.page.expect_download() as downloading:
            self.button("Download the letter (PDF)").click()
        self._note("click download")
        target = folder / "letter.pdf"
        downloading.value.save_as(str(target))
        text, _pages = pdf_text(target)
        return text


def _start_with_directory(run: Counted, first: str, sex: str) -> None:
    """Step 1 with the prescriber and payer on file: only the patient is typed. The clinic's
    one prescriber is chosen already (a second one on file makes it a choice)."""
    run.click(run.page.get_by_role("link", name="New case", exact=True), "new case")
    dana = _option(run.page, "directory-prescriber", "Dana Example")
    if run.named("directory-prescriber").input_value() != dana:
        run.choose("directory-prescriber", dana)
    run.choose("directory-payer", _option(run.page, "directory-payer", "Example Health Plan"))
    # The choices filled the prescriber and the payer at once, without a reload.
    assert run.named("prescriber-npi").input_value() == "1234567893"
    assert run.named("coverage-payer_profile").input_value() == "reference"
    run.fill("patient-first_name", first)
    run.fill("patient-last_name", "Testpatient")
    run.fill("patient-date_of_birth", "1968-04-12")
    run.choose("patient-sex", sex)
    run.fill("coverage-member_id", "EHP000123")
    run.click(run.button("Save and continue"), "save step 1")
    assert run.page.url.endswith("/indication"), run.page.url


def _option(page: Any, name: str, label_part: str) -> str:
    options = page.locator(f'select[name="{name}"] option')
    for index in range(options.count()):
        if label_part in options.nth(index).inner_text():
            return str(options.nth(index).get_attribute("value"))
    raise AssertionError(f"no {label_part!r} among the {name} options")


def _choose_indication(run: Counted, indication_id: str) -> None:
    """The prescriber's specialty's indications come first: one click, no search."""
    first = run.page.locator(".indication-group").first
    assert "For the prescriber's specialty" in first.inner_text(), first.inner_text()
    group = run.page.locator('section[aria-labelledby="group-1"]')
    assert group.locator(f"#ind-{indication_id}").is_visible()
    assert group.locator(".indication-list > li").count() < 15  # a short list, not all 32
    run.click(
        run.page.locator(f'form[aria-labelledby="ind-{indication_id}"] button[type="submit"]'),
        f"choose {indication_id}",
    )
    assert run.page.url.endswith("/questions"), run.page.url


def _finish(run: Counted, folder: Path) -> str:
    """The last step saves the case itself (the review is a click away, not on the way)."""
    run.click(run.button("Save the case"), "save the case")
    left = run.page.locator("main").inner_text()[:3000]
    assert re.search(r"/cases/\d+$", run.page.url), left
    return run.download_letter(folder)


def test_an_initial_cidp_request_by_a_clinic_with_its_directory(
    live_server: str, page: Any, auditor: Auditor, tmp_path: Path
) -> None:
    run = Counted(page, live_server, auditor)
    run.login("billing")
    _start_with_directory(run, "Avery", "male")
    _choose_indication(run, "cidp")
    # The only code is ticked already; the questions the criteria need.
    assert page.locator('[name="icd10_codes"][value="G61.81"]').is_checked()
    run.choose("answers-disease_course", "progressive")
    run.fill("answers-symptom_duration_months", "5")
    run.choose("answers-demyelination_on_electrodiagnostics", "yes")
    run.choose("answers-walking_compromised_or_disabled", "yes")
    run.fill("answers-incat_score_baseline-value", "4")
    run.fill("answers-incat_score_baseline-date", "2026-10-01")
    run.click(run.button("Save and continue"), "save the questions")
    # No CIDP criterion tests earlier treatments: the step is passed (still reachable).
    assert page.url.endswith("/measurements"), page.url
    # A male patient: no pregnancy question.
    assert page.locator("[data-pregnancy-fields]").is_hidden()
    run.fill("measurements-weight", "100")
    run.fill("measurements-height", "170")  # the reference profile doses on adjusted weight
    run.fill("measurements-measured_on", "2026-11-18")
    # The clinic's usual site and product, and the only initial phase, are filled in.
    assert run.named("site_of_care").input_value() == "infusion_center"
    assert run.named("regimen-product_id").input_value() == "privigen"
    assert run.named("regimen-phase").input_value() == "induction"
    assert run.named("regimen-dose_g_per_kg").input_value() == "2"
    assert run.named("regimen-courses_requested").input_value() == "1"
    run.fill("regimen-start_date", "2026-12-01")
    letter = _finish(run, tmp_path)
    assert "Avery Testpatient" in letter and "G61.81" in letter, letter[:400]
    print(
        f"\nInteractions, initial CIDP request (login → downloaded letter): {run.count} "
        f"(issue target {CIDP_TARGET})"
    )
    print("\n".join(run.log))
    assert not page.script_problems, page.script_problems
    assert not auditor.problems, "\n".join(auditor.problems)
    assert run.count <= CIDP_TARGET, f"{run.count} interactions (target {CIDP_TARGET})"


def _add_immunologist(page: Any, base: str, auditor: Auditor) -> None:
    """The clinic's immunologist goes on file once, from the directory page (not counted)."""
    setup = Counted(page, base, auditor)
    setup.login("billing")
    page.goto(f"{base}/directory")
    auditor(page, "directory")
    setup.click(page.get_by_role("link", name="Add a prescriber"), "add a prescriber")
    # Refused field by field, what was typed kept.
    setup.fill("name", "Kim Immuno")
    setup.fill("npi", "1234567890")
    setup.click(setup.button("Save"), "a wrong NPI", status=422)
    assert "check digit" in page.locator("#npi-error").inner_text()
    assert setup.named("name").input_value() == "Kim Immuno"
    setup.fill("npi", "1234567802")
    setup.fill("credentials", "MD")
    setup.choose("specialty", "clinical_immunology")
    setup.click(setup.button("Save"), "save the prescriber")
    assert "Kim Immuno" in page.locator("main").inner_text()
    page.context.clear_cookies()


def test_a_primary_immunodeficiency_request(
    live_server: str, page: Any, auditor: Auditor, tmp_path: Path
) -> None:
    _add_immunologist(page, live_server, auditor)
    run = Counted(page, live_server, auditor)
    run.login("billing")
    run.click(run.page.get_by_role("link", name="New case", exact=True), "new case")
    run.choose("directory-prescriber", _option(page, "directory-prescriber", "Kim Immuno"))
    run.choose("directory-payer", _option(page, "directory-payer", "Example Health Plan"))
    run.fill("patient-first_name", "Robin")
    run.fill("patient-last_name", "Testpatient")
    run.fill("patient-date_of_birth", "1990-02-03")
    run.choose("patient-sex", "female")
    run.fill("coverage-member_id", "EHP000456")
    run.click(run.button("Save and continue"), "save step 1")
    _choose_indication(run, "pid")
    run.choose("icd10_codes", "D83.9")
    run.fill("answers-igg_mg_dl-0-value", "310")
    run.fill("answers-igg_mg_dl-0-date", "2026-09-01")
    run.fill("answers-igg_mg_dl-1-value", "290")
    run.fill("answers-igg_mg_dl-1-date", "2026-10-15")
    run.choose("answers-pneumococcal_vaccine_response", "impaired")
    run.click(run.button("Save and continue"), "save the questions")
    assert page.url.endswith("/measurements"), page.url
    # A female patient: the pregnancy question is asked.
    assert page.locator("[data-pregnancy-fields]").is_visible()
    run.fill("measurements-weight", "60")
    run.fill("measurements-height", "165")
    run.fill("measurements-measured_on", "2026-11-18")
    # The only intravenous replacement phase is chosen and fills 0.4 g/kg, 1 day, 4 weeks.
    assert run.named("regimen-phase").input_value() == "replacement"
    assert run.named("regimen-interval_weeks").input_value() == "4"
    run.fill("regimen-months_requested", "12")
    run.fill("regimen-start_date", "2026-12-01")
    letter = _finish(run, tmp_path)
    assert "Robin Testpatient" in letter and "D83.9" in letter, letter[:400]
    print(
        f"\nInteractions, PI request (login → downloaded letter): {run.count} "
        f"(issue target {PI_TARGET})"
    )
    print("\n".join(run.log))
    assert not page.script_problems, page.script_problems
    assert not auditor.problems, "\n".join(auditor.problems)
    assert run.count <= PI_TARGET, f"{run.count} interactions (target {PI_TARGET})"


def test_questions_that_apply_and_dates_and_limits(
    live_server: str, page: Any, auditor: Auditor, tmp_path: Path
) -> None:
    """Male: no pregnancy fields; maintenance fills the regimen; year 3000 refused; a long
    paste stops at the limit; Back after saving lands on the case."""
    run = Counted(page, live_server, auditor)
    run.login("billing")
    _start_with_directory(run, "Sam", "male")
    run.page.locator("#rt-cidp").select_option("continuation")
    run.click(page.locator('form[aria-labelledby="ind-cidp"] button[type="submit"]'), "choose CIDP")
    run.click(run.button("Save and continue"), "questions")
    assert page.url.endswith("/measurements"), page.url  # no treatments asked: passed
    # A male patient never sees the pregnancy fields.
    assert page.locator("[data-pregnancy-fields]").is_hidden()
    assert not page.get_by_label("Pregnant").is_visible()
    assert not page.get_by_label("Pre-pregnancy weight").is_visible()
    # Choosing maintenance fills the dose per kg, the days and the interval (editable).
    run.choose("regimen-phase", "maintenance")
    assert run.named("regimen-dose_g_per_kg").input_value() == "1"
    assert run.named("regimen-days_per_course").input_value() == "1"
    assert run.named("regimen-interval_weeks").input_value() == "3"
    run.fill("regimen-days_per_course", "2")  # still editable
    # A start in the year 3000 is refused beside its field; an old weight is pointed out.
    run.fill("measurements-weight", "80")
    run.fill("measurements-height", "175")
    run.fill("measurements-measured_on", "2026-01-15")
    run.fill("regimen-start_date", "3000-01-01")
    run.fill("regimen-months_requested", "6")
    run.choose("site_of_care", "infusion_center")
    run.choose("regimen-product_id", "privigen")
    run.click(run.button("Save and continue"), "save with a start in 3000")
    assert page.url.endswith("/review"), page.url  # saved, and on: the step is marked
    assert "still to fix" in page.locator(".flashes").inner_text()
    marked = page.locator(".steps__item--problems").inner_text()
    assert "Measurements, safety and regimen" in marked, marked
    summary = page.locator(".error-summary").inner_text()
    assert "Start date" in summary and "check the year" in summary, summary
    page.locator(".error-summary a", has_text="Start date").click()
    page.wait_for_load_state("load")
    assert "/measurements" in page.url, page.url
    message = page.locator("#regimen-start_date-error").inner_text()
    assert "more than 12 months ahead" in message, message
    assert run.named("regimen-start_date").input_value() == "3000-01-01"  # kept as typed
    assert "weigh the patient again" in page.locator("main").inner_text()
    auditor(page, "start date refused")
    run.fill("regimen-start_date", "2026-12-01")
    run.click(run.button("Save and continue"), "save a real start date")
    # A 5,000-character paste stops at the summary's 4,000 (the limit is shown).
    summary_box = page.get_by_role("textbox", name="Clinical summary")
    assert "At most 4,000 characters" in page.locator("main").inner_text()
    summary_box.fill("x" * 5000)
    assert len(summary_box.input_value()) == 4000
    summary_box.fill("Stable on maintenance.")
    run.click(run.button("Save the case"), "save the case")
    case_url = page.url
    assert re.search(r"/cases/\d+$", case_url), page.locator("main").inner_text()[:2000]
    # Back after saving: the draft's page now leads to the saved case.
    page.go_back()
    page.wait_for_load_state("load")
    assert page.url == case_url, page.url
    assert "another organization" not in page.locator("main").inner_text()
    assert not page.script_problems, page.script_problems
    assert not auditor.problems, "\n".join(auditor.problems)
