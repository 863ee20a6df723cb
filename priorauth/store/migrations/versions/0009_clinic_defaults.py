"""The clinic's usual site of care and product, kept with its letterhead.

Two columns with empty defaults: an existing letterhead preselects nothing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("letterheads") as table:
        table.add_column(
            sa.Column("usual_site_of_care", sa.String(length=30), nullable=False, server_default="")
        )
        table.add_column(
            sa.Column("usual_product_id", sa.String(length=60), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("letterheads") as table:
        table.drop_column("usual_product_id")
        table.drop_column("usual_site_of_care")
