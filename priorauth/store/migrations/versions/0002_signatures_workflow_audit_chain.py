"""Signatures, the workflow's records, assignments, login throttling, the audit hash chain.

Adds to cases the physician's narrative, the prescriber's NPI (copied out of the
case data) and a content version; chains the existing audit events (seq,
prev_hash, row_hash, and a head row); and installs triggers that keep audit
events and documents append-only and let a signature only be marked superseded.

SQLite drops a table's triggers when a later batch migration copies the table:
such a migration must create them again (see ``_sqlite_triggers``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-20
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
GENESIS_HASH = "0" * 64
# Frozen copy of priorauth.store.audit.HASHED_FIELDS: a migration must not change when code does.
HASHED_FIELDS = (
    "seq",
    "at",
    "user_id",
    "organization_id",
    "role",
    "action",
    "case_id",
    "document_id",
    "outcome",
    "remote_addr",
    "detail",
    "prev_hash",
)
SIGNATURE_CORE_COLUMNS = (
    "id",
    "case_id",
    "case_version",
    "document_id",
    "signer_id",
    "signer_name",
    "signer_credentials",
    "signer_npi",
    "attestation",
    "signed_at",
    "binding_sha256",
)


def json_doc() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _row_hash(fields: dict[str, Any]) -> str:
    data = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _chain_existing_events(connection: sa.Connection) -> tuple[int, str]:
    """Give the events written before this revision their place and hashes, in id order."""
    events = sa.table(
        "audit_events",
        *(sa.column(name) for name in ("id", *HASHED_FIELDS[:-1], "prev_hash", "row_hash")),
    )
    rows = connection.execute(
        sa.select(*(events.c[name] for name in ("id", *HASHED_FIELDS[1:-1]))).order_by(
            events.c.id
        )
    ).all()
    previous = GENESIS_HASH
    seq = 0
    for row in rows:
        seq += 1
        fields = {name: getattr(row, name) for name in HASHED_FIELDS[1:-1]}
        fields["at"] = _aware(fields["at"]).isoformat(timespec="microseconds")
        fields["seq"] = seq
        fields["prev_hash"] = previous
        row_hash = _row_hash(fields)
        connection.execute(
            events.update()
            .where(events.c.id == row.id)
            .values(seq=seq, prev_hash=previous, row_hash=row_hash)
        )
        previous = row_hash
    return seq, previous


def _copy_prescriber_npis(connection: sa.Connection) -> None:
    cases = sa.table(
        "cases",
        sa.column("id"),
        sa.column("data", json_doc()),
        sa.column("prescriber_npi"),
        sa.column("version_id"),
        sa.column("content_version"),
    )
    for row in connection.execute(sa.select(cases.c.id, cases.c.data)).all():
        data = row.data if isinstance(row.data, dict) else json.loads(row.data or "{}")
        npi = (data.get("prescriber") or {}).get("npi")
        connection.execute(
            cases.update()
            .where(cases.c.id == row.id)
            .values(prescriber_npi=str(npi)[:10] if npi else None)
        )
    # Documents made before this revision name the row version they were made from.
    connection.execute(cases.update().values(content_version=cases.c.version_id))


def _sqlite_triggers() -> list[str]:
    guard = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in SIGNATURE_CORE_COLUMNS)
    return [
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
        "CREATE TRIGGER documents_no_update BEFORE UPDATE ON documents "
        "BEGIN SELECT RAISE(ABORT, 'documents are never changed'); END",
        "CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents "
        "BEGIN SELECT RAISE(ABORT, 'documents are never deleted'); END",
        "CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures "
        "BEGIN SELECT RAISE(ABORT, 'signatures are never deleted'); END",
        "CREATE TRIGGER signatures_only_supersede BEFORE UPDATE ON signatures "
        f"WHEN OLD.superseded_at IS NOT NULL OR {guard} "
        "BEGIN SELECT RAISE(ABORT, 'a signature can only be marked superseded, once'); END",
    ]


def _postgresql_triggers() -> list[str]:
    guard = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in SIGNATURE_CORE_COLUMNS)
    return [
        """CREATE FUNCTION priorauth_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% rows are never changed or deleted', TG_TABLE_NAME;
        END $$""",
        f"""CREATE FUNCTION priorauth_signature_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'signatures are never deleted';
            END IF;
            IF OLD.superseded_at IS NOT NULL OR {guard} THEN
                RAISE EXCEPTION 'a signature can only be marked superseded, once';
            END IF;
            RETURN NEW;
        END $$""",
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION priorauth_refuse_change()",
        "CREATE TRIGGER documents_append_only BEFORE UPDATE OR DELETE ON documents "
        "FOR EACH ROW EXECUTE FUNCTION priorauth_refuse_change()",
        "CREATE TRIGGER signatures_only_supersede BEFORE UPDATE OR DELETE ON signatures "
        "FOR EACH ROW EXECUTE FUNCTION priorauth_signature_guard()",
    ]


def upgrade() -> None:
    connection = op.get_bind()

    # --- cases: narrative, prescriber NPI, content version ---------------------------------
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("narrative", json_doc(), nullable=True))
        batch.add_column(sa.Column("prescriber_npi", sa.String(length=10), nullable=True))
        batch.add_column(
            sa.Column("content_version", sa.Integer(), server_default="1", nullable=False)
        )
        batch.create_index(batch.f("ix_cases_prescriber_npi"), ["prescriber_npi"])
    _copy_prescriber_npis(connection)

    # --- the audit chain ------------------------------------------------------------------
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    last_seq, last_hash = _chain_existing_events(connection)
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(batch.f("uq_audit_events_seq"), ["seq"])
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": last_seq, "last_hash": last_hash}])

    # --- assignments, signatures, submissions, decisions, units, login attempts -------------
    op.create_table(
        "case_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"], ["users.id"], name=op.f("fk_case_assignments_assigned_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_assignments_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_case_assignments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_assignments")),
        sa.UniqueConstraint("case_id", "user_id", name=op.f("uq_case_assignments_case_id")),
    )
    op.create_index(op.f("ix_case_assignments_user_id"), "case_assignments", ["user_id"])

    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_credentials", sa.String(length=40), nullable=False),
        sa.Column("signer_npi", sa.String(length=10), nullable=False),
        sa.Column("attestation", sa.Text(), nullable=False),
        sa.Column("signed_at", UTC_DATETIME, nullable=False),
        sa.Column("binding_sha256", sa.String(length=64), nullable=False),
        sa.Column("superseded_at", UTC_DATETIME, nullable=True),
        sa.Column("superseded_by_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_signatures_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_signatures_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["signer_id"], ["users.id"], name=op.f("fk_signatures_signer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
        sa.UniqueConstraint("case_id", "case_version", name=op.f("uq_signatures_case_id")),
        sa.UniqueConstraint("document_id", name=op.f("uq_signatures_document_id")),
    )

    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("payer_reference", sa.String(length=100), nullable=False),
        sa.Column("appeal", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "method IN ('portal', 'fax', 'electronic', 'mail', 'phone')",
            name=op.f("ck_submissions_method"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_submissions_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_submissions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["signatures.id"],
            name=op.f("fk_submissions_signature_id_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
    )
    op.create_index(op.f("ix_submissions_case_id"), "submissions", ["case_id"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("authorization_number", sa.String(length=60), nullable=True),
        sa.Column("approved_units", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("respond_by", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "outcome IN ('approved', 'denied', 'pended')", name=op.f("ck_decisions_outcome")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_decisions_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_decisions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_decisions_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_case_id"), "decisions", ["case_id"])

    op.create_table(
        "unit_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("used_on", sa.Date(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_unit_usage_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_unit_usage_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_unit_usage_decision_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_usage")),
    )
    op.create_index(op.f("ix_unit_usage_case_id"), "unit_usage", ["case_id"])

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(
        "ix_login_attempts_account_key_at", "login_attempts", ["account_key", "at"]
    )
    op.create_index(
        "ix_login_attempts_remote_addr_at", "login_attempts", ["remote_addr", "at"]
    )

    # --- append-only, enforced by the database too ----------------------------------------
    statements = (
        _postgresql_triggers() if connection.dialect.name == "postgresql" else _sqlite_triggers()
    )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS documents_append_only ON documents")
        op.execute("DROP TRIGGER IF EXISTS signatures_only_supersede ON signatures")
        op.execute("DROP FUNCTION IF EXISTS priorauth_refuse_change()")
        op.execute("DROP FUNCTION IF EXISTS priorauth_signature_guard()")
    else:
        for name in (
            "audit_events_no_update",
            "audit_events_no_delete",
            "documents_no_update",
            "documents_no_delete",
            "signatures_no_delete",
            "signatures_only_supersede",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("login_attempts")
    op.drop_table("unit_usage")
    op.drop_table("decisions")
    op.drop_table("submissions")
    op.drop_table("signatures")
    op.drop_table("case_assignments")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(batch.f("uq_audit_events_seq"), type_="unique")
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index(batch.f("ix_cases_prescriber_npi"))
        batch.drop_column("content_version")
        batch.drop_column("prescriber_npi")
        batch.drop_column("narrative")
