"""The audit trail as a hash chain: append an event, verify the whole trail.

Each event's ``row_hash`` is the SHA-256 of its canonical JSON (sorted keys, no
spaces, UTF-8), which includes its position ``seq`` and ``prev_hash``, the
``row_hash`` of the event before it. Editing an event breaks its own hash;
deleting one leaves a gap in ``seq`` and a broken link; moving one breaks the
order of ``seq`` against the order rows were written in. The head row
(``audit_chain_head``) holds the last link, so a cut-off tail shows too.

Whoever can rewrite the whole table can also recompute the chain: the head is
therefore signed with a key kept outside the database, and anchors of it are
exported (``anchors``), so that deleting the tail and rewriting the head shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .anchors import Anchor, head_mac
from .models import AuditChainHead, AuditEvent, utcnow

GENESIS_HASH = "0" * 64
HEAD_ID = 1
# Where a session carries the audit key (``Session.info``): every writer that has
# it signs the head. The web app and the CLI give it to every session they open.
KEY_INFO = "priorauth_audit_key"

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
    key = session.info.get(KEY_INFO)
    # A writer without the key leaves the head unsigned rather than wrongly signed.
    head.head_mac = head_mac(key, event.seq, event.row_hash) if key else None
    session.flush()
    return event


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the trail: which kind, where, and what was found."""

    kind: str  # "edited", "missing", "reordered", "added", "unsigned", "rewritten"
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
    head_seq: int = 0
    # None when no key was given (the head's signature was not checked).
    head_signed: bool | None = None
    anchors_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _events(session: Session) -> Iterator[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq, AuditEvent.id)
    yield from session.scalars(query.execution_options(yield_per=1000))


def verify(
    session: Session, *, key: bytes | None = None, anchors: Sequence[Anchor] = ()
) -> Verification:
    """Walk the whole chain and report every edited, missing or reordered event.

    With the audit key, also check the head's signature and every anchor.
    """
    problems: list[Problem] = []
    anchored = {anchor.seq for anchor in anchors}
    hashes_at: dict[int, str] = {}
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
        if event.seq in anchored:
            hashes_at[event.seq] = event.row_hash
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
    signed = None
    if key is not None:
        signed = _check_signature(head, key, problems)
        problems += _check_anchors(anchors, hashes_at, key, head_seq)
    return Verification(
        events=count,
        head_hash=head_hash,
        problems=tuple(problems),
        head_seq=head_seq,
        head_signed=signed,
        anchors_checked=len(anchors) if key is not None else 0,
    )


def _check_signature(head: AuditChainHead | None, key: bytes, problems: list[Problem]) -> bool:
    if head is None or head.last_seq == 0:
        return True  # nothing written yet: nothing to sign
    if head.head_mac is None:
        problems.append(Problem("unsigned", None, None, "the chain's head carries no signature"))
        return False
    if not hmac.compare_digest(head.head_mac, head_mac(key, head.last_seq, head.last_hash)):
        problems.append(
            Problem(
                "rewritten",
                None,
                None,
                "the chain's head does not match its signature: it was rewritten outside "
                "the application (or signed with another key)",
            )
        )
        return False
    return True


def _check_anchors(
    anchors: Sequence[Anchor], hashes_at: dict[int, str], key: bytes, head_seq: int
) -> list[Problem]:
    """Each anchor is genuine and its event is still in the trail, unchanged."""
    problems = []
    for anchor in anchors:
        if not anchor.valid(key):
            problems.append(
                Problem("rewritten", anchor.seq, None, f"the anchor of {anchor.at} is not genuine")
            )
        elif anchor.seq == 0:
            continue  # anchored before the first event: nothing to find
        elif anchor.seq > head_seq or anchor.seq not in hashes_at:
            problems.append(
                Problem(
                    "missing",
                    anchor.seq,
                    None,
                    f"the trail was anchored at position {anchor.seq} on {anchor.at}, "
                    f"but that event is gone (the chain now ends at position {head_seq})",
                )
            )
        elif not hmac.compare_digest(hashes_at[anchor.seq], anchor.head_hash):
            problems.append(
                Problem(
                    "rewritten",
                    anchor.seq,
                    None,
                    f"the event at position {anchor.seq} is not the one anchored on {anchor.at}",
                )
            )
    return problems


def anchor(session: Session, key: bytes) -> Anchor:
    """A signed anchor of the chain's head as it is now (verify it first)."""
    head = session.get(AuditChainHead, HEAD_ID)
    seq = head.last_seq if head else 0
    return Anchor.signed(key, seq, head.last_hash if head else GENESIS_HASH, utcnow())
