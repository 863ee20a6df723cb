"""Policy versions: cases to re-check after a definition or payer profile changed, and the
payer profiles an organization's admin keeps in the app.

New tables only.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Frozen copies of the model types: a migration must not change when models do.
UTC_DATETIME = sa.DateTime(timezone=True)


def json_doc() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _foreign(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "policy_rechecks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("verdict_before", sa.String(length=30), nullable=False),
        sa.Column("verdict_after", sa.String(length=30), nullable=False),
        sa.Column("changes", json_doc(), nullable=False),
        sa.Column("found_at", UTC_DATETIME, nullable=False),
        sa.Column("cleared_at", UTC_DATETIME, nullable=True),
        sa.Column("cleared_by_id", sa.Integer(), nullable=True),
        _foreign("policy_rechecks", "organization_id", "organizations"),
        _foreign("policy_rechecks", "case_id", "cases"),
        _foreign("policy_rechecks", "cleared_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_rechecks")),
    )
    op.create_index(
        op.f("ix_policy_rechecks_organization_id"), "policy_rechecks", ["organization_id"]
    )
    op.create_index(op.f("ix_policy_rechecks_case_id"), "policy_rechecks", ["case_id"])
    op.create_table(
        "payer_profile_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=60), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("toml_text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _foreign("payer_profile_versions", "organization_id", "organizations"),
        _foreign("payer_profile_versions", "created_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payer_profile_versions")),
    )
    op.create_index(
        op.f("ix_payer_profile_versions_organization_id"),
        "payer_profile_versions",
        ["organization_id"],
    )
    op.create_index(
        "ix_payer_profile_versions_profile",
        "payer_profile_versions",
        ["organization_id", "profile_id", "number"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("payer_profile_versions")
    op.drop_table("policy_rechecks")
