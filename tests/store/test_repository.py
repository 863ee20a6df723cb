"""The store: organization scoping, optimistic locking, UTC times, seeding, passwords."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from priorauth.store import repository
from priorauth.store.db import for_writing, make_engine, normalise_url, session_factory
from priorauth.store.models import CaseRecord, Organization, User
from priorauth.store.passwords import HASHER, hash_password, needs_rehash, verify_password
from priorauth.store.repository import Actor, EditConflict
from priorauth.store.seed import DEMO_ACCOUNTS, DEMO_ORGANIZATION, seed_demo

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cidp-initial-qualifies.json"


def _case_data() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def _demo(session: Session) -> tuple[Organization, User]:
    organization = session.scalars(
        select(Organization).where(Organization.name == DEMO_ORGANIZATION)
    ).one()
    user = session.scalars(select(User).where(User.email == "billing@demo.example")).one()
    return organization, user


def _new_case(session: Session) -> CaseRecord:
    organization, user = _demo(session)
    record = repository.create_case(
        session,
        organization_id=organization.id,
        user_id=user.id,
        data=_case_data(),
        assessment=None,
    )
    session.commit()
    return record


def test_seed_is_idempotent_and_returns_the_credentials(db_session: Session) -> None:
    before = db_session.scalar(select(func.count()).select_from(User))
    accounts = seed_demo(db_session)
    assert db_session.scalar(select(func.count()).select_from(User)) == before
    assert {a.role for a in accounts} == {"billing", "physician", "advocate", "admin"}
    for account in accounts:
        user = repository.find_user_by_email(db_session, account.email)
        assert user is not None and user.active
        assert user.role == account.role
        assert verify_password(user.password_hash, account.password)
    physician = repository.find_user_by_email(db_session, "physician@demo.example")
    assert physician is not None and physician.npi == "1234567893"


def test_passwords_are_argon2id_with_owasp_parameters() -> None:
    hashed = hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    # OWASP minimum: 19 MiB memory, 2 iterations.
    assert HASHER.memory_cost >= 19 * 1024
    assert HASHER.time_cost >= 2
    assert verify_password(hashed, "correct horse battery staple")
    assert not verify_password(hashed, "wrong")
    assert not verify_password(None, "anything")
    assert not verify_password("not a hash", "anything")
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID).hash("x")
    assert needs_rehash(weak)
    assert not needs_rehash(hashed)


def test_cases_are_scoped_to_their_organization(db_session: Session) -> None:
    record = _new_case(db_session)
    other = Organization(name="Elsewhere (synthetic)")
    db_session.add(other)
    db_session.commit()
    assert repository.get_case(db_session, record.organization_id, record.id) is not None
    assert repository.get_case(db_session, other.id, record.id) is None
    assert repository.list_cases(db_session, other.id) == []
    assert [c.id for c in repository.list_cases(db_session, record.organization_id)] == [record.id]


def test_times_come_back_in_utc(db_session: Session) -> None:
    record = _new_case(db_session)
    db_session.expire_all()
    fresh = db_session.get(CaseRecord, record.id)
    assert fresh is not None
    assert fresh.created_at.tzinfo is dt.UTC
    assert abs(dt.datetime.now(dt.UTC) - fresh.created_at) < dt.timedelta(minutes=5)


def test_each_update_bumps_the_version(db_session: Session) -> None:
    record = _new_case(db_session)
    assert record.version_id == 1
    _organization, user = _demo(db_session)
    data = _case_data()
    data["clinical_summary"] = "Changed."
    repository.update_case(
        db_session, record, expected_version=1, user_id=user.id, data=data, assessment=None
    )
    db_session.commit()
    assert record.version_id == 2
    with pytest.raises(EditConflict) as stale:
        repository.update_case(
            db_session, record, expected_version=1, user_id=user.id, data=data, assessment=None
        )
    assert stale.value.current_version == 2


def test_two_sessions_saving_the_same_version_one_wins(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions() as setup:
        case_id = _new_case(setup).id
        _organization, user = _demo(setup)
        user_id = user.id
    with sessions() as first, sessions() as second:
        theirs = second.get(CaseRecord, case_id)
        # Their read is over (on SQLite a writer could not start while it lasts),
        # but they still hold version 1 in memory, as a form open in a browser does.
        second.commit()
        mine = first.get(CaseRecord, case_id)
        assert mine is not None and theirs is not None
        data = _case_data()
        repository.update_case(
            first, mine, expected_version=1, user_id=user_id, data=data, assessment=None
        )
        first.commit()
        # The second session's object says version 1, so it passes the check in
        # Python; the database's "WHERE version_id = 1" catches it.
        with pytest.raises(EditConflict) as conflict:
            repository.update_case(
                second, theirs, expected_version=1, user_id=user_id, data=data, assessment=None
            )
        assert conflict.value.current_version == 2
        assert isinstance(conflict.value.__cause__, StaleDataError)


def test_documents_are_found_only_through_their_organization(db_session: Session) -> None:
    record = _new_case(db_session)
    _organization, user = _demo(db_session)
    document = repository.add_document(
        db_session,
        record,
        kind="letter",
        pdf=b"%PDF-1.7 synthetic",
        letter_date=dt.date(2026, 11, 20),
        definition_versions={"indication:cidp": "v1"},
        assessment={"verdict": "ready"},
        case_snapshot=record.data,
        user_id=user.id,
    )
    db_session.commit()
    assert document.size_bytes == len(b"%PDF-1.7 synthetic")
    assert len(document.sha256) == 64
    assert document.case_version == record.version_id
    found = repository.get_document(db_session, record.organization_id, record.id, document.id)
    assert found is not None and found.pdf == b"%PDF-1.7 synthetic"
    assert (
        repository.get_document(db_session, record.organization_id + 99, record.id, document.id)
        is None
    )
    assert (
        repository.get_document(db_session, record.organization_id, record.id + 1, document.id)
        is None
    )
    reused = repository.reusable_document(
        record,
        kind="letter",
        letter_date=dt.date(2026, 11, 20),
        definition_versions={"indication:cidp": "v1"},
    )
    assert reused is not None and reused.id == document.id
    assert (
        repository.reusable_document(
            record,
            kind="letter",
            letter_date=dt.date(2026, 11, 21),
            definition_versions={"indication:cidp": "v1"},
        )
        is None
    )


def test_audit_events_hold_who_what_and_outcome(db_session: Session) -> None:
    organization, user = _demo(db_session)
    event = repository.record_event(
        db_session,
        Actor(user.id, organization.id, user.role, "127.0.0.1"),
        "case.view",
        "ok",
        case_id=42,
    )
    db_session.commit()
    assert event.id is not None
    assert event.at.tzinfo is dt.UTC
    assert (event.action, event.outcome, event.case_id, event.role) == (
        "case.view",
        "ok",
        42,
        "billing",
    )


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_sqlite_writers_take_the_write_lock_up_front(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        writer = for_writing(engine)
        with writer.connect() as holder:
            holder.begin()
            holder.execute(text("SELECT 1"))  # begins IMMEDIATE: holds the write lock
            probe = make_engine(f"sqlite:///{tmp_path / 'lock.db'}", connect_args={"timeout": 0.1})
            with probe.connect() as other:
                other.exec_driver_sql("PRAGMA busy_timeout=100")
                with pytest.raises(Exception, match="locked"):
                    other.exec_driver_sql("BEGIN IMMEDIATE")
            probe.dispose()
            holder.rollback()
    finally:
        engine.dispose()


def test_a_bare_postgresql_url_uses_psycopg_3() -> None:
    assert normalise_url("postgresql://u@localhost/db").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.db").drivername == "sqlite"


def test_seed_accounts_are_one_per_role() -> None:
    assert sorted(a.role for a in DEMO_ACCOUNTS) == ["admin", "advocate", "billing", "physician"]
    assert all(a.email.endswith("@demo.example") for a in DEMO_ACCOUNTS)


def test_sqlite_readers_take_the_write_lock_only_at_their_first_write(tmp_path: Path) -> None:
    """A transaction that reads holds no lock; at its first write it waits for the lock
    and writes on the newest data, even when another writer committed meanwhile."""
    url = f"sqlite:///{tmp_path / 'upgrade.db'}"
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        with engine.connect() as reader, engine.connect() as other:
            reader.begin()
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
            # The reader holds no lock: another writer goes straight through.
            started = time.perf_counter()
            other.execute(text("INSERT INTO t VALUES (1)"))
            other.commit()
            assert time.perf_counter() - started < 1
            # Writing after that commit would fail at once (SQLITE_BUSY_SNAPSHOT) if the
            # reader upgraded in place; it begins again as a writer instead.
            reader.execute(text("INSERT INTO t VALUES (2)"))
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 2
            reader.commit()
    finally:
        engine.dispose()
