"""One request from intake to appeal, in a real browser: the end-to-end test and the screenshots.

Billing staff log in and create a CIDP case step by step (two prior therapies,
the weight in pounds, the height in feet and inches), watch the readiness
checklist turn complete without a reload, and download the letter; they send it
for signature; the physician logs in and signs (password again); billing
records the submission and the payer's denial; the advocate records the denial
notice, attaches the records, and produces the appeal, the peer-to-peer sheet
and the fax packet. Then the appeal goes round (signed, submitted, approved)
and billing starts the renewal from the approved case.

Every page the browser lands on passes through ``checkpoint(page, name)``: the
test runs the accessibility audit there, the screenshot script takes a picture.
Each step checks what it should see and raises AssertionError otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from e2e_support import ATTACHMENTS, EXAMPLE, pdf_text

from priorauth.store.seed import DEMO_ACCOUNTS
from priorauth.web.intake import formdata_for_case

Checkpoint = Callable[[Any, str], None]

DENIAL_REASON = (
    "Step therapy not met: the plan requires an adequate trial of corticosteroids before IVIG."
)
PAYER_REFERENCE = "EHP-PA-2026-1120"


def example_pairs() -> list[tuple[str, str]]:
    """The intake form's fields and values for the synthetic CIDP example."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return list(formdata_for_case(data.get("case", data)).items(multi=True))


