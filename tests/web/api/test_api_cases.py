"""What the API answers: cases made, changed and assessed; documents; errors by field."""

from __future__ import annotations

import copy
import re

from api_helpers import ApiWorld
from openapi_spec_validator import validate
from sqlalchemy import select
from web_helpers import cidp_case_data, log_in_demo

from priorauth.store.models import AuditEvent, CaseRecord


def test_a_case_is_created_read_assessed_and_changed(api: ApiWorld) -> None:
    created = api.call("billing", "POST", "/api/v1/cases", json=cidp_case_data())
    assert created.status_code == 201
    body = created.get_json()
    case_id, version = body["id"], body["version"]
    assert body["state"] == "draft" and body["indication_id"] == "cidp"
    assert body["case"]["patient"] == cidp_case_data()["patient"]

    assessment = api.call("billing", "GET", f"/api/v1/cases/{case_id}/assessment").get_json()
    assert assessment["verdict"] == "ready"
    assert assessment["indication_id"] == "cidp"

    changed_case = copy.deepcopy(cidp_case_data())
    changed_case["measurements"]["weight"] = "71"
    updated = api.call(
        "billing",
        "PUT",
        f"/api/v1/cases/{case_id}",
        json={"version": version, "case": changed_case},
    )
    assert updated.status_code == 200
    assert updated.get_json()["version"] == version + 1
    assert updated.get_json()["content_version"] == 2

    stale = api.call(
        "billing",
        "PUT",
        f"/api/v1/cases/{case_id}",
        json={"version": version, "case": cidp_case_data()},
    )
    assert stale.status_code == 409
    assert stale.get_json()["errors"] == [
        {"field": "version", "message": "not the current version"}
    ]
    assert f"the current version is {version + 1}" in stale.get_json()["detail"]
    with api.sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None and record.data["measurements"]["weight"] == "71"
        actions = session.scalars(
            select(AuditEvent.action + ":" + AuditEvent.outcome).where(
                AuditEvent.case_id == case_id
            )
        ).all()
    assert {"case.create:ok", "case.update:ok", "case.update:conflict"} <= set(actions)


def test_bad_input_gets_field_level_messages_like_the_command_line(api: ApiWorld) -> None:
    bad = cidp_case_data()
    bad["measurements"]["weight"] = "-1"
    bad["prescriber"]["npi"] = "1234567890"
    response = api.call("billing", "POST", "/api/v1/cases", json=bad)
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    # The same wording as `priorauth assess` (README, "Command line").
    assert errors["measurements.weight"] == "weight must be more than zero"
    assert errors["prescriber.npi"] == "this NPI's check digit is wrong; check for a typing slip"

    unknown = cidp_case_data()
    unknown["indication_id"] = "no_such_indication"
    refused = api.call("billing", "POST", "/api/v1/cases", json=unknown)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "indication_id"

    nested = api.call("billing", "PUT", "/api/v1/cases/1", json={"version": 1, "case": bad})
    assert nested.status_code in (404, 422)


def test_bodies_that_are_not_json_objects_are_4xx(api: ApiWorld) -> None:
    url = "/api/v1/cases"
    headers = api.headers("billing")
    not_json = api.client.post(
        url, data="{not json", headers=headers, content_type="application/json"
    )
    assert not_json.status_code == 400
    assert api.client.post(url, data="a=b", headers=headers).status_code == 415
    assert api.call("billing", "POST", url, json=[1, 2]).status_code == 422
    assert api.call("billing", "POST", url, json="text").status_code == 422
    huge = {"notes": "x" * 300_000}
    assert api.call("billing", "POST", url, json=huge).status_code == 413
    paging = api.call("billing", "GET", "/api/v1/cases?page=0&per_page=1000")
    assert paging.status_code == 422
    assert {e["field"] for e in paging.get_json()["errors"]} == {"page", "per_page"}


