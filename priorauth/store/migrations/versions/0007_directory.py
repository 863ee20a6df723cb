"""The clinic's directory (letterhead, prescribers, payers, patients); drafts kept when closed;
units given once per day, with a reason past the approved total.

New tables and nullable columns only. A finished or discarded intake draft now
keeps its row (its values cleared) so its number is never given to another
draft, and Back to it can open the case it became.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _organization(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organization_id"],
        ["organizations.id"],
        name=op.f(f"fk_{table}_organization_id_organizations"),
    )


def _text(name: str, length: int = 200) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=False)


def upgrade() -> None:
    op.add_column("intake_drafts", sa.Column("closed_at", UTC_DATETIME, nullable=True))
    op.add_column("intake_drafts", sa.Column("finished_case_id", sa.Integer(), nullable=True))
    # Units given: one entry per day (a double post cannot count twice), and the reason
    # for units past the approved total.
    op.add_column("unit_usage", sa.Column("over_reason", sa.String(length=500), nullable=True))
    op.create_index(
        "ix_unit_usage_decision_day", "unit_usage", ["decision_id", "used_on"], unique=True
    )

    op.create_table(
        "letterheads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        _text("practice_name"),
        _text("practice_address"),
        _text("phone"),
        _text("fax"),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _organization("letterheads"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letterheads")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_letterheads_organization_id")),
    )
    op.create_table(
        "prescribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        _text("name"),
        _text("credentials", 40),
        _text("npi", 10),
        _text("specialty", 60),
        _text("phone"),
        _text("fax"),
        _text("practice_name"),
        _text("practice_address"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _organization("prescribers"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_prescribers_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescribers")),
        sa.UniqueConstraint("organization_id", "npi", name="uq_prescribers_org_npi"),
    )
    op.create_index(op.f("ix_prescribers_organization_id"), "prescribers", ["organization_id"])
    op.create_table(
        "payer_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        _text("name"),
        _text("plan_type", 30),
        _text("payer_profile", 60),
        _text("pa_fax"),
        _text("pa_address"),
        _text("appeals_fax"),
        _text("appeals_address"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _organization("payer_entries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payer_entries")),
    )
    op.create_index(op.f("ix_payer_entries_organization_id"), "payer_entries", ["organization_id"])
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        _text("first_name"),
        _text("last_name"),
        _text("date_of_birth", 10),
        _text("sex", 10),
        sa.Column("payer_entry_id", sa.Integer(), nullable=True),
        _text("member_id"),
        _text("group_number"),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _organization("patients"),
        sa.ForeignKeyConstraint(
            ["payer_entry_id"],
            ["payer_entries.id"],
            name=op.f("fk_patients_payer_entry_id_payer_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    op.create_index(op.f("ix_patients_organization_id"), "patients", ["organization_id"])


def downgrade() -> None:
    for table in ("patients", "payer_entries", "prescribers"):
        op.drop_index(op.f(f"ix_{table}_organization_id"), table_name=table)
    for table in ("patients", "payer_entries", "prescribers", "letterheads"):
        op.drop_table(table)
    op.drop_index("ix_unit_usage_decision_day", table_name="unit_usage")
    with op.batch_alter_table("unit_usage") as batch:
        batch.drop_column("over_reason")
    with op.batch_alter_table("intake_drafts") as batch:
        batch.drop_column("finished_case_id")
        batch.drop_column("closed_at")
