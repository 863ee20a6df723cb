"""Payer profiles kept in the app: an admin's edit is checked as `forms check` checks a file.

A typo is refused with its breadcrumb and changes nothing; a changed profile must raise
its version; a saved version is in effect for the organization's next request (no
restart), lists the cases whose verdict it changes for re-check, and leaves another
organization's cases alone; an upload works as the text box does; history shows what
each version changed and can restore one; the box has a stated limit.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import create_case, log_in, log_in_demo, page_text

from priorauth.paths import forms_dir
from priorauth.store.models import AuditEvent, CaseRecord, PayerProfileVersion
from priorauth.store.payer_profiles import MAX_TOML_CHARS

SHIPPED = (forms_dir() / "payers" / "reference.toml").read_text(encoding="utf-8")
STRICTER = """
[[overrides]]
indication = "cidp"
criterion = "duration_2_months"
set = { value = 12, title = "Course of at least 12 months" }
source = "the payer's policy update of 1 Dec 2026 (a test's)"
as_of = "2026-12-01"
"""
EDIT = "/admin/payers/reference/edit"


def _raised(text: str, version: str = "2") -> str:
    return text.replace('version = "1"', f'version = "{version}"', 1)


def _client(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    log_in_demo(client, role)
    return client


def _versions(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(PayerProfileVersion)) or 0


def test_a_typo_is_refused_with_its_breadcrumb_and_changes_nothing(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    billing = _client(app, "billing")
    case_id = create_case(billing)
    admin = _client(app, "admin")
    assert admin.get(EDIT).status_code == 200
    typo = _raised(SHIPPED).replace("[dosing_weight]", "[dosing_wieght]", 1)
    response = admin.post(EDIT, data={"reason": "New weight rule", "toml_text": typo})
    assert response.status_code == 422
    text = page_text(response.text)
    assert "Nothing was saved" in text
    assert "payers/reference.toml → payer reference → dosing_wieght" in text, text[:2000]
    assert "[dosing_wieght]" in response.text  # what was typed is still in the box
    assert _versions(sessions) == 0
    # The case is assessed under the shipped profile still.
    assert billing.get(f"/cases/{case_id}").status_code == 200
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None and record.assessment is not None
        assert record.assessment["definition_versions"]["payer:reference"].startswith("1/")


def test_a_changed_profile_must_raise_its_version(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    admin = _client(app, "admin")
    response = admin.post(EDIT, data={"reason": "Stricter", "toml_text": SHIPPED + STRICTER})
    assert response.status_code == 422
    assert "version: raise it" in page_text(response.text)
    assert _versions(sessions) == 0


def test_an_edit_takes_effect_at_once_lists_the_cases_it_changes_and_stays_in_its_clinic(
    app: Flask, sessions: sessionmaker[Session], other_clinic: Callable[[], tuple[str, str]]
) -> None:
    billing = _client(app, "billing")
    case_id = create_case(billing)  # symptoms for 5 months: ready under the shipped profile
    other = app.test_client()
    log_in(other, *other_clinic())
    other_case = create_case(other)

    admin = _client(app, "admin")
    response = admin.post(
        EDIT,
        data={"reason": "Policy update of 1 Dec 2026", "toml_text": _raised(SHIPPED) + STRICTER},
    )
    assert response.status_code == 303, page_text(response.text)[:2000]
    # In effect on billing's next request, without a restart: the case is listed.
    queue = page_text(billing.get("/").text)
    assert f"Case {case_id}" in queue[queue.find("Policy changed: re-check") :]
    assert "payer profile reference (version 1 → 2)" in queue
    page = page_text(billing.get(f"/cases/{case_id}").text)
    assert "Course of at least 12 months" in page
    # The other clinic's case is untouched, and its queue lists nothing.
    other_page = page_text(other.get(f"/cases/{other_case}").text)
    assert "Course of at least 12 months" not in other_page
    assert f"Case {other_case}" not in page_text(other.get("/").text).split("Cases to complete")[0]
    with sessions() as session:
        saved = session.scalars(select(PayerProfileVersion)).one()
        assert (saved.profile_id, saved.number, saved.reason) == (
            "reference",
            1,
            "Policy update of 1 Dec 2026",
        )
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "payer_profile.edit")
        ).all()
        assert [e.outcome for e in events] == ["ok"]
        assert "version 2" in events[0].detail


def test_an_upload_history_and_restore(app: Flask, sessions: sessionmaker[Session]) -> None:
    admin = _client(app, "admin")
    upload = (io.BytesIO(_raised(SHIPPED, "2").encode("utf-8")), "reference.toml")
    response = admin.post(
        EDIT,
        data={"reason": "Uploaded from the payer's file", "toml_text": "", "upload": upload},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, page_text(response.text)[:2000]
    response = admin.post(
        EDIT, data={"reason": "Stricter", "toml_text": _raised(SHIPPED, "3") + STRICTER}
    )
    assert response.status_code == 303
    history = admin.get("/admin/payers/reference/history")
    text = page_text(history.text)
    assert "Number 2" in text and "Number 1" in text and "Stricter" in text
    assert '+criterion = "duration_2_months"' in text  # the diff of number 2 against 1
    assert admin.post("/admin/payers/reference/restore/1").status_code == 303
    assert _versions(sessions) == 3
    edit_page = page_text(admin.get(EDIT).text)
    assert 'version = "2"' in edit_page and "duration_2_months" not in edit_page


def test_the_box_has_a_stated_limit(app: Flask, sessions: sessionmaker[Session]) -> None:
    admin = _client(app, "admin")
    page = admin.get(EDIT).text
    assert f'maxlength="{MAX_TOML_CHARS}"' in page
    assert f"At most {MAX_TOML_CHARS:,} characters" in page_text(page)
    too_long = _raised(SHIPPED) + "#" * MAX_TOML_CHARS
    response = admin.post(EDIT, data={"reason": "Long", "toml_text": too_long})
    assert response.status_code == 422
    assert _versions(sessions) == 0
