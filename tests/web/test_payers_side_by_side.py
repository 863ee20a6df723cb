"""Payers side by side (issue 14): the rules' comparison, the command and the pages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from web_helpers import field_error, input_value, page_text
from werkzeug.datastructures import MultiDict

from priorauth.cli import main
from priorauth.rules.library import load_library
from priorauth.rules.payer_compare import TOPICS, compare_payers
from priorauth.web.intake.formdata import formdata_for_case

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"

LIBRARY = load_library()
SHOWN_TOPICS = ("Dosing weight", "Authorization periods", "Preferred products", "Criteria changed")


def test_every_shipped_profile_is_compared_on_every_topic_for_cidp() -> None:
    comparison = compare_payers(LIBRARY, "cidp")
    assert {c.payer_id for c in comparison.payers} == set(LIBRARY.payers) - {"reference"}
    for column in comparison.payers:
        assert {row.topic for row in column.rows} == set(TOPICS), column.payer_id
        for row in column.differences:
            assert row.source and row.date, (column.payer_id, row.topic)
    by_id = {c.payer_id: c for c in comparison.payers}
    # Actual weight where the reference uses adjusted weight above BMI 30, flagged unverified.
    weight = next(r for r in by_id["aetna"].differences if r.topic == "Dosing weight")
    assert weight.payer == "Dosed on actual body weight." and weight.unverified
    assert "adjusted" in weight.reference
    # UHC excludes products; BCBS NC prefers some; Medicare pays home infusion for PID only.
    excluded = next(r for r in by_id["uhc"].differences if r.topic == "Excluded products")
    assert "Panzyga" in excluded.payer and excluded.reference == "none"
    assert any(r.topic == "Preferred products" for r in by_id["bcbs_nc"].differences)
    assert any(r.topic == "Site of care" for r in by_id["medicare"].differences)


def test_a_payers_changed_criterion_is_shown_with_before_and_after() -> None:
    comparison = compare_payers(LIBRARY, "secondary_hypogammaglobulinemia")
    commercial = next(c for c in comparison.payers if c.payer_id == "commercial")
    changed = next(r for r in commercial.differences if r.topic == "Criteria changed")
    assert "value 500" in changed.payer and "value 500" not in changed.reference
    assert "eviCore" in changed.source and changed.date
    # A payer with a shorter approval limit than the indication's period shows it.
    periods = [r for r in commercial.rows if r.topic == "Authorization periods"]
    assert periods and periods[0].payer.startswith("initial")


def test_payers_compare_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payers", "compare", "cidp"]) == 0
    out = capsys.readouterr().out
    for payer in LIBRARY.payers.values():
        if payer.id != "reference":
            assert f"{payer.name} ({payer.id}, profile as of {payer.as_of})" in out
    for topic in SHOWN_TOPICS:
        assert out.count(f" {topic}: ") == len(LIBRARY.payers) - 1, topic
    assert "≠ Dosing weight: Dosed on actual body weight. [unverified]" in out
    assert main(["payers", "compare", "cidp", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["indication_id"] == "cidp" and len(data["payers"]) == len(LIBRARY.payers) - 1
    assert main(["payers", "compare", "no_such"]) == 2
    assert "unknown indication" in capsys.readouterr().err


def test_payers_side_by_side_page_for_cidp(logged_in: FlaskClient) -> None:
    assert 'href="/reference/cidp/payers"' in logged_in.get("/reference/cidp").text
    response = logged_in.get("/reference/cidp/payers")
    assert response.status_code == 200
    text = page_text(response.text)
    for payer in LIBRARY.payers.values():
        if payer.id != "reference":
            assert payer.name in text
            assert f'href="/reference/payers/{payer.id}"' in response.text
    for topic in SHOWN_TOPICS:
        assert text.count(topic) >= len(LIBRARY.payers) - 1, topic
    assert "Dosed on actual body weight." in text
    assert logged_in.get("/reference/no_such/payers").status_code == 404


@pytest.mark.parametrize("payer_id", sorted(LIBRARY.payers))
def test_payer_page(logged_in: FlaskClient, payer_id: str) -> None:
    profile = LIBRARY.payers[payer_id]
    response = logged_in.get(f"/reference/payers/{payer_id}")
    assert response.status_code == 200
    text = page_text(response.text)
    assert profile.name in text and profile.as_of in text
    assert "Dosing weight and rounding" in text and "Authorization periods" in text


@pytest.mark.parametrize("product_id", sorted(LIBRARY.products))
def test_product_page(logged_in: FlaskClient, product_id: str) -> None:
    product = LIBRARY.products[product_id]
    response = logged_in.get(f"/reference/products/{product_id}")
    assert response.status_code == 200
    text = page_text(response.text)
    assert product.name in text and product.hcpcs in text
    for label in (
        "Vial sizes",
        "IgA content",
        "Stabilizer",
        "Infusion rates",
        "Labelled indications",
    ):
        assert label in text
    assert "HCPCS table:" in text


def test_products_index_and_unknowns(logged_in: FlaskClient) -> None:
    response = logged_in.get("/reference/products")
    assert response.status_code == 200
    for product_id in LIBRARY.products:
        assert f'href="/reference/products/{product_id}"' in response.text
    assert logged_in.get("/reference/products/nope").status_code == 404
    assert logged_in.get("/reference/payers/nope").status_code == 404


@pytest.mark.parametrize(
    "url", ["/reference/cidp/payers", "/reference/payers/aetna", "/reference/products"]
)
def test_reference_pages_need_a_login(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


# --- a condition outside the library ---------------------------------------------------------


def create_case_at(client: FlaskClient, indication_id: str, formdata: MultiDict[str, str]) -> int:
    response = client.post(f"/cases/new/{indication_id}", data=formdata)
    assert response.status_code == 303, page_text(response.text)[:2000]
    match = re.fullmatch(r"/cases/(\d+)", response.headers["Location"])
    assert match
    return int(match.group(1))


def _unlisted_formdata(code: str, rationale: str) -> MultiDict[str, str]:
    path = FORMS_DIR / "indications" / "unlisted_condition" / "examples"
    data = json.loads((path / "exception-with-rationale.json").read_text(encoding="utf-8"))
    formdata = formdata_for_case(data["case"])
    formdata.poplist("icd10_codes")
    formdata["icd10_code_typed"] = code
    formdata.setlist("clinical_summary", [rationale])
    return formdata


def test_a_condition_outside_the_library_starts_an_exception_request(
    logged_in: FlaskClient,
) -> None:
    found = page_text(logged_in.get("/cases/new?q=PANDAS").text)
    assert "An unlisted condition" in found
    form = logged_in.get("/cases/new/unlisted_condition").text
    assert 'id="icd10_code_typed"' in form
    bad = logged_in.post(
        "/cases/new/unlisted_condition", data=_unlisted_formdata("D89.8", "Rationale.")
    )
    assert bad.status_code == 422
    assert "not a billable" in field_error(bad.text, "icd10_code_typed")
    assert input_value(bad.text, "icd10_code_typed") == "D89.8"
    no_reason = logged_in.post(
        "/cases/new/unlisted_condition", data=_unlisted_formdata("d8989", "")
    )
    assert no_reason.status_code == 422
    assert "rationale" in field_error(no_reason.text, "clinical_summary")
    case_id = create_case_at(
        logged_in, "unlisted_condition", _unlisted_formdata("d8989", "The physician's reasons.")
    )
    page = page_text(logged_in.get(f"/cases/{case_id}").text)
    assert "medical-exception request" in page
