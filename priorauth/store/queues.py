"""The work queues' sections read from the cases' list columns (``listing``): for each
section a count on the index, then only its first items' rows, however many cases
there are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    case,
    false,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import KeyedColumnElement

from .listing import Scope, listed, scoped
from .models import (
    CaseRecord,
    CaseState,
    Decision,
    DecisionOutcome,
    Document,
    Signature,
    UnitUsage,
)


@dataclass(frozen=True)
class QueueRule:
    """Which cases of one state make a queue section, which are urgent, in what order.

    ``due`` names the date column the section sorts by (None: by case number);
    a case is in the section only when that date is on or before ``due_until``
    (if given), and urgent when it is on or before ``urgent_until`` (or always).
    """

    state: CaseState
    due: str | None = None
    due_until: dt.date | None = None
    due_required: bool = False
    urgent_until: dt.date | None = None
    always_urgent: bool = False
    needs_current_signature: bool = False
    # Signed, but not to be submitted: superseded, or not ready and not an exception.
    lacks_current_signature: bool = False
    # The items' signatures are read too (with each one's document kind), in one query.
    with_signatures: bool = False
    # The units section: approved units recorded, urgent at 90 % used.
    units: bool = False


@dataclass(frozen=True)
class QueueEntry:
    record: CaseRecord
    urgent: bool
    units_used: int = 0


def _due_column(name: str) -> KeyedColumnElement[Any]:
    column: KeyedColumnElement[Any] = getattr(CaseRecord, name).expression
    return column


def queue(
    session: Session, scope: Scope, rule: QueueRule, *, limit: int
) -> tuple[list[QueueEntry], int]:
    """The first ``limit`` cases of a queue section, most urgent first, and how many there are.

    Two queries: a count on the index, and the first items. Where urgency is a
    date at most some day, the date's order is the urgency's order, so no
    computed value is sorted; only the units section computes one per case.
    """
    members = scoped(select(CaseRecord), scope).where(CaseRecord.state == rule.state.value)
    urgent: ColumnElement[bool] = true() if rule.always_urgent else false()
    used: ColumnElement[int] = literal(0)
    order: list[Any] = [CaseRecord.id]
    if rule.needs_current_signature:
        members = members.where(CaseRecord.signed_current.is_(True))
    if rule.lacks_current_signature:
        members = members.where(CaseRecord.signed_current.is_not(True))
    if rule.units:
        members = members.where(CaseRecord.approved_units > 0)
        used = _units_used()
        urgent = used * 10 >= CaseRecord.approved_units * 9
        order = [case((urgent, 0), else_=1), CaseRecord.id]
    if rule.due is not None:
        due = _due_column(rule.due)
        if rule.due_required or rule.due_until is not None:
            members = members.where(due.is_not(None))
        if rule.due_until is not None:
            members = members.where(due <= rule.due_until)
        if rule.urgent_until is not None:
            urgent = due <= rule.urgent_until
        # Urgent means due soonest: by date, cases without one last, then by number.
        order = [due.is_(None), due, CaseRecord.id]
    total = session.scalar(members.with_only_columns(func.count(CaseRecord.id)))
    # The first ids are chosen on the index alone; only their rows are read.
    first = _first_ids(members, rule, order, max(1, limit))
    items = listed(
        select(CaseRecord)
        .where(CaseRecord.id.in_(first))
        .add_columns(case((urgent, 1), else_=0), used)
    )
    if rule.with_signatures:
        items = items.options(
            selectinload(CaseRecord.signatures)
            .joinedload(Signature.document)
            .load_only(Document.kind)
        )
    rows = session.execute(items.order_by(*order).limit(max(1, limit))).all()
    entries = [QueueEntry(row[0], bool(row[1]), int(row[2] or 0)) for row in rows]
    return entries, int(total or 0)


def _first_ids(
    members: Select[Any], rule: QueueRule, order: list[Any], limit: int
) -> Select[Any] | CompoundSelect[Any]:
    """The ids of the section's first ``limit`` cases, read in the index's own order.

    Cases by date come from two reads, each in index order and cut at ``limit``:
    those with a date, soonest first, and those without, by number. One read
    sorted "no date last" would sort every case of the state first.
    """
    ids = members.with_only_columns(CaseRecord.id)
    if rule.due is None:
        return ids.order_by(*order).limit(limit)
    due = _due_column(rule.due)
    dated = ids.where(due.is_not(None)).order_by(due, CaseRecord.id).limit(limit).subquery()
    undated = ids.where(due.is_(None)).order_by(CaseRecord.id).limit(limit).subquery()
    return union_all(select(dated.c.id), select(undated.c.id))


def _units_used() -> ColumnElement[int]:
    """Units given under the case's current approval (its last approved decision)."""
    approval = (
        select(func.max(Decision.id))
        .where(Decision.case_id == CaseRecord.id, Decision.outcome == DecisionOutcome.APPROVED)
        .correlate(CaseRecord)
        .scalar_subquery()
    )
    return func.coalesce(
        select(func.sum(UnitUsage.units))
        .where(UnitUsage.case_id == CaseRecord.id, UnitUsage.decision_id == approval)
        .correlate(CaseRecord)
        .scalar_subquery(),
        0,
    )
