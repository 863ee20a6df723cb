"""Engines, sessions and migrations for SQLite (the default) and PostgreSQL.

On SQLite (WAL mode, a busy timeout) a transaction begins as a reader and takes
the database's single write lock only at its first write: just before the first
INSERT, UPDATE, DELETE, DDL or SELECT ... FOR UPDATE it ends its read snapshot and
begins again as a writer (BEGIN IMMEDIATE, waiting up to the busy timeout). So a
request that only reads, or reads for a long time before it writes (a login's
user lookup, a letter render), never holds the lock while it reads, and a write
transaction lasts only from its first write to its commit. What was read before
the switch may be older than what the write sees: the optimistic version check on
cases and drafts catches a change made in between, and the audit chain's head is
read FOR UPDATE, which switches first. PostgreSQL (read committed) needs none of
this: a row is locked only when written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.ddl import ExecutableDDLElement
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import Select

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# How long a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option naming the SQLite BEGIN mode for a connection's transactions.
SQLITE_BEGIN_OPTION = "priorauth_sqlite_begin"
# Connection.info key: whether the connection's current transaction holds the write lock.
_WRITER = "priorauth_writer"
_WRITING_SQL = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
# Connections per process: one per request in flight (a thread each), so at least the
# server's threads per worker. On PostgreSQL, workers x (pool + overflow) must stay
# under the server's max_connections (100 by default).
POOL_SIZE_ENV = "PRIORAUTH_DB_POOL_SIZE"
DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 20
# How long a request waits for a free connection before failing.
POOL_TIMEOUT_S = 30


def pool_options() -> dict[str, int]:
    """The pool's size from PRIORAUTH_DB_POOL_SIZE (default 10), overflow twice that."""
    raw = os.environ.get(POOL_SIZE_ENV, "").strip()
    size = int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_POOL_SIZE
    overflow = DEFAULT_MAX_OVERFLOW if not raw else 2 * size
    return {"pool_size": size, "max_overflow": overflow, "pool_timeout": POOL_TIMEOUT_S}


def _writes(statement: Any) -> bool:
    """Whether a statement writes, or reads to write (FOR UPDATE)."""
    if isinstance(statement, UpdateBase | ExecutableDDLElement):
        return True
    if isinstance(statement, Select):
        return statement._for_update_arg is not None
    if isinstance(statement, TextClause):
        return _WRITING_SQL.match(statement.text) is not None
    if isinstance(statement, str):
        return _WRITING_SQL.match(statement) is not None
    return False


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
    in_memory = not url.database or url.database == ":memory:"
    if not in_memory:
        options = {**pool_options(), **options}
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **options)

    if not in_memory:
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
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
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.info[_WRITER] = mode == "IMMEDIATE"
        connection.exec_driver_sql(f"BEGIN {mode}")

    @event.listens_for(engine, "before_execute")
    def _before_execute(connection: Any, statement: Any, *_args: Any) -> None:
        # A reader that is about to write becomes a writer (see the module's
        # docstring). Upgrading in place would fail at once, without waiting,
        # whenever another writer committed since this snapshot began.
        if connection.info.get(_WRITER, True) or not connection.in_transaction():
            return
        if not _writes(statement):
            return
        connection.info[_WRITER] = True
        raw = connection.connection.driver_connection
        raw.execute("COMMIT")
        raw.execute("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


# Session.connection(execution_options=WRITER) begins the next transaction as a writer.
WRITER = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}


def for_writing(engine: Engine) -> Engine:
    """The same engine and pool, its transactions begun as writers (BEGIN IMMEDIATE on SQLite).

    For a transaction that reads what it is about to write (a counter, a check
    before an insert) and must not see it change in between.
    """
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**WRITER)


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
