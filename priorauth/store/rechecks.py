"""Cases to re-check after a policy version changed, as ``rules.policy_change`` found them.

A finding is kept as one open row per case (a second change before anyone looked
updates the verdict it came to and adds the files that changed, keeping the verdict
it started from), until a person marks the case re-checked. Plain values in, so the
store does not depend on the rules' types.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from .listing import Scope, scoped
from .models import CaseRecord, CaseState, PolicyRecheck, utcnow

# Cases evaluated again, per request, when their versions are found stale by the sweep:
# the rest wait for the next page (a change to a busy profile is spread over requests).
SWEEP_BATCH = 50


@dataclass(frozen=True)
class Recheck:
    case_id: int
    patient: str
    verdict_before: str
    verdict_after: str
    changes: tuple[Mapping[str, str], ...]
    found_at: dt.datetime


def note(
    session: Session,
    record: CaseRecord,
    verdict_before: str,
    verdict_after: str,
    changes: Sequence[Mapping[str, str]],
) -> None:
    """Keep the finding for a case (merged into its open one, if any)."""
    found = session.scalars(
        select(PolicyRecheck).where(
            PolicyRecheck.case_id == record.id, PolicyRecheck.cleared_at.is_(None)
        )
    ).first()
    if found is None:
        session.add(
            PolicyRecheck(
                organization_id=record.organization_id,
                case_id=record.id,
                verdict_before=verdict_before,
                verdict_after=verdict_after,
                changes=[dict(change) for change in changes],
            )
        )
        return
    found.verdict_after = verdict_after
    keys = {change["key"] for change in changes}
    found.changes = [c for c in found.changes if c["key"] not in keys] + [dict(c) for c in changes]


def open_for_case(session: Session, case_id: int) -> Recheck | None:
    row = session.scalars(
        select(PolicyRecheck).where(
            PolicyRecheck.case_id == case_id, PolicyRecheck.cleared_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    return Recheck(
        row.case_id, "", row.verdict_before, row.verdict_after, tuple(row.changes), row.found_at
    )


def clear(session: Session, case_id: int, user_id: int) -> bool:
    """Mark the case re-checked; False when nothing was open."""
    rows = session.scalars(
        select(PolicyRecheck).where(
            PolicyRecheck.case_id == case_id, PolicyRecheck.cleared_at.is_(None)
        )
    ).all()
    for row in rows:
        row.cleared_at = utcnow()
        row.cleared_by_id = user_id
    return bool(rows)


def open_rechecks(session: Session, scope: Scope, *, limit: int) -> tuple[list[Recheck], int]:
    """The open findings of the cases in scope, oldest first, and how many there are."""
    # Read from the findings' side first: usually none are open, and a join driven from
    # the organization's cases would read every case to find that out.
    open_ids = session.scalars(
        select(PolicyRecheck.case_id).where(
            PolicyRecheck.organization_id == scope.organization_id,
            PolicyRecheck.cleared_at.is_(None),
        )
    ).all()
    if not open_ids:
        return [], 0
    base = scoped(
        select(PolicyRecheck)
        .join(CaseRecord, CaseRecord.id == PolicyRecheck.case_id)
        .where(
            PolicyRecheck.cleared_at.is_(None),
            PolicyRecheck.case_id.in_(open_ids),
            CaseRecord.state != CaseState.CLOSED.value,
        ),
        scope,
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.add_columns(CaseRecord.patient_name)
        .order_by(PolicyRecheck.found_at, PolicyRecheck.id)
        .limit(limit)
    )
    return [
        Recheck(
            row.case_id,
            patient,
            row.verdict_before,
            row.verdict_after,
            tuple(row.changes),
            row.found_at,
        )
        for row, patient in rows
    ], total


def in_play(record: CaseRecord, renewals_until: dt.date) -> bool:
    """Whether a new policy version still matters to this case (the rule of ``stale_case_ids``).

    Not closed, and an approved case only while its authorization ends by
    ``renewals_until`` (its renewal will be judged under the new versions); an
    approval far from renewal is refreshed quietly, not listed.
    """
    if record.state == CaseState.CLOSED.value:
        return False
    if record.state != CaseState.APPROVED.value:
        return True
    return record.authorization_end is not None and record.authorization_end <= renewals_until


def stale_case_ids(
    session: Session,
    organization_id: int,
    key_for: Callable[[str, str], str],
    *,
    renewals_until: dt.date,
    limit: int = SWEEP_BATCH,
) -> list[int]:
    """Cases still in play whose stored verdict was made under other versions than now.

    In play: every state but closed, and an approved case only while its authorization
    ends within the renewal window (its renewal will be judged under the new versions).
    ``key_for(indication_id, payer_id)`` gives the versions key in effect now; the
    query reads the list columns only (two statements whatever the number of cases).
    """
    in_play = (
        CaseRecord.organization_id == organization_id,
        CaseRecord.verdict.is_not(None),
        CaseRecord.state != CaseState.CLOSED.value,
        (CaseRecord.state != CaseState.APPROVED.value)
        | (CaseRecord.authorization_end <= renewals_until),
    )
    pairs = session.execute(
        select(CaseRecord.indication_id, CaseRecord.verdict_payer_id).where(*in_play).distinct()
    ).all()
    if not pairs:
        return []
    current = [(ind, payer or "", key_for(ind, payer or "")) for ind, payer in pairs]
    matching = tuple_(
        CaseRecord.indication_id, CaseRecord.verdict_payer_id, CaseRecord.verdict_versions
    ).in_(current)
    return list(
        session.scalars(
            select(CaseRecord.id).where(*in_play, ~matching).order_by(CaseRecord.id).limit(limit)
        )
    )
