"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from priorauth.store.db import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    make_engine,
    upgrade,
)
from priorauth.store.models import Base


def _head(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_upgrade_an_empty_database(empty_database_url: str) -> None:
    assert current_revision(empty_database_url) is None
    upgrade(empty_database_url)
    assert current_revision(empty_database_url) == _head(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {
            "organizations",
            "users",
            "cases",
            "documents",
            "audit_events",
            "signatures",
            "submissions",
            "decisions",
            "case_assignments",
            "login_attempts",
            "audit_chain_head",
        } <= tables
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            # The migrated schema is exactly what the models say: nothing unmigrated.
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)
    assert current_revision(empty_database_url) == _head(empty_database_url)


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert any((MIGRATIONS_DIR / "versions").glob("*.py"))
    assert "priorauth" in MIGRATIONS_DIR.parts


def test_downgrade_to_0001_and_back(empty_database_url: str) -> None:
    from alembic import command

    upgrade(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "0001")
    assert current_revision(empty_database_url) == "0001"
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
