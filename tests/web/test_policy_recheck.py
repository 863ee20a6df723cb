"""A new policy version lists the open cases whose verdict it changes, in the work queue.

The library in effect is replaced by one whose reference payer profile has a new
version (a CIDP criterion made stricter): the case it turns not ready is listed under
"Policy changed: re-check" with what changed; a case it leaves ready is not; a version
raised without any change of verdict lists nothing; marking the case re-checked
takes it off the list (and is audited).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import cidp_formdata, create_case, log_in_demo, page_text

from priorauth.paths import forms_dir
from priorauth.rules.library import load_library
from priorauth.store.models import AuditEvent, CaseRecord, CaseState, PolicyRecheck
from priorauth.web.context import EXTENSION_KEY

STRICTER = """
[[overrides]]
indication = "cidp"
criterion = "duration_2_months"
set = { value = 12, title = "Course of at least 12 months" }
source = "a test's own policy change"
as_of = "2026-12-01"
"""


def _forms_with_reference(tmp_path: Path, *, version: str, extra: str = "") -> Path:
    root = tmp_path / f"forms-{version}"
    shutil.copytree(forms_dir(), root)
    profile = root / "payers" / "reference.toml"
    text = profile.read_text(encoding="utf-8").replace('version = "1"', f'version = "{version}"', 1)
    profile.write_text(text + extra, encoding="utf-8")
    return root


def _put_in_effect(app: Flask, root: Path) -> None:
    state = app.extensions[EXTENSION_KEY]
    app.extensions[EXTENSION_KEY] = dataclasses.replace(state, library=load_library(root))


def _queue(client: FlaskClient) -> str:
    page = client.get("/")
    assert page.status_code == 200
    text = page_text(page.text)
    start = text.find("Policy changed: re-check")
    assert start >= 0, text[:1500]
    return text[start : text.find("Cases to complete", start)]


def test_a_stricter_profile_lists_the_case_it_turns_not_ready(
    app: Flask, logged_in: FlaskClient, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    affected = create_case(logged_in)  # symptoms for 5 months: ready under version 1
    unaffected = create_case(logged_in, cidp_formdata(**{"answers-symptom_duration_months": "14"}))
    assert "Case" not in _queue(logged_in)

    _put_in_effect(app, _forms_with_reference(tmp_path, version="2", extra=STRICTER))
    queue = _queue(logged_in)
    assert f"Case {affected}" in queue, queue
    assert f"Case {unaffected}" not in queue, queue
    assert "now not ready" in queue.lower(), queue
    assert "payer profile reference (version 1 → 2)" in queue, queue

    # The case page says what changed and under which versions it is now assessed.
    page = page_text(logged_in.get(f"/cases/{affected}").text)
    assert "Policy changed: re-check this case" in page
    assert "Reference profile version 2" in page or "profile version 2" in page, page[:3000]

    # Marked re-checked: off the list, recorded in the audit trail.
    response = logged_in.post(f"/cases/{affected}/recheck")
    assert response.status_code == 303
    assert f"Case {affected}" not in _queue(logged_in)
    with sessions() as session:
        assert session.scalars(select(AuditEvent).where(AuditEvent.action == "case.recheck")).all()
        row = session.scalars(select(PolicyRecheck)).one()
        assert row.case_id == affected and row.cleared_at is not None


def test_a_version_raised_without_a_change_of_verdict_lists_nothing(
    app: Flask, logged_in: FlaskClient, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    case_id = create_case(logged_in)
    _put_in_effect(app, _forms_with_reference(tmp_path, version="2"))
    assert f"Case {case_id}" not in _queue(logged_in)
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None and record.assessment is not None
        # Evaluated again under the new version all the same, quietly.
        assert record.assessment["definition_versions"]["payer:reference"].startswith("2/")
        assert session.scalars(select(PolicyRecheck)).all() == []


def test_a_case_nobody_opened_is_found_by_the_queue(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    log_in_demo(client, "billing")
    case_id = create_case(client)
    _put_in_effect(app, _forms_with_reference(tmp_path, version="2", extra=STRICTER))
    # Never opened since the change: the dashboard's sweep evaluates it.
    assert f"Case {case_id}" in _queue(client)


def _approve(sessions: sessionmaker[Session], case_id: int, *, ends_in_days: int) -> None:
    # The list columns the queue reads, set as a recorded approval leaves them (the
    # decision's own path is tested in tests/store); a Core UPDATE, so the ORM's flush
    # hook does not recompute them from the (absent) decision. The verdict stays.
    with sessions.begin() as session:
        session.execute(
            update(CaseRecord)
            .where(CaseRecord.id == case_id)
            .values(
                state=CaseState.APPROVED.value,
                authorization_end=dt.date.today() + dt.timedelta(days=ends_in_days),
            )
        )


def test_an_approval_due_for_renewal_is_listed_and_a_later_one_is_not(
    app: Flask, logged_in: FlaskClient, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    due = create_case(logged_in)
    later = create_case(logged_in)
    _approve(sessions, due, ends_in_days=20)  # within the queue's renewal window
    _approve(sessions, later, ends_in_days=300)  # its renewal is far off
    _put_in_effect(app, _forms_with_reference(tmp_path, version="2", extra=STRICTER))
    queue = _queue(logged_in)
    assert f"Case {due}" in queue, queue
    assert f"Case {later}" not in queue, queue
