"""Server-side login sessions; the audit chain head's signature.

Adds ``user_sessions`` (one row per login, ended by logout, a password change or
an administrator) and ``audit_chain_head.head_mac`` (HMAC of the head under a key
kept outside the database). A new table and a nullable column only: columns are
added with plain ALTER TABLE (no batch copy), so SQLite keeps the append-only
triggers of migration 0002.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("audit_chain_head", sa.Column("head_mac", sa.String(length=64), nullable=True))
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME, nullable=True),
        sa.Column("ended_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
    # Plain DROP COLUMN (SQLite 3.35+), as migration 0003 does.
    op.drop_column("audit_chain_head", "head_mac")
