"""Questions that apply, in Chromium: the PID genetic question follows the codes ticked.

The definition asks it only for hereditary agammaglobulinemia or a combined
immunodeficiency (``enable_when`` on the codes). The page shows it as those codes are
ticked and hides it (``hidden``: skipped by keyboards and screen readers) when they are
not, without a reload; the accessibility audit stays clean in both states.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from e2e_support import Auditor
from test_intake_directory import Counted, _option


def test_the_genetic_question_follows_the_codes_ticked(
    live_server: str, page: Any, auditor: Auditor, tmp_path: Path
) -> None:
    run = Counted(page, live_server, auditor)
    run.login("billing")
    run.click(page.get_by_role("link", name="New case", exact=True), "new case")
    run.choose("directory-payer", _option(page, "directory-payer", "Example Health Plan"))
    run.fill("patient-first_name", "Quinn")
    run.fill("patient-last_name", "Testpatient")
    run.fill("patient-date_of_birth", "2001-05-06")
    run.choose("patient-sex", "female")
    run.fill("coverage-member_id", "EHP000789")
    run.click(run.button("Save and continue"), "save step 1")
    run.fill("q", "immunodeficiency")
    run.click(page.locator('form[aria-labelledby="ind-pid"] button[type="submit"]'), "choose PID")
    assert page.url.endswith("/questions"), page.url

    genetic = page.locator('[data-enable-when] [name="answers-genetic_diagnosis_confirmed"]')
    wrapper = page.locator(
        "[data-enable-when]", has=page.locator('[name="answers-genetic_diagnosis_confirmed"]')
    )
    assert genetic.count() >= 1
    assert wrapper.is_hidden()  # no code ticked yet
    page.locator('[name="icd10_codes"][value="D83.9"]').check()
    assert wrapper.is_hidden()  # common variable immunodeficiency: not asked
    auditor(page, "genetic question hidden")
    page.locator('[name="icd10_codes"][value="D80.0"]').check()
    assert wrapper.is_visible()  # hereditary hypogammaglobulinemia: asked
    auditor(page, "genetic question shown")
    page.locator('[name="icd10_codes"][value="D80.0"]').uncheck()
    assert wrapper.is_hidden()
    assert not page.script_problems, page.script_problems
    assert not auditor.problems, "\n".join(auditor.problems)
