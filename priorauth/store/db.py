"""Engines, sessions and migrations for SQLite (the default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# How long a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option naming the SQLite BEGIN mode for a connection's transactions.
SQLITE_BEGIN_OPTION = "priorauth_sqlite_begin"


def default_database_url(instance_path: str | Path) -> str:
    """The SQLite database under the instance folder."""
    return f"sqlite:///{Path(instance_path).resolve() / 'priorauth.db'}"


def normalise_url(database_url: str | URL) -> URL:
    """Use psycopg 3 for a bare postgresql:// URL (SQLAlchemy would pick psycopg2)."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(database_url: str | URL, **options: Any) -> Engine:
    """Create an engine; on SQLite, turn on WAL, a busy timeout and foreign keys."""
    url = normalise_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **options)

    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN is ours to emit
        # (the SQLAlchemy documentation's recipe for SQLite transactions).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction starts IMMEDIATE: it takes the write lock up front
        # (waiting up to busy_timeout) instead of failing at its first write
        # when another writer has committed since it began reading.
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def for_writing(engine: Engine) -> Engine:
    """The same engine and pool, its transactions begun as writers (BEGIN IMMEDIATE on SQLite)."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


def alembic_config(database_url: str | URL) -> Config:
    """An Alembic configuration for the packaged migrations, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an option: configparser would read a "%" in
    # a password as interpolation.
    config.attributes["database_url"] = normalise_url(database_url)
    return config


def upgrade(database_url: str | URL, revision: str = "head") -> None:
    """Bring a database's schema up to a revision (the newest by default)."""
    command.upgrade(alembic_config(database_url), revision)


def current_revision(database_url: str | URL) -> str | None:
    """The schema revision a database is at, or None when it was never migrated."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
