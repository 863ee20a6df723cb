"""Alembic environment: run the packaged migrations against one database URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from priorauth.store.db import make_engine
from priorauth.store.models import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.attributes["database_url"])
    try:
        with engine.connect() as connection:
            if connection.dialect.name != "sqlite":
                _run(connection)
                return
            # SQLite copies a table to change its constraints (batch mode), which
            # foreign keys pointing at it would refuse: switch them off for the
            # migration, before its transaction begins (inside one the pragma does
            # nothing), then check every reference still holds (the SQLite
            # documentation's procedure for schema changes, "ALTER TABLE", §7).
            raw = connection.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
            try:
                _run(connection)
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
            finally:
                raw.execute("PRAGMA foreign_keys=ON")
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; give a database URL")
run_migrations_online()
