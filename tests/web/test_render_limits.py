"""A render stopped at its time limit answers with a page that says so, and keeps nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from web_helpers import create_case, log_in_demo, page_text


@pytest.mark.parametrize(
    "app_config", [{"PRIORAUTH_RENDER_WORKERS": 1, "PRIORAUTH_RENDER_SECONDS": 0}]
)
def test_a_stopped_letter_render_says_so_and_stores_nothing(
    client: FlaskClient, app_config: dict[str, Any]
) -> None:
    log_in_demo(client)
    case_id = create_case(client)
    response = client.post(f"/cases/{case_id}/letter.pdf")
    assert response.status_code == 503
    text = page_text(response.text)
    assert "The document took too long to prepare" in text
    assert "nothing was saved" in text
    case_page = client.get(f"/cases/{case_id}")
    assert case_page.status_code == 200
    assert f"/cases/{case_id}/documents/" not in case_page.text
