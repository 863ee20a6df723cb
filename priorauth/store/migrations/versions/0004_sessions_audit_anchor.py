"""Server-side login sessions; the audit chain head's signature; emails unique per organization.

Adds ``user_sessions`` (one row per login, ended by logout, a password change or
an administrator) and ``audit_chain_head.head_mac`` (HMAC of the head under a key
kept outside the database), and makes an email unique within an organization
instead of across the server (so creating an account never tells whether another
organization has that address). The head's column is added with plain ALTER
TABLE, so SQLite keeps the append-only triggers of migration 0002; ``users``
(which has no triggers) is copied by batch mode on SQLite, with foreign keys
off during the migration and checked after it (env.py).

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
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_email", type_="unique")
        batch.create_unique_constraint("uq_users_organization_id", ["organization_id", "email"])
        batch.create_index("ix_users_email", ["email"])
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
    # Fails if two organizations now share an address: resolve that by hand first.
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_email")
        batch.drop_constraint("uq_users_organization_id", type_="unique")
        batch.create_unique_constraint("uq_users_email", ["email"])
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
    # Plain DROP COLUMN (SQLite 3.35+), as migration 0003 does.
    op.drop_column("audit_chain_head", "head_mac")
