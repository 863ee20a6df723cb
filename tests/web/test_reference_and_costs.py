"""The reference pages (every indication definition, read-only) and the cost summary pages."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pypdf
import pytest
from flask.testing import FlaskClient
from web_helpers import cidp_formdata, create_case, field_error, input_value, log_in, page_text

from priorauth.documents import cost_summary
from priorauth.paths import forms_dir
from priorauth.rules.estimate import CostSummaryUnavailable
from priorauth.rules.library import load_library

LIBRARY = load_library(forms_dir())
INDICATION_IDS = sorted(LIBRARY.indications)


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


# --- reference -------------------------------------------------------------------------------


def test_reference_index_lists_every_indication(logged_in: FlaskClient) -> None:
    response = logged_in.get("/reference")
    assert response.status_code == 200
    text = page_text(response.text)
    for definition in LIBRARY.indications.values():
        assert f'href="/reference/{definition.id}"' in response.text
        assert definition.name in text
        assert definition.category in text
        if definition.codes:  # a condition outside the library lists none
            assert definition.codes[0].code in text
    assert 'href="/reference"' in response.text  # the navigation link


@pytest.mark.parametrize("indication_id", INDICATION_IDS)
def test_reference_page_for_each_indication(logged_in: FlaskClient, indication_id: str) -> None:
    definition = LIBRARY.indications[indication_id]
    response = logged_in.get(f"/reference/{indication_id}")
    assert response.status_code == 200
    text = page_text(response.text)
    assert definition.name in text
    if definition.codes:
        assert definition.codes[0].code in text
    if definition.criteria:
        assert page_text(definition.criteria[0].title) in text
    if any(not code.verified for code in definition.codes):
        assert "Unverified" in text


def test_reference_unknown_indication_is_404(logged_in: FlaskClient) -> None:
    assert logged_in.get("/reference/no_such_indication").status_code == 404


@pytest.mark.parametrize("url", ["/reference", "/reference/cidp"])
def test_reference_needs_a_login(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


# --- cost summary ----------------------------------------------------------------------------


def test_cost_summary_page_shows_grams_and_illustrative(logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in)
    assessment = logged_in.get(f"/cases/{case_id}")
    assert f'href="/cases/{case_id}/cost-summary"' in assessment.text
    response = logged_in.get(f"/cases/{case_id}/cost-summary")
    assert response.status_code == 200, page_text(response.text)[:2000]
    text = page_text(response.text)
    assert re.search(r"\d g\b", text), text[:2000]
    assert "illustrative" in text.lower()
    preview = logged_in.get(f"/cases/{case_id}/cost-summary/preview")
    assert preview.status_code == 200
    assert "illustrative" in page_text(preview.text).lower()
    assert "script-src" not in preview.headers["Content-Security-Policy"]


def test_cost_summary_product_and_site_change_the_page(logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in)
    default = page_text(logged_in.get(f"/cases/{case_id}/cost-summary").text)
    response = logged_in.get(f"/cases/{case_id}/cost-summary?product=gamunex_c&site=home")
    assert response.status_code == 200
    text = page_text(response.text)
    assert text != default
    assert "Gamunex-C" in text and "J1561" in text
    assert "home infusion" in text.lower()
    preview = page_text(
        logged_in.get(f"/cases/{case_id}/cost-summary/preview?product=gamunex_c&site=home").text
    )
    assert "Gamunex-C" in preview and "J1561" in preview


def test_cost_summary_pdf_names_the_product(logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in)
    response = logged_in.get(f"/cases/{case_id}/cost-summary.pdf?product=gamunex_c&site=home")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    assert "Gamunex-C" in _pdf_text(response.data)


def test_cost_summary_of_another_organizations_case_is_404(
    logged_in: FlaskClient, other_clinic: Callable[[], tuple[str, str]]
) -> None:
    case_id = create_case(logged_in)
    email, password = other_clinic()
    client = logged_in.application.test_client()  # a second browser, the other clinic's
    log_in(client, email, password)
    for url in ("cost-summary", "cost-summary.pdf", "cost-summary/preview", "patient-sheet.pdf"):
        assert client.get(f"/cases/{case_id}/{url}").status_code == 404, url


@pytest.mark.parametrize(
    "query", ["product=no_such_product", "site=moon_base", "product=%3Cscript%3E&site=home"]
)
def test_cost_summary_bad_choice_is_not_a_500(logged_in: FlaskClient, query: str) -> None:
    case_id = create_case(logged_in)
    response = logged_in.get(f"/cases/{case_id}/cost-summary?{query}")
    assert response.status_code == 400
    assert "not" in page_text(response.text)
    assert "<script>" not in response.text
    assert logged_in.get(f"/cases/{case_id}/cost-summary.pdf?{query}").status_code == 400


def test_cost_summary_without_a_dose_says_so(
    logged_in: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = create_case(logged_in)

    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise CostSummaryUnavailable("no dose can be computed: no weight")

    monkeypatch.setattr(cost_summary, "build_cost_summary_context", unavailable)
    response = logged_in.get(f"/cases/{case_id}/cost-summary")
    assert response.status_code == 200
    assert "No cost summary for this case" in page_text(response.text)
    assert logged_in.get(f"/cases/{case_id}/cost-summary.pdf").status_code == 409


# --- plan terms on the case (issue 14) ---------------------------------------------------------


def test_plan_terms_entered_in_the_intake_give_the_patients_share(
    logged_in: FlaskClient,
) -> None:
    form = cidp_formdata()
    form["coverage-plan_terms-deductible_usd"] = "1500"
    form["coverage-plan_terms-deductible_met_usd"] = "500"
    form["coverage-plan_terms-coinsurance_percent"] = "20"
    form["coverage-plan_terms-out_of_pocket_max_usd"] = "5000"
    form["coverage-plan_terms-source"] = "synthetic plan summary"
    case_id = create_case(logged_in, form)
    edit = logged_in.get(f"/cases/{case_id}/edit").text
    assert input_value(edit, "coverage-plan_terms-coinsurance_percent") == "20"
    text = page_text(logged_in.get(f"/cases/{case_id}/cost-summary/preview").text)
    assert "Deductible left: $1,000.00" in text
    assert "Enter the plan's deductible" not in text
    # 2 g/kg over 4 days: the first day pays the $1,000 deductible and 20 % of the rest.
    assert "first; then $" in text


def test_plan_terms_with_both_coinsurance_and_copay_are_refused_beside_the_field(
    logged_in: FlaskClient,
) -> None:
    form = cidp_formdata()
    form["coverage-plan_terms-coinsurance_percent"] = "20"
    form["coverage-plan_terms-copay_per_infusion_usd"] = "50"
    response = logged_in.post("/cases/new/cidp", data=form)
    assert response.status_code == 422
    assert "coinsurance" in field_error(response.text, "coverage-plan_terms-coinsurance_percent")
    assert input_value(response.text, "coverage-plan_terms-copay_per_infusion_usd") == "50"
    form["coverage-plan_terms-copay_per_infusion_usd"] = ""
    form["coverage-plan_terms-deductible_usd"] = "12x"
    response = logged_in.post("/cases/new/cidp", data=form)
    assert response.status_code == 422
    assert field_error(response.text, "coverage-plan_terms-deductible_usd")
    # What was typed is kept.
    assert input_value(response.text, "coverage-plan_terms-deductible_usd") == "12x"


def test_patient_sheet_pdf_for_a_case(logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in)
    page = logged_in.get(f"/cases/{case_id}/cost-summary")
    assert f'href="/cases/{case_id}/patient-sheet.pdf"' in page.text
    response = logged_in.get(f"/cases/{case_id}/patient-sheet.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    assert "About your treatment" in text and "What is this medicine?" in text
    assert "Testpatient" not in response.headers.get("Content-Disposition", "")
