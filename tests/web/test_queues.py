"""Queues that move the work: a denial reaches the advocates; a letter to sign opens signing."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from web_helpers import build_case, demo_account, log_in_demo

from priorauth.store.models import AuditEvent, CaseAssignment, UnitUsage, User

Sessions = Any


def _people(session: Any) -> dict[str, User]:
    return {
        role: session.scalars(select(User).where(User.email == demo_account(role).email)).one()
        for role in ("billing", "physician", "advocate")
    }


def test_a_recorded_denial_lands_in_the_advocates_queue(
    client: FlaskClient, sessions: Sessions
) -> None:
    with sessions() as session:
        people = _people(session)
        record = build_case(
            session,
            organization_id=people["billing"].organization_id,
            creator_id=people["billing"].id,
            signer=people["physician"],
            setup="submitted",
        )
        case_id, version = record.id, record.version_id
    log_in_demo(client, "billing")
    denied = client.post(
        f"/cases/{case_id}/state/deny",
        data={
            "version": str(version),
            "decided_on": "2026-11-20",
            "reason": "Synthetic denial reason.",
            "respond_by": "2027-01-19",
        },
    )
    assert denied.status_code == 303, denied.text[:500]
    with sessions() as session:
        assigned = session.scalars(
            select(CaseAssignment.user_id).where(CaseAssignment.case_id == case_id)
        ).all()
        assert people["advocate"].id in assigned
        events = session.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.case_id == case_id, AuditEvent.action == "case.assign"
            )
        ).all()
        assert any("(denial)" in detail for detail in events)
    advocate = client.application.test_client()
    log_in_demo(advocate, "advocate")
    queue = advocate.get("/").text
    assert f'href="/cases/{case_id}"' in queue and "appeal by 2027-01-19" in queue


def test_the_physicians_queue_opens_the_signing_page(
    client: FlaskClient, sessions: Sessions
) -> None:
    with sessions() as session:
        people = _people(session)
        record = build_case(
            session,
            organization_id=people["billing"].organization_id,
            creator_id=people["billing"].id,
            signer=people["physician"],
            setup="ready",
        )
        case_id = record.id
    log_in_demo(client, "physician")
    assert f'href="/cases/{case_id}/sign"' in client.get("/").text


def test_units_are_dated_administrations_once_a_day_with_a_reason_past_the_total(
    client: FlaskClient, sessions: Sessions
) -> None:
    with sessions() as session:
        people = _people(session)
        record = build_case(
            session,
            organization_id=people["billing"].organization_id,
            creator_id=people["billing"].id,
            signer=people["physician"],
            setup="approved+usage",  # 100 approved, 40 given on the first day
        )
        case_id = record.id
    log_in_demo(client, "billing")
    url = f"/cases/{case_id}/usage"
    # The same day twice does not count twice.
    again = client.post(url, data={"used_on": "2026-11-20", "units": "40"}, follow_redirects=True)
    assert "are recorded already" in again.text
    # Past the approved total: refused without a reason, recorded with one.
    over = {"used_on": "2026-12-11", "units": "70"}
    refused = client.post(url, data=over, follow_redirects=True)
    assert "Give the reason" in refused.text and "40 of 100 units used" in refused.text
    kept = client.post(
        url,
        data={**over, "over_reason": "Weight went up; payer told by phone"},
        follow_redirects=True,
    )
    assert "110 of 100 units used" in kept.text and "past the approved total" in kept.text
    assert "10 past the approved total" in client.get("/").text  # in billing's queue
    # Listed by day, and correctable.
    with sessions() as session:
        entry = session.scalars(
            select(UnitUsage).where(UnitUsage.case_id == case_id, UnitUsage.units == 70)
        ).one()
        assert entry.over_reason == "Weight went up; payer told by phone"
        entry_id = entry.id
    removed = client.post(f"/cases/{case_id}/usage/{entry_id}/remove", follow_redirects=True)
    assert "40 of 100 units used" in removed.text
