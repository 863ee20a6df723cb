"""The audit trail as a hash chain: append an event, verify the whole trail.

Each event's ``row_hash`` is the SHA-256 of its canonical JSON (sorted keys, no
spaces, UTF-8), which includes its position ``seq`` and ``prev_hash``, the
``row_hash`` of the event before it. Editing an event breaks its own hash;
deleting one leaves a gap in ``seq`` and a broken link; moving one breaks the
order of ``seq`` against the order rows were written in. The head row
(``audit_chain_head``) holds the last link, so a cut-off tail shows too.

Whoever can rewrite the whole table can also recompute the chain; print the
head hash (``priorauth audit verify`` does) and keep it somewhere else to catch that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditChainHead, AuditEvent, utcnow

GENESIS_HASH = "0" * 64
HEAD_ID = 1

# The fields a row's hash covers, in the canonical JSON (sorted by json.dumps).
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


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_json(fields: dict[str, Any]) -> bytes:
    """The bytes an event's hash is taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """The hashed fields of a stored event, as plain JSON values."""
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    fields["at"] = _timestamp(event.at)
    return fields


def event_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def _head(session: Session) -> AuditChainHead:
    """The chain's head, locked until the transaction ends (FOR UPDATE; SQLite locks it all)."""
    head = session.scalar(
        select(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if head is None:  # a database migrated before the head row existed cannot happen; be safe
        head = AuditChainHead(id=HEAD_ID, last_seq=0, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    return head


def append(
    session: Session,
    *,
    action: str,
    outcome: str,
    user_id: int | None = None,
    organization_id: int | None = None,
    role: str | None = None,
    remote_addr: str | None = None,
    case_id: int | None = None,
    document_id: int | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add one event at the end of the chain (committed with the caller's transaction)."""
    head = _head(session)
    event = AuditEvent(
        seq=head.last_seq + 1,
        at=utcnow(),
        user_id=user_id,
        organization_id=organization_id,
        role=role,
        action=action,
        case_id=case_id,
        document_id=document_id,
        outcome=outcome,
        remote_addr=remote_addr,
        detail=detail,
        prev_hash=head.last_hash,
    )
    event.row_hash = event_hash(event_fields(event))
    session.add(event)
    head.last_seq = event.seq
    head.last_hash = event.row_hash
    session.flush()
    return event


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the trail: which kind, where, and what was found."""

    kind: str  # "edited", "missing", "reordered", "added"
    seq: int | None
    event_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"event {self.event_id} (position {self.seq})" if self.event_id else "the trail"
        return f"{self.kind}: {where}: {self.message}"


@dataclass(frozen=True)
class Verification:
    events: int
    head_hash: str
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _events(session: Session) -> Iterator[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq, AuditEvent.id)
    yield from session.scalars(query.execution_options(yield_per=1000))


def verify(session: Session) -> Verification:
    """Walk the whole chain and report every edited, missing or reordered event."""
    problems: list[Problem] = []
    expected_seq = 1
    previous_hash = GENESIS_HASH
    previous_id = 0
    count = 0
    for event in _events(session):
        count += 1
        if event.seq > expected_seq:
            missing = event.seq - expected_seq
            problems.append(
                Problem(
                    "missing",
                    event.seq,
                    event.id,
                    (
                        f"the event before it is gone (position {expected_seq})"
                        if missing == 1
                        else f"{missing} events before it are gone "
                        f"(positions {expected_seq} to {event.seq - 1})"
                    ),
                )
            )
        if event.id < previous_id:
            problems.append(
                Problem(
                    "reordered",
                    event.seq,
                    event.id,
                    f"it was written before event {previous_id} but sits after it in the chain",
                )
            )
        if not hmac.compare_digest(event.prev_hash, previous_hash) and event.seq == expected_seq:
            problems.append(
                Problem("reordered", event.seq, event.id, "it does not follow the event before it")
            )
        if not hmac.compare_digest(event_hash(event_fields(event)), event.row_hash):
            problems.append(
                Problem("edited", event.seq, event.id, "its contents do not match its hash")
            )
        expected_seq = event.seq + 1
        previous_hash = event.row_hash
        previous_id = event.id

    head = session.get(AuditChainHead, HEAD_ID)
    head_seq = head.last_seq if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    if head_seq >= expected_seq:
        gone = head_seq - expected_seq + 1
        problems.append(
            Problem(
                "missing",
                None,
                None,
                f"the last {gone} event{'s are' if gone > 1 else ' is'} gone "
                f"(the chain ended at position {head_seq})",
            )
        )
    elif head_seq < expected_seq - 1:
        problems.append(
            Problem(
                "added",
                None,
                None,
                f"events after position {head_seq} were not added through the application",
            )
        )
    elif not hmac.compare_digest(head_hash, previous_hash):
        problems.append(
            Problem("edited", None, None, "the last event does not match the chain's head")
        )
    return Verification(events=count, head_hash=head_hash, problems=tuple(problems))