class Journey:
    def __init__(self, page: Any, base_url: str, checkpoint: Checkpoint, downloads: Path) -> None:
        self.page = page
        self.base = base_url
        self.checkpoint = checkpoint
        self.downloads = downloads
        self.case_id: int | None = None
        self.pairs = example_pairs()
        # Every page the browser's main frame lands on (the test checks each was audited).
        self.visited: list[str] = []
        page.on("framenavigated", self._navigated)
        self.texts: dict[str, str] = {}

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.visited.append(frame.url)

    # --- small helpers ---------------------------------------------------------------------

    @property
    def case_url(self) -> str:
        return f"{self.base}/cases/{self.case_id}"

    def expect_status(self, response: Any, expected: int, step: str) -> None:
        status = response.status if response is not None else None
        assert status == expected, f"{step}: expected HTTP {expected}, got {status}"

    def submit(self, button: Any, step: str, expected: int = 200) -> None:
        """Press a button that loads a page, and check the status of the page it lands on."""
        with self.page.expect_navigation() as navigation:
            button.click()
        self.expect_status(navigation.value, expected, step)
        self.page.wait_for_load_state("load")

    def button(self, name: str) -> Any:
        return self.page.get_by_role("button", name=name, exact=True)

    def link(self, name: str) -> Any:
        return self.page.get_by_role("link", name=name, exact=True)

    def follow(self, name: str, step: str) -> None:
        with self.page.expect_navigation() as navigation:
            self.link(name).first.click()
        self.expect_status(navigation.value, 200, step)
        self.page.wait_for_load_state("load")

    def open(self, url: str, step: str) -> None:
        self.expect_status(self.page.goto(url), 200, step)

    def fill(self, name: str, value: str) -> None:
        """Set one form control by its name, whatever kind of control it is."""
        controls = self.page.locator(f'[name="{name}"]:not([type="hidden"])')
        assert controls.count() > 0, f"no field named {name!r} on {self.page.url}"
        kind = controls.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind in ("input:radio", "input:checkbox"):
            option = self.page.locator(f'[name="{name}"][value="{value}"]')
            if option.count() == 0 and kind == "input:checkbox" and controls.count() == 1:
                option = controls
            assert option.count() == 1, f"{name!r} has no option {value!r}"
            option.check()
        elif kind.startswith("select"):
            controls.select_option(value)
        else:
            controls.fill(value)

    def fill_example(self, *prefixes: str, skip: tuple[str, ...] = ()) -> None:
        for name, value in self.pairs:
            if name.startswith(prefixes) and name not in skip:
                self.fill(name, value)

    def download(self, button: Any, name: str) -> tuple[str, int]:
        """Press a button whose answer is a PDF download; return the PDF's text and pages."""
        with self.page.expect_download() as downloading:
            button.click()
        download = downloading.value
        target = self.downloads / name
        download.save_as(str(target))
        # No patient data in the file name the browser keeps.
        assert "Testpatient" not in download.suggested_filename, download.suggested_filename
        return pdf_text(target)

    def preview_shown(self) -> None:
        """Wait until the document preview frame shows its document, not the blank page."""
        frame = self.page.frame_locator("iframe.letter-frame")
        frame.locator(":is(h1, h2, h3)").first.wait_for(state="visible")

    def state_is(self, label: str) -> None:
        state = self.page.locator("#workflow-title .state")
        assert label in state.inner_text(), f"state: {state.inner_text()!r}, expected {label!r}"

    # --- the people -----------------------------------------------------------------------

    def login(self, role: str, name: str) -> None:
        account = next(a for a in DEMO_ACCOUNTS if a.role == role)
        if not self.page.url.endswith("/login"):
            self.open(f"{self.base}/login", "login page")
        self.page.get_by_label("Email").fill(account.email)
        self.page.get_by_label("Password").fill(account.password)
        self.submit(self.button("Log in"), f"log in as {role}")
        assert self.page.url.rstrip("/") == self.base, f"log in: landed on {self.page.url}"
        self.checkpoint(self.page, name)

    def logout(self) -> None:
        self.submit(self.button("Log out"), "log out")
        assert self.page.url.endswith("/login")

    # --- the steps ------------------------------------------------------------------------

    def run(self, *, renewal: bool = True) -> None:
        self.open(f"{self.base}/login", "login page")
        self.checkpoint(self.page, "01-login")
        self.login("billing", "02-dashboard")
        self.intake()
        self.letter()
        self.send_for_signature()
        self.logout()
        self.login("physician", "11-physician-queue")
        self.sign("12-sign")
        self.logout()
        self.login("billing", "billing-dashboard")
        self.submit_and_deny()
        self.logout()
        self.login("advocate", "14-advocate-queue")
        self.record_denial()
        self.attachments()
        self.appeal_documents()
        self.search()
        self.case_page()
        if renewal:
            self.appeal_to_renewal()

    def intake(self) -> None:
        page = self.page
        self.follow("Start a new case", "start a new case")
        self.fill_example("patient-", "coverage-", "prescriber-")
        self.checkpoint(page, "03-step-patient")
        self.submit(self.button("Save and continue"), "save the patient step")
        assert re.search(r"/drafts/\d+/indication$", page.url), page.url
        self.checkpoint(page, "step-indication-all")

        page.get_by_label("Find an indication by name or ICD-10-CM code").fill("CIDP")
        self.submit(self.button("Search"), "search CIDP")
        assert page.locator("#ind-cidp").count() == 1, "searching 'CIDP' did not list CIDP"
        self.checkpoint(page, "04-step-indication")
        page.locator("#rt-cidp").select_option("initial")
        self.submit(
            page.locator('form[aria-labelledby="ind-cidp"] button[type="submit"]'),
            "choose CIDP",
        )
        assert page.url.endswith("/questions"), page.url

        self.fill_example("icd10_codes", "answers-")
        self.checkpoint(page, "05-step-questions")
        self.submit(self.button("Save and continue"), "save the questions")
        # No CIDP criterion tests earlier treatments, so "Save and continue" passes the
        # step; the step indicator reaches it, for a letter that lists them.
        assert page.url.endswith("/measurements"), page.url
        # Opened by its address (the step indicator's button would save this step first,
        # still empty, and its problems would then show when it is opened again).
        self.open(page.url.removesuffix("/measurements") + "/therapies", "the therapies step")

        # Two prior therapies: the first row, "add another", the second row.
        self.fill_example("prior_therapies-0-")
        self.submit(self.button("Add another therapy"), "add a therapy row")
        assert page.locator('[name="prior_therapies-0-agent"]').input_value() == "Prednisone"
        self.fill_example("prior_therapies-1-")
        self.checkpoint(page, "06-step-therapies")
        self.submit(self.button("Save and continue"), "save the therapies")
        assert page.url.endswith("/measurements"), page.url
        self.measurements()

    def measurements(self) -> None:
        page = self.page
        status = page.locator("#readiness-status")
        assert "Not checked yet" in status.inner_text(), status.inner_text()
        # The checklist must change on this very page: mark it, and count navigations.
        page.evaluate("window.__journeyMarker = 'this page'")
        navigations = len(self.visited)
        url = page.url
        self.fill_example(
            "measurements-",
            "regimen-",
            "site_of_care",
            skip=("measurements-height", "measurements-height_unit", "measurements-weight"),
        )
        self.fill("measurements-weight", "220")
        self.fill("measurements-weight_unit", "lb")
        self.fill("measurements-height_unit", "ft_in")
        assert page.locator('[data-height-mode="single"]').is_hidden()
        page.get_by_label("Feet (ft + in)").fill("5")
        page.get_by_label("Inches (ft + in)").fill("7")
        page.locator("#readiness-status").filter(has_text="Ready to submit").wait_for()
        assert page.evaluate("window.__journeyMarker") == "this page", "the page reloaded"
        assert len(self.visited) == navigations and page.url == url, "the page reloaded"
        body = page.locator("#readiness-body").inner_text()
        assert "160 g per course" in body, body
        assert "vial" in body, body
        assert page.locator("#readiness .status--met").count() >= 5
        self.checkpoint(page, "07-step-measurements")
        self.submit(self.button("Save and continue"), "save the measurements")
        assert page.url.endswith("/review"), page.url

        assert "Ready to submit" in page.locator("#readiness-status").inner_text()
        self.checkpoint(page, "08-review")
        summary = dict(self.pairs)["clinical_summary"]
        page.get_by_role("textbox", name="Clinical summary").fill(summary)
        self.submit(self.button("Save the case"), "save the case")
        match = re.search(r"/cases/(\d+)$", page.url)
        assert match, page.url
        self.case_id = int(match.group(1))
        self.state_is("Draft")
        assert "Ready to submit" in page.locator("#verdict-title").inner_text()
        self.checkpoint(page, "09-case")

    def letter(self) -> None:
        page = self.page
        self.follow("Preview the letter", "the letter page")
        self.preview_shown()
        self.checkpoint(page, "10-letter")
        text, _pages = self.download(self.button("Download the PDF"), "letter.pdf")
        for words in ("Avery Testpatient", "G61.81", "Prednisone", "Plasma exchange", "160 g"):
            assert words in text, f"the letter PDF lacks {words!r}"
        self.texts["letter"] = text

    def send_for_signature(self) -> None:
        page = self.page
        self.open(self.case_url, "the case page")
        self.checkpoint(page, "case-before-signature")
        self.submit(self.button("Send to the physician for signature"), "send for signature")
        self.state_is("Ready for signature")
        self.checkpoint(page, "case-ready-for-signature")
        # The advocate will prepare any appeal: assign them now.
        page.get_by_label("Assign").select_option(label="Ari Advocate (Patient advocate)")
        self.submit(self.button("Assign"), "assign the advocate")
        assert "Ari Advocate" in page.locator(".workflow").inner_text()
        self.checkpoint(page, "case-assigned")

    def sign(self, name: str) -> None:
        page = self.page
        queue = page.locator("#queue-to_sign").locator("xpath=..")
        assert f"Case {self.case_id}" in queue.inner_text(), queue.inner_text()
        self.open(self.case_url, "the case, as the physician")
        self.checkpoint(page, f"{name}-case")
        self.follow("Read and sign the letter", "the signing page")
        self.preview_shown()
        self.checkpoint(page, name)
        physician = next(a for a in DEMO_ACCOUNTS if a.role == "physician")
        page.locator("#read_it").check()
        # Warnings and serious safety flags are acknowledged when the page lists them.
        for box in ("#acknowledge", "#for_prescriber"):
            if page.locator(box).count():
                page.locator(box).check()
        page.get_by_label("Your password").fill(physician.password)
        heading = page.get_by_role("heading", level=1).inner_text()
        self.submit(self.button(heading.replace("Read and sign", "Sign")), "sign")
        self.state_is("Signed")
        self.checkpoint(page, f"{name}-signed")

    def submit_and_deny(self) -> None:
        page = self.page
        self.open(self.case_url, "the case, to submit")
        self.checkpoint(page, "case-signed")
        self.follow("Record the submission to the payer", "the submission form")
        page.get_by_label("How it was sent").select_option("fax")
        page.get_by_label("Payer's reference number").fill(PAYER_REFERENCE)
        self.checkpoint(page, "record-submission")
        self.submit(self.button("Record the submission to the payer"), "record the submission")
        self.state_is("Submitted")
        self.checkpoint(page, "case-submitted")
        self.follow("Record a denial", "the denial outcome form")
        page.get_by_label("The payer's reason").fill(DENIAL_REASON)
        page.get_by_label("Appeal deadline").fill("2027-05-19")
        self.checkpoint(page, "13-record-denial")
        self.submit(self.button("Record a denial"), "record the denial")
        self.state_is("Denied")

    def record_denial(self) -> None:
        page = self.page
        queue = page.locator("#queue-appeals").locator("xpath=..")
        assert "appeal by 2027-05-19" in queue.inner_text(), queue.inner_text()
        self.open(self.case_url, "the case, as the advocate")
        self.checkpoint(page, "case-denied")
        self.follow("Record the denial notice", "the denial notice form")
        # Started from what the case knows: the payer's reference and the deadline.
        assert page.get_by_label("Payer's reference number").input_value() == PAYER_REFERENCE
        assert page.get_by_label("Appeal deadline on the notice").input_value() == "2027-05-19"
        page.get_by_label("Step therapy not met").check()
        page.get_by_label("Date the clinic received it").fill("2026-11-20")
        self.checkpoint(page, "15-denial-notice")
        self.submit(self.button("Record the denial notice"), "record the denial notice")
        assert page.url.endswith(f"/cases/{self.case_id}/appeal"), page.url
        self.preview_shown()
        assert PAYER_REFERENCE in page.locator("main").inner_text()
        self.checkpoint(page, "16-appeal")

    def attachments(self) -> None:
        page = self.page
        self.follow("Attachments and packet", "the attachments page")
        self.checkpoint(page, "attachments-empty")
        # A damaged file is refused with the reason, and nothing changes.
        page.set_input_files(
            "#file",
            files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 cut"}],
        )
        self.submit(self.button("Attach the file"), "a damaged upload", expected=422)
        alert = page.get_by_role("alert")
        assert "The file was not attached" in alert.inner_text(), alert.inner_text()
        assert "Nothing about the case changed" in alert.inner_text()
        self.checkpoint(page, "17-upload-refused")
        for filename, enclosure in (
            ("ncs-report.pdf", "ncs_report"),
            ("neurology-note.pdf", "neurology_note"),
            ("denial-notice.pdf", "denial_notice"),
        ):
            page.set_input_files("#file", str(ATTACHMENTS / filename))
            page.get_by_label("What it is").select_option(enclosure)
            self.submit(self.button("Attach the file"), f"attach {filename}")
            assert "File attached (PDF" in page.locator(".flashes").inner_text()
            assert filename in page.locator("main").inner_text()
        self.checkpoint(page, "18-attachments")

    def appeal_documents(self) -> None:
        page = self.page
        self.follow("The appeal", "back to the appeal")
        self.checkpoint(page, "appeal-with-attachments")
        text, _ = self.download(self.button("Download the appeal letter (PDF)"), "appeal.pdf")
        # The appeal answers the denial's reason with the case's own evidence.
        for words in (PAYER_REFERENCE, "Prednisone", "Plasma exchange", "corticosteroid"):
            assert words in text, f"the appeal PDF lacks {words!r}"
        assert "step therapy" in text.lower()
        self.texts["appeal"] = text
        sheet, _ = self.download(self.button("Peer-to-peer sheet (PDF)"), "peer-to-peer.pdf")
        assert PAYER_REFERENCE in sheet
        packet, pages = self.download(self.button("Fax packet (PDF)"), "packet.pdf")
        assert f"Packet page {pages} of {pages}" in packet, "the packet's pages are not numbered"
        assert "Nerve conduction" in packet and "Notice of adverse" in packet
        self.texts["packet"] = packet
        self.open(f"{self.base}/cases/{self.case_id}/appeal", "the appeal with its documents")
        self.checkpoint(page, "appeal-documents")

    def search(self) -> None:
        page = self.page
        self.follow("Cases", "the dashboard")
        self.checkpoint(page, "advocate-dashboard")
        page.get_by_label("Patient name or payer reference").fill("testpat")
        self.submit(self.button("Search"), "search by name")
        result = page.locator(".search-result").inner_text()
        assert "1 of 1 case match" in result, result
        # The name went in the request body, not the address.
        assert page.url.rstrip("/") == self.base and "testpat" not in page.url.lower()
        self.checkpoint(page, "19-search")
        page.get_by_label("Patient name or payer reference").fill(PAYER_REFERENCE.lower())
        self.submit(self.button("Search"), "search by payer reference")
        assert "1 of 1 case match" in page.locator(".search-result").inner_text()
        self.checkpoint(page, "search-reference")

    def case_page(self) -> None:
        page = self.page
        self.open(self.case_url, "the case page with its history")
        history = page.locator("#history").inner_text()
        for words in (
            "Created the case",
            "Signed the letter",
            "Recorded the payer's denial",
            "Recorded the denial notice",
            "Attached a file",
            "Dana Example (Physician)",
            "Ari Advocate (Patient advocate)",
        ):
            assert words in history, f"the history lacks {words!r}"
        documents = page.locator("#documents").inner_text()
        for words in ("Signed letter", "Appeal letter (unsigned)", "Fax packet", "Superseded"):
            assert words in documents, f"the documents lack {words!r}"
        self.checkpoint(page, "20-case-history")

    def appeal_to_renewal(self) -> None:
        """The appeal goes for signature and to the payer, is approved, and the case renewed."""
        page = self.page
        self.submit(self.button("Appeal: send the updated letter for signature"), "send the appeal")
        self.state_is("Ready for signature")
        self.logout()
        self.login("physician", "physician-queue-appeal")
        self.sign("sign-appeal")
        text = page.locator("#documents").inner_text()
        assert "Signed appeal letter" in text, text
        self.logout()
        self.login("billing", "billing-dashboard-appeal")
        self.open(self.case_url, "the case, to submit the appeal")
        self.follow("Record the submission to the payer", "the appeal submission")
        page.get_by_label("How it was sent").select_option("fax")
        self.submit(self.button("Record the submission to the payer"), "submit the appeal")
        self.follow("Record an approval", "the approval form")
        page.get_by_label("Authorization number").fill("AUTH-2026-5521")
        page.get_by_label("Units approved").fill("320")
        page.get_by_label("First day covered").fill("2026-12-01")
        page.get_by_label("Last day covered").fill("2027-02-28")
        self.checkpoint(page, "record-approval")
        self.submit(self.button("Record an approval"), "record the approval")
        self.state_is("Approved")
        self.checkpoint(page, "21-approved")
        self.submit(self.button("Start a continuation"), "start the continuation")
        assert page.url.endswith("/questions"), page.url
        baseline = page.locator('[name="answers-incat_score_baseline-value"]').input_value()
        assert baseline == "4", baseline
        assert page.locator('[name="answers-incat_score_current-value"]').input_value() == ""
        self.checkpoint(page, "22-continuation")