def test_a_letter_is_rendered_listed_downloaded_and_verified(api: ApiWorld) -> None:
    record = api.case("own")
    rendered = api.call("billing", "POST", f"/api/v1/cases/{record.id}/documents", json={})
    assert rendered.status_code == 201
    document = rendered.get_json()
    again = api.call("physician", "POST", f"/api/v1/cases/{record.id}/documents", json={})
    assert again.status_code == 200 and again.get_json()["id"] == document["id"]

    listed = api.call("advocate", "GET", f"/api/v1/cases/{record.id}/documents").get_json()
    assert [d["id"] for d in listed] == [document["id"]]
    pdf = api.call("advocate", "GET", document["download"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert re.search(
        r'filename="letter-case-\d+-document-\d+\.pdf"', pdf.headers["Content-Disposition"]
    )

    by_bytes = api.client.post(
        "/api/v1/documents/verify",
        data=pdf.data,
        headers=api.headers("billing"),
        content_type="application/pdf",
    ).get_json()
    assert by_bytes["found"] and not by_bytes["signed"] and not by_bytes["of_record"]
    assert by_bytes["document_id"] == document["id"]
    by_hash = api.call(
        "billing", "POST", "/api/v1/documents/verify", json={"sha256": document["sha256"]}
    ).get_json()
    assert by_hash["document_id"] == document["id"]
    # Another organization's verification does not find it.
    theirs = api.call(
        "other-billing", "POST", "/api/v1/documents/verify", json={"sha256": document["sha256"]}
    ).get_json()
    assert not theirs["found"]


def test_definitions_are_listed(api: ApiWorld) -> None:
    indications = api.call("advocate", "GET", "/api/v1/indications").get_json()
    assert any(i["id"] == "cidp" and i["codes"] for i in indications)
    cidp = api.call("advocate", "GET", "/api/v1/indications/cidp").get_json()
    assert cidp["id"] == "cidp" and cidp["criteria"]
    assert api.call("advocate", "GET", "/api/v1/indications/nope").status_code == 404
    payers = api.call("admin", "GET", "/api/v1/payer-profiles").get_json()
    assert cidp_case_data()["coverage"]["payer_profile"] in {p["id"] for p in payers}
    products = api.call("physician", "GET", "/api/v1/products").get_json()
    assert cidp_case_data()["regimen"]["product_id"] in {p["id"] for p in products}


def test_the_openapi_document_is_valid_3_1_and_its_page_fetches_nothing(api: ApiWorld) -> None:
    document = api.client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on an invalid document
    paths = document["paths"]
    assert {"/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/products"} <= set(paths)
    assert "bearer" in document["components"]["securitySchemes"]
    assert "Case" in "".join(document["components"]["schemas"])
    page = api.client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "GET /api/v1/cases" in page.text
    # Nothing on the page comes from another site.
    assert not re.search(r'(src|href)="(https?:)?//', page.text)


def test_a_draft_is_started_from_part_of_a_case_and_finished_on_the_web(api: ApiWorld) -> None:
    partial = {key: cidp_case_data()[key] for key in ("indication_id", "patient", "coverage")}
    made = api.call("billing", "POST", "/api/v1/drafts", json={"case": partial})
    assert made.status_code == 201
    draft = made.get_json()
    assert draft["indication_id"] == "cidp" and draft["request_type"] == "initial"
    pairs = dict(tuple(pair) for pair in draft["formdata"])
    assert pairs["patient-last_name"] == partial["patient"]["last_name"]
    listed = api.call("billing", "GET", "/api/v1/drafts").get_json()
    assert draft["id"] in [d["id"] for d in listed]
    # The guided intake opens it with what was sent.
    browser = api.app.test_client()
    log_in_demo(browser, "billing")
    step = browser.get(draft["continue_at"])
    assert step.status_code == 200
    assert partial["patient"]["last_name"] in step.text

    unknown = api.call("billing", "POST", "/api/v1/drafts", json={"case": {"indication_id": "x"}})
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "case.indication_id"
    wrong_shape = api.call("billing", "POST", "/api/v1/drafts", json={"case": {"patient": "Jo"}})
    assert wrong_shape.status_code == 422
    assert wrong_shape.get_json()["errors"][0]["field"] == "case"
