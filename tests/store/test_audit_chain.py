"""The audit trail: append-only, hash-chained, and the verifier finds each kind of tampering.

Tampering needs what the application never has: the database owner turning the
append-only triggers off. Each test does that first, as an attacker with the
database's keys would, then edits, deletes or reorders rows behind the app.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from priorauth.store import audit
from priorauth.store.db import for_writing, session_factory
from priorauth.store.models import AppendOnlyError, AuditEvent
from priorauth.store.repository import Actor, record_event

ACTOR = Actor(None, None, "billing", "127.0.0.1")


def _write_events(engine: Engine, count: int = 5) -> list[int]:
    with session_factory(engine)() as session:
        ids = []
        for number in range(count):
            event = record_event(session, ACTOR, f"test.action{number}", "ok", case_id=number)
            ids.append(event.id)
        session.commit()
    return ids


@contextmanager
def _as_database_owner(engine: Engine) -> Iterator[Connection]:
    """A connection with the append-only triggers off (what tampering needs)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # The PostgreSQL schema is shared by the tests: switch them back on.
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            try:
                yield connection
            finally:
                connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
            yield connection


def _verify(engine: Engine) -> audit.Verification:
    with session_factory(engine)() as session:
        return audit.verify(session)


def test_an_untouched_trail_verifies(engine: Engine) -> None:
    _write_events(engine)
    result = _verify(engine)
    assert result.ok, result.problems
    assert result.events == 5
    assert len(result.head_hash) == 64


def test_each_row_hashes_its_canonical_json_and_links_to_the_one_before(engine: Engine) -> None:
    _write_events(engine, 3)
    with session_factory(engine)() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == audit.GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.row_hash
    fields = audit.event_fields(events[1])
    # Canonical: sorted keys, no spaces; the same bytes whatever the dict's order.
    canonical = audit.canonical_json(fields)
    assert (
        canonical
        == json.dumps(
            dict(reversed(list(fields.items()))), sort_keys=True, separators=(",", ":")
        ).encode()
    )
    assert audit.event_hash(fields) == events[1].row_hash


def test_the_verifier_finds_an_edited_entry(engine: Engine) -> None:
    ids = _write_events(engine)
    with _as_database_owner(engine) as connection:
        connection.execute(
            text("UPDATE audit_events SET outcome = 'ok', action = 'case.view' WHERE id = :id"),
            {"id": ids[2]},
        )
    result = _verify(engine)
    assert [(p.kind, p.event_id) for p in result.problems] == [("edited", ids[2])]


def test_the_verifier_finds_a_deleted_entry(engine: Engine) -> None:
    ids = _write_events(engine)
    with _as_database_owner(engine) as connection:
        connection.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[1]})
    result = _verify(engine)
    assert [(p.kind, p.event_id) for p in result.problems] == [("missing", ids[2])]
    assert "position 2" in str(result.problems[0])


def test_the_verifier_finds_a_deleted_last_entry(engine: Engine) -> None:
    ids = _write_events(engine)
    with _as_database_owner(engine) as connection:
        connection.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[-1]})
    result = _verify(engine)
    assert [p.kind for p in result.problems] == ["missing"]


def test_the_verifier_finds_a_reordered_entry(engine: Engine) -> None:
    """Two entries swap places: each row still hashes right, but the order is not the chain's."""
    ids = _write_events(engine)
    columns = [
        "seq", "at", "user_id", "organization_id", "role", "action", "case_id", "document_id",
        "outcome", "remote_addr", "detail", "prev_hash", "row_hash",
    ]  # fmt: skip
    with _as_database_owner(engine) as connection:
        rows = {
            row.id: row._mapping
            for row in connection.execute(
                text(f"SELECT id, {', '.join(columns)} FROM audit_events WHERE id IN (:a, :b)"),
                {"a": ids[1], "b": ids[2]},
            )
        }
        # Park one row's seq out of the way first: seq is unique.
        connection.execute(text("UPDATE audit_events SET seq = -1 WHERE id = :id"), {"id": ids[1]})
        for target, source in ((ids[2], ids[1]), (ids[1], ids[2])):
            values = dict(rows[source])
            values.pop("id")
            assignments = ", ".join(f"{c} = :{c}" for c in columns)
            connection.execute(
                text(f"UPDATE audit_events SET {assignments} WHERE id = :target"),
                {**values, "target": target},
            )
    result = _verify(engine)
    assert result.problems, "a reordered trail must not verify"
    assert {p.kind for p in result.problems} == {"reordered"}


def test_the_verifier_finds_an_entry_added_behind_the_apps_back(engine: Engine) -> None:
    _write_events(engine, 2)
    with session_factory(engine)() as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert last is not None
        forged = AuditEvent(
            seq=3,
            at=last.at,
            action=last.action,
            outcome="ok",
            detail="",
            prev_hash=last.row_hash,
        )
        forged.row_hash = audit.event_hash(audit.event_fields(forged))
        session.add(forged)  # an insert, not through audit.append: the head is not moved
        session.commit()
    result = _verify(engine)
    assert [p.kind for p in result.problems] == ["added"]


def test_the_app_cannot_change_or_delete_an_entry(db_session: Session) -> None:
    event = record_event(db_session, ACTOR, "case.view", "ok", case_id=1)
    db_session.commit()
    event.outcome = "refused"
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()
    db_session.delete(db_session.get(AuditEvent, event.id))
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET outcome = 'ok'", "DELETE FROM audit_events"]
)
def test_the_database_refuses_changes_from_any_client(engine: Engine, statement: str) -> None:
    _write_events(engine, 1)
    with pytest.raises(DBAPIError), engine.begin() as connection:
        connection.execute(text(statement))
    assert _verify(engine).ok


def test_concurrent_writers_make_one_chain(engine: Engine) -> None:
    """Two threads appending at once still make one unbroken line (the head row is locked)."""
    sessions = session_factory(for_writing(engine))
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for number in range(8):
                with sessions() as session:
                    record_event(session, ACTOR, f"test.worker{worker}", "ok", case_id=number)
                    session.commit()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    result = _verify(engine)
    assert result.ok, result.problems
    assert result.events == 16
