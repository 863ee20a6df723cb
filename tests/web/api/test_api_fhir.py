"""A FHIR R4 Bundle from a clinic's record becomes an intake draft over the API.

Until ``priorauth.interop`` is installed the endpoint answers 501 with a JSON
message; with it, the example records of examples/fhir/ become drafts that the
guided intake opens, and a Bundle the import cannot read is a 422 by field.
"""

from __future__ import annotations

import json
from pathlib import Path

from api_helpers import ApiWorld
from web_helpers import log_in_demo

from priorauth.web.api.fhir import interop_available

URL = "/api/v1/drafts/fhir"
RECORDS = Path(__file__).resolve().parents[3] / "examples" / "fhir"


def test_without_the_interop_layer_the_import_answers_501(api: ApiWorld) -> None:
    if interop_available():
        return  # the layer is installed: the tests below cover the import
    response = api.call("billing", "POST", URL, json={"resourceType": "Bundle"})
    assert response.status_code == 501
    assert "priorauth.interop" in response.get_json()["detail"]


def test_a_record_becomes_a_draft_staff_finish_on_the_web(api: ApiWorld) -> None:
    if not interop_available():
        return  # answered 501 (above) until the FHIR import is merged
    bundle = json.loads((RECORDS / "cidp-initial-record.json").read_text(encoding="utf-8"))
    made = api.call("billing", "POST", URL, json=bundle)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["draft"]["indication_id"] == "cidp"
    assert body["from_record"] and isinstance(body["ignored"], list)
    pairs = dict(tuple(pair) for pair in body["draft"]["formdata"])
    assert pairs.get("patient-last_name")
    browser = api.app.test_client()
    log_in_demo(browser, "billing")
    step = browser.get(body["draft"]["continue_at"])
    assert step.status_code == 200 and pairs["patient-last_name"] in step.text


def test_a_bundle_the_import_cannot_read_is_a_422_by_field(api: ApiWorld) -> None:
    if not interop_available():
        return
    for bad in ({"resourceType": "Patient"}, {"resourceType": "Bundle", "type": 7}, {}):
        response = api.call("billing", "POST", URL, json=bad)
        assert response.status_code == 422, bad
        assert response.get_json()["errors"], bad
    unknown = api.call("billing", "POST", f"{URL}?payer_profile=nope", json={})
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "payer_profile"
