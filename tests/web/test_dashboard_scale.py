"""The dashboard, its queues and its search cost the same few queries for 10 or 1,000 cases.

SQL statements are counted with a SQLAlchemy event listener on every engine while
one request runs; the cases are inserted in bulk (``store.synthetic``) as copies
of one case saved through the form, so their verdicts are current.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import TODAY, create_case, log_in_demo, page_text

from priorauth.rules.engine import evaluate
from priorauth.store import listing, queues, synthetic
from priorauth.store.models import CaseRecord
from priorauth.web import casefile

Sessions = sessionmaker[Session]


class StatementCounter:
    """Counts the SQL statements sent to any database while it is active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, *args: Any) -> None:
        self.statements.append(str(args[2]))

    def __enter__(self) -> StatementCounter:
        event.listen(Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self)


@pytest.fixture
def counted() -> Iterator[StatementCounter]:
    yield StatementCounter()


def _grow_to(sessions: Sessions, template_id: int, total: int) -> None:
    with sessions() as session:
        have = session.scalar(select(func.count(CaseRecord.id))) or 0
        template = session.get(CaseRecord, template_id)
        assert template is not None
        synthetic.clone_cases(session, template, total - have, today=TODAY)
        session.commit()


def _statements(client: FlaskClient, method: str, url: str, **data: str) -> int:
    counter = StatementCounter()
    with counter:
        response = client.open(url, method=method, data=data or None)
    assert response.status_code == 200, response.status_code
    return len(counter.statements)


REQUESTS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("GET", "/", {}),
    ("GET", "/?page=2", {}),
    ("POST", "/", {"action": "search", "q": "avery", "state": "", "payer": ""}),
    ("POST", "/", {"action": "search", "q": "", "state": "denied", "payer": "", "page": "2"}),
)


def test_the_same_number_of_queries_for_10_and_1000_cases(
    client: FlaskClient, sessions: Sessions
) -> None:
    log_in_demo(client, "billing")
    template = create_case(client)
    counts: dict[int, list[int]] = {}
    for size in (10, 1000):
        _grow_to(sessions, template, size)
        for method, url, data in REQUESTS:  # once to settle caches (the library, the user)
            _statements(client, method, url, **data)
        counts[size] = [_statements(client, method, url, **data) for method, url, data in REQUESTS]
    assert counts[10] == counts[1000], counts
    # A handful: the user, counts, a page, the payers, two per queue section (the
    # sections that show signatures read them in one more), the audit, and the policy
    # sweep's two reads of the list columns (which versions are in play, which are stale).
    assert max(counts[1000]) <= 36, counts


@pytest.mark.parametrize("role", ["physician", "advocate"])
def test_other_roles_also_read_a_constant_number(
    client: FlaskClient, sessions: Sessions, role: str
) -> None:
    log_in_demo(client, "billing")
    template = create_case(client)
    client.post("/logout")
    log_in_demo(client, role)
    counts = []
    for size in (10, 300):
        _grow_to(sessions, template, size)
        _statements(client, "GET", "/")
        counts.append(_statements(client, "GET", "/"))
    assert counts[0] == counts[1]


def test_pages_of_fifty_and_a_search_beyond_the_first_page(
    client: FlaskClient, sessions: Sessions
) -> None:
    log_in_demo(client, "billing")
    template = create_case(client)
    _grow_to(sessions, template, 120)
    first = page_text(client.get("/").text)
    assert "Cases 1 to 50 of 120, page 1 of 3." in first
    last = page_text(client.get("/?page=3").text)
    assert "Cases 101 to 120 of 120, page 3 of 3." in last
    # Out of range or not a number: the nearest page, never an error.
    assert "page 3 of 3" in page_text(client.get("/?page=999").text)
    assert "page 1 of 3" in page_text(client.get("/?page=x").text)
    # The oldest copy (number 118 of 119) is on the last page; the search finds it.
    with sessions() as session:
        oldest = session.scalars(
            select(CaseRecord).order_by(CaseRecord.updated_at, CaseRecord.id).limit(1)
        ).one()
        name = oldest.patient_name
    assert name not in first
    found = client.post("/", data={"action": "search", "q": name.split()[1].upper()})
    assert f"Case {oldest.id}" in found.text
    assert "1 of 120 cases match" in page_text(found.text)
    # A search's own pages are posted with the terms, never put in the URL.
    many = client.post("/", data={"action": "search", "q": "e"})
    assert 'name="page" value="2"' in many.text and "?page=" not in many.text


def test_search_wildcards_are_taken_literally(client: FlaskClient, sessions: Sessions) -> None:
    log_in_demo(client, "billing")
    template = create_case(client)
    _grow_to(sessions, template, 12)
    for text in ("%", "_", "\\"):
        found = page_text(client.post("/", data={"action": "search", "q": text}).text)
        assert "0 of 12 cases match" in found


def test_queue_sections_count_all_and_show_the_first(
    client: FlaskClient, sessions: Sessions
) -> None:
    log_in_demo(client, "billing")
    template = create_case(client)
    _grow_to(sessions, template, 400)
    with sessions() as session:
        drafts = int(
            session.scalar(select(func.count(CaseRecord.id)).where(CaseRecord.state == "draft"))
            or 0
        )
    page = client.get("/").text
    assert f'id="queue-to_complete">Cases to complete <span class="badge">{drafts}</span>' in page
    assert f"And {drafts - 10} more" in page


