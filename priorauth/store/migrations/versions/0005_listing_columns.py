"""The cases' list columns: what the dashboard, the queues and the search read, indexed.

Adds to ``cases`` the patient's display name, the payer, the payer's references,
a case-folded search text, the stored verdict with what it was made under, and
the dates and numbers the work queues sort by; indexes that cover the pages'
and the queues' counts and orders; and fills them for every existing case.

From then on ``priorauth.store.listing.refresh`` keeps them in step on every
flush. The backfill is a frozen copy of its ``columns_of`` reading plain rows (a
migration must not change when code does); a test checks both agree.

Columns are added with plain ALTER TABLE (no batch copy), so SQLite keeps the
append-only triggers of migration 0002.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH_CASES = 500
# Frozen copy of priorauth.store.models.LISTING_INDEXES (built after the backfill).
INDEXES = (
    ("organization_id", "updated_at", "id"),
    ("organization_id", "state", "id"),
    ("organization_id", "state", "signed_current", "approved_units"),
    ("organization_id", "state", "respond_by"),
    ("organization_id", "state", "submitted_on"),
    ("organization_id", "state", "authorization_end"),
    ("organization_id", "payer_name"),
    ("organization_id", "prescriber_npi"),
    ("organization_id", "search_text"),
)
REFERENCE_SEPARATOR = "\n"

def _columns_added() -> tuple[sa.Column[Any], ...]:
    return (
    sa.Column("patient_name", sa.String(length=200), nullable=False, server_default=""),
    sa.Column("payer_name", sa.String(length=200), nullable=False, server_default=""),
    sa.Column("payer_references", sa.Text(), nullable=False, server_default=""),
    sa.Column("search_text", sa.Text(), nullable=False, server_default=""),
    sa.Column("verdict", sa.String(length=30), nullable=True),
    sa.Column("verdict_as_of", sa.Date(), nullable=True),
    sa.Column("verdict_payer_id", sa.String(length=60), nullable=True),
    sa.Column("verdict_versions", sa.String(length=64), nullable=True),
    sa.Column("signed_current", sa.Boolean(), nullable=False, server_default="0"),
    sa.Column("submitted_on", sa.Date(), nullable=True),
    sa.Column("submitted_appeal", sa.Boolean(), nullable=False, server_default="0"),
    sa.Column("respond_by", sa.Date(), nullable=True),
    sa.Column("authorization_number", sa.String(length=60), nullable=True),
    sa.Column("authorization_end", sa.Date(), nullable=True),
    sa.Column("approved_units", sa.Integer(), nullable=True),
)


COLUMNS = _columns_added()


def json_doc() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    for column in _columns_added():
        op.add_column("cases", column)
    _backfill()
    for columns in INDEXES:
        op.create_index(f"ix_cases_{'_'.join(columns)}", "cases", list(columns))


def downgrade() -> None:
    for columns in INDEXES:
        op.drop_index(f"ix_cases_{'_'.join(columns)}", table_name="cases")
    for column in reversed(COLUMNS):
        op.drop_column("cases", column.name)


# --- the backfill: a frozen copy of listing.columns_of over plain rows ----------------------

cases = sa.table(
    "cases",
    sa.column("id", sa.Integer),
    sa.column("data", json_doc()),
    sa.column("assessment", json_doc()),
    sa.column("content_version", sa.Integer),
    *(sa.column(c.name, c.type) for c in COLUMNS),
)
submissions = sa.table(
    "submissions",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("submitted_on", sa.Date),
    sa.column("payer_reference", sa.String),
    sa.column("appeal", sa.Boolean),
)
decisions = sa.table(
    "decisions",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("outcome", sa.String),
    sa.column("authorization_number", sa.String),
    sa.column("approved_units", sa.Integer),
    sa.column("end_date", sa.Date),
    sa.column("respond_by", sa.Date),
)
denials = sa.table(
    "denials",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("data", json_doc()),
)
signatures = sa.table(
    "signatures",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("case_version", sa.Integer),
    sa.column("superseded_at", sa.DateTime),
)


def _versions_key(versions: dict[str, str]) -> str:
    canonical = json.dumps(dict(versions), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _text(value: Any, limit: int) -> str:
    return str(value or "").strip()[:limit]


def _by_case(connection: sa.Connection, table: sa.TableClause, ids: list[int]) -> Any:
    found: dict[int, list[Any]] = defaultdict(list)
    query = sa.select(table).where(table.c.case_id.in_(ids)).order_by(table.c.id)
    for row in connection.execute(query):
        found[row.case_id].append(row)
    return found


def _columns(
    case: Any, subs: list[Any], decs: list[Any], dens: list[Any], sigs: list[Any]
) -> dict[str, Any]:
    data = case.data or {}
    patient = data.get("patient") or {}
    coverage = data.get("coverage") or {}
    name = f"{_text(patient.get('first_name'), 100)} {_text(patient.get('last_name'), 100)}"
    found = [s.payer_reference for s in subs if s.payer_reference]
    found += [str((d.data or {}).get("payer_reference") or "") for d in dens]
    found += [d.authorization_number for d in decs if d.authorization_number]
    references = list(dict.fromkeys(" ".join(r.split()) for r in found if r and r.strip()))
    last = decs[-1] if decs else None
    approval = next((d for d in reversed(decs) if d.outcome == "approved"), None)
    submission = subs[-1] if subs else None
    assessment = case.assessment or {}
    as_of = assessment.get("as_of")
    return {
        "patient_name": name.strip()[:200],
        "payer_name": _text(coverage.get("payer_name"), 200),
        "payer_references": REFERENCE_SEPARATOR.join(references),
        "search_text": REFERENCE_SEPARATOR.join([name.strip(), *references]).casefold()[:600],
        "verdict": (str(assessment.get("verdict") or "")[:30] or None) if assessment else None,
        "verdict_as_of": dt.date.fromisoformat(as_of) if isinstance(as_of, str) else None,
        "verdict_payer_id": (str(assessment.get("payer_id") or "")[:60] or None)
        if assessment
        else None,
        "verdict_versions": _versions_key(assessment.get("definition_versions") or {})
        if assessment
        else None,
        "signed_current": any(
            s.superseded_at is None and s.case_version == case.content_version for s in sigs
        ),
        "submitted_on": submission.submitted_on if submission else None,
        "submitted_appeal": bool(submission and submission.appeal),
        "respond_by": last.respond_by
        if last is not None and last.outcome in ("pended", "denied")
        else None,
        "authorization_number": approval.authorization_number if approval else None,
        "authorization_end": approval.end_date if approval else None,
        "approved_units": approval.approved_units if approval else None,
    }


def _backfill() -> None:
    connection = op.get_bind()
    after = 0
    while True:
        batch = connection.execute(
            sa.select(cases.c.id, cases.c.data, cases.c.assessment, cases.c.content_version)
            .where(cases.c.id > after)
            .order_by(cases.c.id)
            .limit(BATCH_CASES)
        ).all()
        if not batch:
            return
        ids = [row.id for row in batch]
        subs = _by_case(connection, submissions, ids)
        decs = _by_case(connection, decisions, ids)
        dens = _by_case(connection, denials, ids)
        sigs = _by_case(connection, signatures, ids)
        for row in batch:
            values = _columns(row, subs[row.id], decs[row.id], dens[row.id], sigs[row.id])
            # Plain UPDATE of these columns only: no version, no change time.
            connection.execute(sa.update(cases).where(cases.c.id == row.id).values(**values))
        after = ids[-1]
