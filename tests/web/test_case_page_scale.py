"""The case page reads its documents' metadata, not their bytes, and pages its history."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_dashboard_scale import StatementCounter
from web_helpers import build_case, demo_account, log_in_demo, page_text

from priorauth.store import repository
from priorauth.store.models import User

Sessions = sessionmaker[Session]


def _people(session: Session) -> tuple[User, User]:
    billing = session.scalars(select(User).where(User.email == demo_account("billing").email))
    physician = session.scalars(select(User).where(User.email == demo_account("physician").email))
    return billing.one(), physician.one()


def test_the_case_page_never_selects_a_pdf_or_an_upload(
    client: FlaskClient, sessions: Sessions
) -> None:
    with sessions() as session:
        billing, physician = _people(session)
        signed = build_case(
            session,
            organization_id=billing.organization_id,
            creator_id=billing.id,
            signer=physician,
            setup="signed",
        ).id
        attached = build_case(
            session,
            organization_id=billing.organization_id,
            creator_id=billing.id,
            signer=physician,
            setup="draft+attachment",
        ).id
        session.commit()
    log_in_demo(client, "billing")
    for case_id in (signed, attached):
        counter = StatementCounter()
        with counter:
            page = client.get(f"/cases/{case_id}")
        assert page.status_code == 200
        selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
        assert any("FROM documents" in s or "FROM attachments" in s for s in selects)
        blobs = [
            s
            for s in selects
            if re.search(r"documents\.(pdf|case_snapshot)\b|attachments\.data\b", s)
        ]
        assert blobs == [], blobs
    # The bytes are still there when asked for: the download reads them.
    with sessions() as session:
        record = repository.get_case(session, billing.organization_id, signed)
        assert record is not None
        document = record.documents[-1]
        expected = document.pdf  # deferred: loaded now, in the session
    download = client.get(f"/cases/{signed}/documents/{document.id}")
    assert download.status_code == 200 and download.data == expected


def test_the_history_counts_and_pages_beyond_two_thousand_changes(
    client: FlaskClient, sessions: Sessions
) -> None:
    changes = 2_130
    with sessions() as session:
        billing, physician = _people(session)
        record = build_case(
            session,
            organization_id=billing.organization_id,
            creator_id=billing.id,
            signer=physician,
        )
        actor = repository.Actor(billing.id, billing.organization_id, billing.role)
        for _ in range(changes - 1):
            repository.record_event(session, actor, "case.update", "ok", case_id=record.id)
        repository.record_event(session, actor, "case.create", "ok", case_id=record.id)
        for _ in range(7):
            repository.record_event(session, actor, "case.view", "ok", case_id=record.id)
        session.commit()
        case_id = record.id
    log_in_demo(client, "billing")
    first = page_text(client.get(f"/cases/{case_id}").text)
    assert f"{changes} changes, newest first: page 1 of 43." in first
    assert "Created the case" in first  # the newest event
    # Seven reads recorded here, and this very view (audited before the page is built).
    assert re.search(r"And (7|8) times the case or its documents were opened", first)
    last_page = client.get(f"/cases/{case_id}?history=43")
    text = page_text(last_page.text)
    assert "page 43 of 43" in text
    rows = re.search(r'id="history".*?</section>', last_page.text, re.S)
    assert rows is not None
    assert rows.group(0).count("Edited the case") == changes - 42 * 50
    assert "Newer changes" in text and "Older changes" not in text
    assert "page 1 of 43" in page_text(client.get(f"/cases/{case_id}?history=abc").text)