def test_list_columns_follow_every_write(sessions: Sessions, client: FlaskClient) -> None:
    """What refresh stores equals what the migration's backfill computes, for each state."""
    from importlib import import_module

    from web_helpers import WORKFLOW_SETUPS, build_case, demo_account

    from priorauth.store.models import User

    backfill: Any = import_module("priorauth.store.migrations.versions.0005_listing_columns")
    with sessions() as session:
        billing = session.scalars(
            select(User).where(User.email == demo_account("billing").email)
        ).one()
        physician = session.scalars(
            select(User).where(User.email == demo_account("physician").email)
        ).one()
        for setup in WORKFLOW_SETUPS:
            record = build_case(
                session,
                organization_id=billing.organization_id,
                creator_id=billing.id,
                signer=physician,
                setup=setup,
            )
            session.commit()
            stored = {key: getattr(record, key) for key in listing.columns_of(record)}
            assert stored == listing.columns_of(record), setup
            frozen = backfill._columns(
                record,
                list(record.submissions),
                list(record.decisions),
                list(record.denials),
                list(record.signatures),
            )
            assert frozen == stored, setup
            if setup == "approved":
                assert stored["authorization_number"] == "AUTH-1"
            if setup == "denied+notice":
                assert "pa-2026-0001" in stored["search_text"]
            if setup == "signed":
                assert stored["signed_current"] is True


def test_a_new_day_evaluates_only_the_cases_shown(
    app: Flask, client: FlaskClient, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verdicts made yesterday are evaluated again for the page shown, not for every case."""
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return evaluate(*args, **kwargs)

    log_in_demo(client, "billing")
    template = create_case(client)
    _grow_to(sessions, template, 300)
    monkeypatch.setattr(casefile, "evaluate", counted)
    assert client.get("/").status_code == 200
    assert calls == []  # made today: every stored verdict stands
    app.config["PRIORAUTH_TODAY"] = TODAY + dt.timedelta(days=1)
    assert client.get("/").status_code == 200
    # The table's 50 and the drafts queue's first 10 (some on both), never the 300.
    assert 50 <= len(calls) <= 60, len(calls)
    shown = len(calls)
    with sessions() as session:
        fresh = session.scalar(
            select(func.count(CaseRecord.id)).where(
                CaseRecord.verdict_as_of == TODAY + dt.timedelta(days=1)
            )
        )
    assert fresh == shown  # written back, list columns with it
    assert client.get("/").status_code == 200
    assert len(calls) == shown  # the next view evaluates nothing


def test_a_persons_cases_are_those_prescribed_or_assigned(app: Flask, sessions: Sessions) -> None:
    from web_helpers import another_valid_npi, build_case, demo_account

    from priorauth.store.models import User

    with sessions() as session:
        people = {
            role: session.scalars(select(User).where(User.email == demo_account(role).email)).one()
            for role in ("billing", "physician", "advocate")
        }
        billing, physician = people["billing"], people["physician"]

        def make(npi: str | None, assign: tuple[int, ...] = ()) -> int:
            record = build_case(
                session,
                organization_id=billing.organization_id,
                creator_id=billing.id,
                signer=physician,
                prescriber_npi=npi,
                assign_ids=assign,
            )
            session.commit()
            return int(record.id)

        other = another_valid_npi()
        prescribed = make(None)  # the demo physician's NPI
        assigned = make(other, (physician.id, people["advocate"].id))
        neither = make(other)
    for role, expected in (
        ("physician", {prescribed, assigned}),
        ("advocate", {assigned}),
        ("billing", {prescribed, assigned, neither}),
    ):
        client = app.test_client()
        log_in_demo(client, role)
        page = client.get("/").text
        shown = {
            case_id for case_id in (prescribed, assigned, neither) if f"Case {case_id}<" in page
        }
        assert shown == expected, role


def test_a_queue_lists_the_soonest_first_and_undated_last(sessions: Sessions) -> None:
    from web_helpers import build_case, demo_account

    from priorauth.store.models import CaseState, User

    with sessions() as session:
        billing, physician = (
            session.scalars(select(User).where(User.email == demo_account(role).email)).one()
            for role in ("billing", "physician")
        )
        made = []
        for days in (None, 30, 3, 20):
            record = build_case(
                session,
                organization_id=billing.organization_id,
                creator_id=billing.id,
                signer=physician,
                setup="denied",
            )
            # A decision changed on its own: its case's list columns follow.
            record.decisions[-1].respond_by = (
                None if days is None else TODAY + dt.timedelta(days=days)
            )
            session.commit()
            made.append(record.id)
        undated, late, soon, middle = made
        rule = queues.QueueRule(
            CaseState.DENIED, due="respond_by", urgent_until=TODAY + dt.timedelta(days=14)
        )
        scope = listing.Scope(billing.organization_id)
        entries, total = queues.queue(session, scope, rule, limit=3)
        assert total == 4
        assert [e.record.id for e in entries] == [soon, middle, late]
        assert [e.urgent for e in entries] == [True, False, False]
        entries, _ = queues.queue(session, scope, rule, limit=10)
        assert [e.record.id for e in entries] == [soon, middle, late, undated]
