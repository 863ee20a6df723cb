"""Live readiness (the JSON endpoint the checklist uses) and units as people type them."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from web_helpers import (
    cidp_formdata,
    create_case,
    field_error,
    log_in_demo,
    page_text,
    summary_links,
)

from priorauth.store.db import make_engine, session_factory
from priorauth.store.models import CaseRecord


def _check(client: FlaskClient, **changes: str) -> dict[str, object]:
    response = client.post("/intake/cidp/readiness", data=cidp_formdata(**changes))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert isinstance(data, dict)
    return data


def test_the_checklist_says_ready_with_the_dose_in_grams_and_vials(
    logged_in: FlaskClient,
) -> None:
    data = _check(logged_in)
    assert data["state"] == "ready"
    assert data["verdict_label"] == "Ready to submit"
    statuses = {c["title"]: c["status"] for c in data["criteria"]}  # type: ignore[union-attr]
    assert statuses["Diagnosed and managed by a neurologist"] == "met"
    assert data["met"] == data["required"]
    dose = " ".join(data["dose_lines"])  # type: ignore[arg-type]
    assert "160 g per course" in dose
    assert "Days 1–4: 40 g" in dose
    assert "1 vial (1 × 40 g)" in dose  # Privigen comes in 40 g vials
    # The HTML the script puts in place is the server's own rendering of the same values.
    assert str(data["summary"]).startswith("Ready to submit: 5 of 5 required criteria met")
    assert "Diagnosed and managed by a neurologist" in str(data["html"])
    assert "<script" not in str(data["html"])


def test_the_checklist_follows_the_answers(logged_in: FlaskClient) -> None:
    not_neurologist = _check(logged_in, **{"prescriber-specialty": "internal_medicine"})
    assert not_neurologist["state"] == "not_ready"
    statuses = {c["title"]: c["status"] for c in not_neurologist["criteria"]}  # type: ignore[union-attr]
    assert statuses["Diagnosed and managed by a neurologist"] == "not_met"
    missing = _check(logged_in, **{"answers-demyelination_on_electrodiagnostics": "unknown"})
    assert missing["state"] in ("not_ready", "ready_with_warnings")
    assert "missing" in {c["status"] for c in missing["criteria"]}  # type: ignore[union-attr]


def test_an_incomplete_form_lists_what_to_fill_in_with_links(logged_in: FlaskClient) -> None:
    data = _check(logged_in, **{"measurements-weight": "", "prescriber-npi": "1234567890"})
    assert data["state"] == "incomplete"
    fixes = {f["href"]: f["message"] for f in data["to_fix"]}  # type: ignore[union-attr]
    assert "#measurements-weight" in fixes
    assert "check digit" in fixes["#prescriber-npi"]
    assert "Not checked yet" in str(data["summary"])


def test_the_checklist_links_to_the_draft_steps(logged_in: FlaskClient) -> None:
    started = logged_in.post(
        "/cases/start",
        data={"patient-first_name": "Jordan", "coverage-payer_profile": "reference"},
    )
    draft_id = int(started.headers["Location"].split("/")[2])
    formdata = cidp_formdata(**{"measurements-weight": ""})
    formdata["draft_id"] = str(draft_id)
    data = logged_in.post("/intake/cidp/readiness", data=formdata).get_json()
    hrefs = [f["href"] for f in data["to_fix"]]
    assert f"/drafts/{draft_id}/measurements#measurements-weight" in hrefs


def test_only_billing_may_check_and_the_token_is_required(app: Flask) -> None:
    physician = app.test_client()
    log_in_demo(physician, "physician")
    assert physician.post("/intake/cidp/readiness", data=cidp_formdata()).status_code == 403
    billing = app.test_client()
    log_in_demo(billing, "billing")
    app.config["WTF_CSRF_ENABLED"] = True
    assert billing.post("/intake/cidp/readiness", data=cidp_formdata()).status_code == 400


def test_the_form_page_draws_the_checklist_without_javascript(logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in)
    page = logged_in.get(f"/cases/{case_id}/edit")
    text = page_text(page.text)
    assert 'id="readiness-status"' in page.text and 'role="status"' in page.text
    assert "Ready to submit: 5 of 5 required criteria met; dose 160 g per course." in text
    assert 'src="/static/intake.js"' in page.text
    assert "<script>" not in page.text  # no inline script (CSP script-src 'self')


def _stored(app: Flask, case_id: int) -> CaseRecord:
    engine = make_engine(app.config["PRIORAUTH_DATABASE_URL"])
    try:
        with session_factory(engine)() as session:
            record = session.get(CaseRecord, case_id)
            assert record is not None
            return record
    finally:
        engine.dispose()


def test_height_in_feet_and_inches_is_stored_in_inches(app: Flask, logged_in: FlaskClient) -> None:
    formdata = cidp_formdata(
        **{
            "measurements-height_unit": "ft_in",
            "measurements-height": "",
            "measurements-height_feet": "5",
            "measurements-height_inches": "7.5",
        }
    )
    case_id = create_case(logged_in, formdata)
    measurements = _stored(app, case_id).data["measurements"]
    assert measurements["height_unit"] == "in"
    assert measurements["height"] == "67.5"


def test_feet_and_inches_mistakes_are_explained_beside_their_fields(
    logged_in: FlaskClient,
) -> None:
    for feet, inches, field, words in (
        ("5.5", "0", "measurements-height_feet", "whole feet"),
        ("5", "12", "measurements-height_inches", "Inches go from 0 to 11.9"),
        ("five", "7", "measurements-height_feet", "whole number"),
        ("", "", "measurements-height_feet", "height is needed"),
    ):
        formdata = cidp_formdata(
            **{
                "measurements-height_unit": "ft_in",
                "measurements-height": "",
                "measurements-height_feet": feet,
                "measurements-height_inches": inches,
            }
        )
        response = logged_in.post("/cases/new/cidp", data=formdata)
        assert response.status_code == 422, (feet, inches)
        assert words.lower() in field_error(response.text, field).lower(), (feet, inches)
        assert field in summary_links(response.text)


def test_a_height_out_of_range_in_feet_lands_on_the_feet(logged_in: FlaskClient) -> None:
    formdata = cidp_formdata(
        **{
            "measurements-height_unit": "ft_in",
            "measurements-height_feet": "9",
            "measurements-height_inches": "11",
        }
    )
    response = logged_in.post("/cases/new/cidp", data=formdata)
    assert response.status_code == 422
    assert "outside" in field_error(response.text, "measurements-height_feet")


def test_dates_use_the_date_picker(logged_in: FlaskClient) -> None:
    page = logged_in.get("/cases/new/cidp")
    for name in ("patient-date_of_birth", "measurements-measured_on", "regimen-start_date"):
        # (a required date also carries "required", between the name and the type)
        assert re.search(f'id="{name}" name="{name}" (required )?type="date"', page.text), name
