"""Every safety flag of a case on the case page and on the physician's signing page, in Chromium.

Billing staff enter a case with the safety facts that change the product or the
rate (antibodies against IgA, an eGFR of 25, diabetes, thrombosis risk factors,
a fluid restriction, age 70) on a maltose-stabilized product; the case page
lists every flag the assessment raises, and so does the page where the
physician reads and signs. Each page passes the accessibility audit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from e2e_support import AS_OF, EXAMPLE, Auditor
from journey import Journey

from priorauth.domain.case import Case
from priorauth.rules import evaluate, load_library

SAFETY = {
    "safety-iga_deficient": "yes",
    "safety-anti_iga_antibodies": "yes",
    "safety-egfr-value": "25",
    "safety-egfr-date": "2026-11-10",
    "safety-diabetes": "yes",
    "safety-heart_failure_or_fluid_restriction": "yes",
    "safety-thrombosis_risk_factors": "Prior DVT (2019)\nEstrogen therapy",
}
# Octagam 10% (maltose, 106 mcg/mL IgA) for a 70-year-old: every product-related flag fires.
CHANGES = {"regimen-product_id": "octagam_10", "patient-date_of_birth": "1956-03-01"}


def _expected_titles() -> list[str]:
    """The flags the engine raises for the same case: the pages must show each of them."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    case = data.get("case", data)
    case["regimen"]["product_id"] = "octagam_10"
    case["patient"]["date_of_birth"] = "1956-03-01"
    case["safety"] = {
        "iga_deficient": True,
        "anti_iga_antibodies": True,
        "egfr": {"value": 25, "date": "2026-11-10"},
        "diabetes": True,
        "heart_failure_or_fluid_restriction": True,
        "thrombosis_risk_factors": ["Prior DVT (2019)", "Estrogen therapy"],
    }
    model = Case.model_validate(case, context={"today": AS_OF})
    assessment = evaluate(model, load_library(), AS_OF)
    return [flag.title for flag in assessment.safety.flags]


def _shown_titles(page: Any, section: str) -> list[str]:
    titles = page.locator(f"{section} .safety-flag__title")
    return [titles.nth(i).inner_text().strip() for i in range(titles.count())]


def test_the_case_page_and_the_signing_page_show_every_safety_flag(
    live_server: str, page: Any, auditor: Auditor, tmp_path: Path
) -> None:
    expected = _expected_titles()
    assert len(expected) >= 6, expected  # anti-IgA, renal, sugar, maltose, fluid, thrombosis, age
    journey = Journey(page, live_server, auditor, tmp_path)
    journey.open(f"{live_server}/login", "login")
    journey.login("billing", "safety-dashboard")
    journey.open(f"{live_server}/cases/new/cidp?request_type=initial", "one-page form")
    journey.fill_example("patient-", "coverage-", "prescriber-", "icd10_codes", "answers-")
    journey.fill_example("prior_therapies-0-", "measurements-", "regimen-", "site_of_care")
    journey.fill_example("clinical_summary")
    for name, value in {**CHANGES, **SAFETY}.items():
        journey.fill(name, value)
    # The pregnancy fields follow the sex: the example patient is male.
    assert page.locator("[data-pregnancy-fields]").is_hidden()
    auditor(page, "safety-intake")
    journey.submit(journey.button("Save and check the case"), "save the case")
    assert "/cases/" in page.url and not page.url.endswith("/new/cidp"), page.url
    journey.case_id = int(page.url.rstrip("/").split("/")[-1])
    auditor(page, "safety-case")

    on_case = _shown_titles(page, "#safety")
    assert sorted(on_case) == sorted(expected), on_case
    safety_text = page.locator("#safety").inner_text()
    assert "eGFR 25" in safety_text and "Products that avoid it" in safety_text

    journey.submit(journey.button("Send to the physician for signature"), "send for signature")
    journey.logout()
    journey.login("physician", "safety-physician")
    journey.open(journey.case_url, "the case, as the physician")
    journey.follow("Read and sign the letter", "the signing page")
    auditor(page, "safety-sign")
    on_signing = _shown_titles(page, "#before-signing")
    assert sorted(on_signing) == sorted(expected), on_signing
    review = page.locator("#before-signing").inner_text()
    assert "Prescribed:" in review, review

    assert not page.script_problems, page.script_problems
    assert not auditor.problems, "accessibility (axe, serious or critical):\n" + "\n".join(
        auditor.problems
    )
