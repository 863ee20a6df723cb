"""The one control-character check, in every form that takes text."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_helpers import cidp_formdata, create_case, field_error, log_in_demo, page_text

from priorauth.web.fields import has_control_characters


@pytest.mark.parametrize(
    ("text", "short_ok", "long_ok"),
    [
        ("Avery Testpatient", True, True),
        ("Línea café, naïve – “quoted”", True, True),
        ("two\nlines", False, True),
        ("windows\r\nlines", False, True),
        ("a\ttab", False, True),
        ("nul\x00", False, False),
        ("bell\x07", False, False),
        ("delete\x7f", False, False),
        ("next line\x85", False, False),  # C1
        ("\u202eevil", False, False),  # right-to-left override
        ("\u2066isolate\u2069", False, False),
        ("\u200bzero width space", True, True),  # invisible, but it reorders nothing
    ],
)
def test_control_characters(text: str, short_ok: bool, long_ok: bool) -> None:
    assert has_control_characters(text) is not short_ok
    assert has_control_characters(text, long_text=True) is not long_ok


def test_a_bidirectional_override_in_a_name_is_refused(logged_in: FlaskClient) -> None:
    data = cidp_formdata(**{"patient-last_name": "Test\u202epatient"})
    response = logged_in.post("/cases/new/cidp", data=data)
    assert response.status_code == 422
    assert "control characters" in field_error(response.text, "patient-last_name")


def test_the_narrative_refuses_an_override_and_keeps_line_breaks(
    app: Flask, logged_in: FlaskClient
) -> None:
    case_id = create_case(logged_in)
    physician = app.test_client()
    log_in_demo(physician, "physician")
    url = f"/cases/{case_id}/narrative"
    version = re.search(r'name="version" value="(\d+)"', physician.get(url).text)
    assert version
    refused = physician.post(
        url, data={"version": version.group(1), "opening": "Dear reviewer, \u2067see\u2069."}
    )
    assert refused.status_code == 422
    assert "control characters" in page_text(refused.text)
    saved = physician.post(
        url, data={"version": version.group(1), "opening": "Dear reviewer,\r\n\r\nPlease see."}
    )
    assert saved.status_code == 303, page_text(saved.text)[:600]
