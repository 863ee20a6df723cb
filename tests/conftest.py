"""Shared fixtures: ``app``, ``client`` and ``runner`` on a migrated, seeded database.

Every test that asks for a database runs on SQLite, and on PostgreSQL too when
PRIORAUTH_TEST_DATABASE_URL is set. PostgreSQL tests live in a schema of their
own, created for the test session and dropped at its end, so they never touch
anything else in that database.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, delete, make_url, text, update
from sqlalchemy.orm import Session

from priorauth.store import audit
from priorauth.store.db import make_engine, session_factory, upgrade
from priorauth.store.models import AuditChainHead, Organization, User
from priorauth.store.seed import DEMO_ACCOUNTS, DEMO_ORGANIZATION, seed_demo

# The day the tests live on: the example cases are dated around it.
TODAY = dt.date(2026, 11, 20)
POSTGRES_ENV = "PRIORAUTH_TEST_DATABASE_URL"


def _backends() -> list[Any]:
    backends: list[Any] = ["sqlite"]
    if os.environ.get(POSTGRES_ENV):
        backends.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return backends


def postgres_url_with_schema(base_url: str, schema: str) -> str:
    """The same database URL, with every connection working inside one schema."""
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            seed_demo(session)
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def _instance_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's instance folder (keys, anchors) in its own temporary folder.

    Without it the CLI and the app would write the audit key into the source
    tree's instance/, and one test's key would sign or judge another's trail.
    """
    monkeypatch.setenv("PRIORAUTH_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("PRIORAUTH_AUDIT_KEY", raising=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file, copied for each test (hashing passwords is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    _seed(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        # Fold the write-ahead log into the file so a plain copy holds everything.
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A schema of our own in the PostgreSQL test database, migrated and seeded."""
    base = os.environ[POSTGRES_ENV]
    schema = f"priorauth_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = postgres_url_with_schema(base, schema)
    try:
        upgrade(url)
        _seed(url)
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    """Remove what a test added, keeping the demo clinic and its accounts.

    TRUNCATE, not DELETE: audit events, documents and signatures are append-only,
    and their row triggers do not fire on TRUNCATE.
    """
    engine = make_engine(url)
    demo_emails = [account.email for account in DEMO_ACCOUNTS]
    try:
        with Session(engine) as session, session.begin():
            session.execute(
                text(
                    "TRUNCATE cases, intake_drafts, audit_events, login_attempts, "
                    "user_sessions, api_tokens, letterheads, prescribers, payer_entries, "
                    "patients, policy_rechecks, payer_profile_versions CASCADE"
                )
            )
            session.execute(update(AuditChainHead).values(last_seq=0, last_hash=audit.GENESIS_HASH))
            session.execute(delete(User).where(User.email.not_in(demo_emails)))
            session.execute(delete(Organization).where(Organization.name != DEMO_ORGANIZATION))
            session.execute(update(User).values(active=True))
        with Session(engine) as session:
            seed_demo(session)  # the demo clinic's directory again (the accounts are kept)
    finally:
        engine.dispose()


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database holding only the demo clinic, fresh for each test."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "priorauth.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    url = request.getfixturevalue("postgres_schema_url")
    _reset_postgres(url)
    try:
        yield url
    finally:
        _reset_postgres(url)


@pytest.fixture(params=_backends())
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    base = os.environ[POSTGRES_ENV]
    schema = f"priorauth_empty_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_url_with_schema(base, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


def make_test_app(database_url: str, **overrides: Any) -> Flask:
    """An application on the given database, configured for tests."""
    from priorauth.web import create_app

    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PRIORAUTH_DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "PRIORAUTH_TODAY": TODAY,
    }
    config.update(overrides)
    return create_app(config)


def dispose_app(app: Flask) -> None:
    state = app.extensions.get("priorauth")
    if state is not None:
        state.engine.dispose()


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Configuration a test adds to the app; override with @pytest.mark.parametrize."""
    return {}


@pytest.fixture
def app(database_url: str, app_config: dict[str, Any]) -> Iterator[Flask]:
    application = make_test_app(database_url, **app_config)
    yield application
    dispose_app(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()
