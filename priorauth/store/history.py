"""A case's changes from the audit trail, a page at a time, and how many there are.

The case page lists the changes (the actions it names) and counts the rest
(views, previews, downloads); both are SQL counts and one page of rows, so a
case with 50,000 audit events costs what one with 5 does.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import AuditEvent


def count_changes(
    session: Session, organization_id: int, case_id: int, actions: Collection[str]
) -> int:
    """How many of the case's events are one of ``actions`` (whatever their outcome)."""
    query = select(func.count(AuditEvent.id)).where(
        AuditEvent.organization_id == organization_id,
        AuditEvent.case_id == case_id,
        AuditEvent.action.in_(list(actions)),
    )
    return int(session.scalar(query) or 0)


def count_reads(
    session: Session, organization_id: int, case_id: int, changes: Collection[str]
) -> int:
    """How many of the case's events that succeeded are not changes (views, downloads)."""
    query = select(func.count(AuditEvent.id)).where(
        AuditEvent.organization_id == organization_id,
        AuditEvent.case_id == case_id,
        AuditEvent.outcome == "ok",
        AuditEvent.action.not_in(list(changes)),
    )
    return int(session.scalar(query) or 0)


def changes_page(
    session: Session,
    organization_id: int,
    case_id: int,
    actions: Collection[str],
    *,
    limit: int,
    offset: int,
) -> list[AuditEvent]:
    """One page of the case's changes, newest first."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.organization_id == organization_id,
            AuditEvent.case_id == case_id,
            AuditEvent.action.in_(list(actions)),
        )
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))
