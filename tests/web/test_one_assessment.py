"""One source for the verdict: the assessment stored with the case.

Pages, the dashboard and documents read the stored assessment; it is evaluated
again, and written back, only when none is stored, when it was made under other
definition versions, or before today, and then once per request.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import TODAY, cidp_formdata, create_case, page_text

from priorauth.rules.engine import evaluate
from priorauth.store.models import CaseRecord
from priorauth.web import casefile

Sessions = sessionmaker[Session]


@pytest.fixture
def evaluations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the evaluations the web layer asks for."""
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(casefile, "evaluate", counted)
    return calls


def _record(sessions: Sessions, case_id: int) -> CaseRecord:
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None
        return record


def _store_assessment(sessions: Sessions, case_id: int, assessment: dict[str, Any] | None) -> None:
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None
        record.assessment = assessment
        session.commit()


def test_pages_read_the_stored_assessment(logged_in: FlaskClient, evaluations: list[int]) -> None:
    case_id = create_case(logged_in)
    evaluations.clear()  # saving evaluates once, to store the assessment
    for url in ("/", f"/cases/{case_id}", f"/cases/{case_id}/letter"):
        assert logged_in.get(url).status_code == 200, url
    assert logged_in.get(f"/cases/{case_id}/letter/preview").status_code == 200
    assert evaluations == []


def test_an_assessment_made_before_today_is_evaluated_once_and_written_back(
    app: Flask, logged_in: FlaskClient, sessions: Sessions, evaluations: list[int]
) -> None:
    case_id = create_case(logged_in)
    before = _record(sessions, case_id)
    evaluations.clear()
    tomorrow = TODAY + dt.timedelta(days=1)
    app.config["PRIORAUTH_TODAY"] = tomorrow
    page = logged_in.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert evaluations == [1]
    after = _record(sessions, case_id)
    assert after.assessment is not None
    assert after.assessment["as_of"] == tomorrow.isoformat()
    # A refresh is not an edit: the version an open edit form carries still holds.
    assert after.version_id == before.version_id
    assert after.content_version == before.content_version
    assert after.updated_at == before.updated_at
    assert logged_in.get(f"/cases/{case_id}").status_code == 200
    assert logged_in.get("/").status_code == 200
    assert evaluations == [1]


def test_an_edit_opened_before_a_refresh_still_saves(
    app: Flask, logged_in: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    form = logged_in.get(f"/cases/{case_id}/edit")
    version = re.search(r'name="version"[^>]*value="(\d+)"', form.text)
    assert version, "the edit form carries the version it was opened at"
    app.config["PRIORAUTH_TODAY"] = TODAY + dt.timedelta(days=1)
    assert logged_in.get(f"/cases/{case_id}").status_code == 200  # refreshes the assessment
    data = cidp_formdata(clinical_summary="Rewritten after the refresh (synthetic).")
    data.setlist("version", [version.group(1)])
    response = logged_in.post(f"/cases/{case_id}/edit", data=data)
    assert response.status_code == 303, page_text(response.text)[:800]


def test_other_definition_versions_make_it_stale(
    logged_in: FlaskClient, sessions: Sessions, evaluations: list[int]
) -> None:
    case_id = create_case(logged_in)
    stored = _record(sessions, case_id).assessment
    assert stored is not None
    current_versions = dict(stored["definition_versions"])
    stored["definition_versions"] = {key: "0000000" for key in current_versions}
    _store_assessment(sessions, case_id, stored)
    evaluations.clear()
    assert logged_in.get(f"/cases/{case_id}/letter").status_code == 200
    assert evaluations == [1]
    refreshed = _record(sessions, case_id).assessment
    assert refreshed is not None
    assert refreshed["definition_versions"] == current_versions


def test_the_dashboard_and_the_case_page_show_the_one_verdict(
    logged_in: FlaskClient, sessions: Sessions, evaluations: list[int]
) -> None:
    case_id = create_case(logged_in)
    stored = _record(sessions, case_id).assessment
    assert stored is not None
    # Whatever the stored assessment says is what every page says.
    stored["verdict"] = "not_ready"
    stored["verdict_reasons"] = ["A reason only the stored assessment gives (synthetic)."]
    _store_assessment(sessions, case_id, stored)
    evaluations.clear()
    case_page = page_text(logged_in.get(f"/cases/{case_id}").text)
    dashboard = page_text(logged_in.get("/").text)
    assert "A reason only the stored assessment gives" in case_page
    assert "Not ready" in case_page
    assert "Not ready" in dashboard
    assert evaluations == []


def test_a_case_without_a_stored_assessment_gets_one(
    logged_in: FlaskClient, sessions: Sessions, evaluations: list[int]
) -> None:
    case_id = create_case(logged_in)
    _store_assessment(sessions, case_id, None)
    evaluations.clear()
    assert logged_in.get("/").status_code == 200
    assert evaluations == [1]
    assert _record(sessions, case_id).assessment is not None
    assert logged_in.get(f"/cases/{case_id}").status_code == 200
    assert evaluations == [1]
