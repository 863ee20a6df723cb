"""The workflow through the app: each state in turn, the records it keeps, the work queue."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import (
    TODAY,
    build_case,
    cidp_formdata,
    create_case,
    demo_account,
    log_in_demo,
    page_text,
    signing_fields,
)

from priorauth.store.models import CaseRecord, User

Sessions = sessionmaker[Session]


@pytest.fixture
def clients(app: Flask) -> dict[str, FlaskClient]:
    made = {}
    for role in ("billing", "physician", "advocate", "admin"):
        made[role] = app.test_client()
        log_in_demo(made[role], role)
    return made


def _version(client: FlaskClient, case_id: int, name: str) -> str:
    page = client.get(f"/cases/{case_id}/state/{name}")
    assert page.status_code == 200, page_text(page.text)[:400]
    match = re.search(r'name="version" value="(\d+)"', page.text)
    assert match
    return match.group(1)


def _move(client: FlaskClient, case_id: int, name: str, **data: str) -> None:
    version = _version(client, case_id, name)
    response = client.post(f"/cases/{case_id}/state/{name}", data={"version": version, **data})
    assert response.status_code == 303, (name, page_text(response.text)[:600])


def _state(sessions: Sessions, case_id: int) -> str:
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None
        return record.state


def test_a_case_from_draft_to_appeal_to_approval(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    billing, physician, advocate = clients["billing"], clients["physician"], clients["advocate"]
    case_id = create_case(billing)
    assert "Draft" in page_text(billing.get(f"/cases/{case_id}").text)
    _move(billing, case_id, "send_for_signature")
    queue = page_text(physician.get("/").text)
    assert "Letters to sign" in queue and f"Case {case_id}" in queue

    page = physician.get(f"/cases/{case_id}/sign")
    password = demo_account("physician").password
    signed = physician.post(
        f"/cases/{case_id}/sign",
        data={"password": password, "read_it": "y", **signing_fields(page.text)},
    )
    assert signed.status_code == 303, page_text(page.text)[:300]
    assert "Signed, ready to submit" in page_text(billing.get("/").text)

    _move(
        billing,
        case_id,
        "submit",
        submitted_on="2026-11-01",
        method="portal",
        payer_reference="PA-000123",
    )
    assert _state(sessions, case_id) == "submitted"
    queue = page_text(billing.get("/").text)
    assert "Submissions without a decision" in queue and "19 days ago" in queue

    # The advocate reaches only the cases assigned to them.
    assert advocate.get(f"/cases/{case_id}").status_code == 403
    with sessions() as session:
        advocate_id = session.scalars(
            select(User.id).where(User.email == demo_account("advocate").email)
        ).one()
    billing.post(f"/cases/{case_id}/assignments", data={"user_id": str(advocate_id)})
    assert advocate.get(f"/cases/{case_id}").status_code == 200
    _move(
        advocate,
        case_id,
        "deny",
        decided_on="2026-11-18",
        reason="Synthetic: step therapy not documented.",
        respond_by="2026-12-01",
    )
    queue = page_text(advocate.get("/").text)
    assert "Denials and appeal deadlines" in queue
    assert "appeal by 2026-12-01 (11 days left)" in queue

    # Appealing with the very letter the payer denied is refused, with the reason.
    refused = advocate.get(f"/cases/{case_id}/state/appeal")
    assert refused.status_code == 409
    assert "answer the payer's reason" in page_text(refused.text)
    # The advocate cannot edit the case; billing adds the missing documentation.
    assert advocate.get(f"/cases/{case_id}/edit").status_code == 403
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None
        version = record.version_id
    edited = billing.post(
        f"/cases/{case_id}/edit",
        data=cidp_formdata(version=str(version), clinical_summary="Step therapy documented."),
    )
    assert edited.status_code == 303
    assert _state(sessions, case_id) == "denied"  # still denied, its signature superseded
    _move(advocate, case_id, "appeal")
    assert _state(sessions, case_id) == "ready_for_signature"
    page = physician.get(f"/cases/{case_id}/sign")
    resigned = physician.post(
        f"/cases/{case_id}/sign",
        data={"password": password, "read_it": "y", **signing_fields(page.text)},
    )
    assert resigned.status_code == 303
    _move(billing, case_id, "submit", submitted_on="2026-11-19", method="fax")
    case_page = page_text(billing.get(f"/cases/{case_id}").text)
    assert "Appeal sent 2026-11-19 by Fax" in case_page

    _move(
        billing,
        case_id,
        "approve",
        decided_on="2026-11-20",
        authorization_number="AUTH-777",
        approved_units="200",
        start_date="2026-11-20",
        end_date="2026-12-25",
    )
    assert (
        billing.post(
            f"/cases/{case_id}/usage", data={"used_on": "2026-11-20", "units": "150"}
        ).status_code
        == 303
    )
    queue = page_text(billing.get("/").text)
    assert "ends 2026-12-25 (35 days left)" in queue
    assert "150 of 200 units used" in queue
    assert "150 of 200 units used" in page_text(billing.get(f"/cases/{case_id}").text)
    _move(billing, case_id, "close")
    assert _state(sessions, case_id) == "closed"
    # A closed case is not edited.
    assert billing.get(f"/cases/{case_id}/edit").status_code == 409


def test_a_transition_from_the_wrong_state_is_a_clear_conflict(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    billing = clients["billing"]
    case_id = create_case(billing)
    response = billing.post(f"/cases/{case_id}/state/approve", data={"version": "1"})
    assert response.status_code == 409
    assert "not possible while the case is draft" in page_text(response.text)
    assert _state(sessions, case_id) == "draft"


def test_a_stale_transition_is_a_conflict_and_changes_nothing(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    billing = clients["billing"]
    case_id = create_case(billing)
    version = _version(billing, case_id, "send_for_signature")
    _move(billing, case_id, "send_for_signature")
    _move(billing, case_id, "return_to_draft")
    late = billing.post(f"/cases/{case_id}/state/close", data={"version": version})
    assert late.status_code == 409
    assert "changed while this page was open" in page_text(late.text)
    assert _state(sessions, case_id) == "draft"


def test_details_are_checked_before_anything_is_recorded(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    with sessions() as session:
        billing = session.scalars(select(User).where(User.email == "billing@demo.example")).one()
        doctor = session.scalars(select(User).where(User.email == "physician@demo.example")).one()
        record = build_case(
            session,
            organization_id=billing.organization_id,
            creator_id=billing.id,
            signer=doctor,
            setup="submitted",
        )
        case_id = record.id
    version = _version(clients["billing"], case_id, "approve")
    response = clients["billing"].post(
        f"/cases/{case_id}/state/approve",
        data={
            "version": version,
            "decided_on": "2026-11-20",
            "authorization_number": "",
            "approved_units": "-3",
            "start_date": "2026-12-01",
            "end_date": "2026-11-01",
        },
    )
    assert response.status_code == 422
    text = page_text(response.text)
    assert "Enter the authorization number." in text
    assert "The last day covered is before the first." in text
    assert _state(sessions, case_id) == "submitted"


def test_the_work_queue_shows_each_role_its_own_work(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    with sessions() as session:
        people = {
            u.role: u
            for u in session.scalars(select(User)).all()
            if u.email.endswith("@demo.example")
        }
        made = {}
        for setup in ("draft", "ready", "signed", "pended", "denied", "approved"):
            made[setup] = build_case(
                session,
                organization_id=people["billing"].organization_id,
                creator_id=people["billing"].id,
                signer=people["physician"],
                setup=setup,
                assign_ids=(people["advocate"].id,),
            ).id
    billing = page_text(clients["billing"].get("/").text)
    for title in (
        "Cases to complete",
        "Signed, ready to submit",
        "Payer asked for more information",
        "Denials and appeal deadlines",
        "Authorizations ending within 60 days",
    ):
        assert title in billing
    physician = page_text(clients["physician"].get("/").text)
    assert "Letters to sign" in physician and f"Case {made['ready']}" in physician
    assert "Cases to complete" not in physician
    advocate = page_text(clients["advocate"].get("/").text)
    assert "Denials and appeal deadlines" in advocate
    expected_deadline = (TODAY + dt.timedelta(days=30)).isoformat()
    assert f"appeal by {expected_deadline}" in advocate
    admin = page_text(clients["admin"].get("/").text)
    assert "Avery" not in admin and "Accounts" in admin
