"""Synthetic cases in bulk, for the scale tests and ``make bench``: thousands in seconds.

Copies of one stored case (its data and assessment, so the verdict is current)
with invented patient names and every workflow state in turn, inserted in one
executemany with their list columns set as ``listing.refresh`` would set them
for such a case. Never real patients: the names are made up here.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from . import listing
from .models import CaseRecord, CaseState, utcnow

FIRST_NAMES = ("Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jordan")
LAST_NAMES = ("Synthetic", "Testpatient", "Example", "Sample", "Placeholder", "Fictional")
# The states copies take in turn, so that every queue section has cases.
STATES = (
    CaseState.DRAFT,
    CaseState.READY_FOR_SIGNATURE,
    CaseState.SIGNED,
    CaseState.SUBMITTED,
    CaseState.PENDED,
    CaseState.DENIED,
    CaseState.APPROVED,
    CaseState.CLOSED,
)
BATCH_ROWS = 1000


def _name(n: int) -> tuple[str, str]:
    first = FIRST_NAMES[n % len(FIRST_NAMES)]
    last = f"{LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]}{n:05d}"
    return first, last


def _row(
    template: CaseRecord,
    base: dict[str, Any],
    n: int,
    today: dt.date,
    states: Sequence[CaseState],
) -> dict[str, Any]:
    first, last = _name(n)
    data = copy.deepcopy(template.data)
    data.setdefault("patient", {}).update(first_name=first, last_name=last)
    state = states[n % len(states)]
    row = dict(base)
    row.update(
        data=data,
        state=state.value,
        patient_name=f"{first} {last}",
        search_text=f"{first} {last}".casefold(),
        signed_current=state is CaseState.SIGNED,
        # Spread over the last weeks, so queues have overdue and urgent items.
        updated_at=utcnow() - dt.timedelta(minutes=n),
    )
    if state is CaseState.SUBMITTED:
        row["submitted_on"] = today - dt.timedelta(days=n % 60)
    if state in (CaseState.PENDED, CaseState.DENIED):
        row["respond_by"] = today + dt.timedelta(days=n % 40 - 5)
    if state is CaseState.APPROVED:
        row["authorization_number"] = f"AUTH-{n:06d}"
        row["authorization_end"] = today + dt.timedelta(days=n % 120 - 10)
    return row


def clone_cases(
    session: Session,
    template: CaseRecord,
    count: int,
    *,
    today: dt.date,
    states: Sequence[CaseState] = STATES,
) -> int:
    """Insert ``count`` synthetic copies of ``template``; return how many were inserted.

    The caller commits. The copies carry no documents, signatures or decisions:
    their list columns say what the queues need (the state, its dates).
    """
    columns = listing.columns_of(template)
    base = {
        "organization_id": template.organization_id,
        "created_by_id": template.created_by_id,
        "indication_id": template.indication_id,
        "request_type": template.request_type,
        "assessment": template.assessment,
        "prescriber_npi": template.prescriber_npi,
        "version_id": 1,
        "content_version": 1,
        "created_at": utcnow(),
        **columns,
    }
    table = cast(Table, CaseRecord.__table__)
    rows: list[dict[str, Any]] = []
    for n in range(count):
        rows.append(_row(template, base, n, today, states))
        if len(rows) >= BATCH_ROWS:
            session.execute(insert(table), rows)
            rows = []
    if rows:
        session.execute(insert(table), rows)
    return count
