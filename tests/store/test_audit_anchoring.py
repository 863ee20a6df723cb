"""The chain's head is signed with a key kept outside the database, and anchors of it
are exported: deleting the last events and rewriting the head is caught.

As in test_audit_chain, tampering runs as the database's owner with the
append-only triggers off; the attacker has the database but not the audit key.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from priorauth.cli import main
from priorauth.store import anchors, audit
from priorauth.store.db import session_factory
from priorauth.store.models import AuditChainHead, AuditEvent
from priorauth.store.repository import Actor, record_event

KEY = b"audit-key-for-tests-only"
ACTOR = Actor(None, None, "billing", "127.0.0.1")


def _session(engine: Engine, key: bytes | None = KEY) -> Session:
    session = session_factory(engine)()
    if key is not None:
        session.info[audit.KEY_INFO] = key
    return session


def _write_events(engine: Engine, count: int = 5, key: bytes | None = KEY) -> None:
    with _session(engine, key) as session:
        for number in range(count):
            record_event(session, ACTOR, f"test.action{number}", "ok", case_id=number)
        session.commit()


def _head(engine: Engine) -> tuple[int, str, str | None]:
    with session_factory(engine)() as session:
        head = session.get(AuditChainHead, audit.HEAD_ID)
        assert head is not None
        return head.last_seq, head.last_hash, head.head_mac


def _cut_the_tail(engine: Engine, *, head_mac: str | None = "keep") -> None:
    """Delete the last event and point the head at the one before, as an attacker would."""
    with _session(engine, None) as session:
        last, before = session.scalars(
            select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(2)
        ).all()
        last_id, seq, row_hash = last.id, before.seq, before.row_hash
    with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        connection.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": last_id})
        values: dict[str, Any] = {"seq": seq, "hash": row_hash}
        statement = "UPDATE audit_chain_head SET last_seq = :seq, last_hash = :hash"
        if head_mac != "keep":
            statement += ", head_mac = :mac"
            values["mac"] = head_mac
        connection.execute(text(statement), values)
        if postgres:
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


def _verify(engine: Engine, **kwargs: Any) -> audit.Verification:
    with session_factory(engine)() as session:
        return audit.verify(session, **kwargs)


def test_every_write_signs_the_head(engine: Engine) -> None:
    _write_events(engine)
    seq, head_hash, mac = _head(engine)
    assert mac == anchors.head_mac(KEY, seq, head_hash)
    result = _verify(engine, key=KEY)
    assert result.ok and result.head_signed is True


def test_deleting_the_last_event_and_rewriting_the_head_is_caught(engine: Engine) -> None:
    _write_events(engine)
    _cut_the_tail(engine)
    # The chain alone cannot tell: every remaining link is right.
    assert _verify(engine).ok
    result = _verify(engine, key=KEY)
    assert [p.kind for p in result.problems] == ["rewritten"]
    assert "does not match its signature" in str(result.problems[0])


def test_stripping_the_signature_is_caught(engine: Engine) -> None:
    _write_events(engine)
    _cut_the_tail(engine, head_mac=None)
    assert [p.kind for p in _verify(engine, key=KEY).problems] == ["unsigned"]


def test_an_older_signed_head_replayed_is_caught_by_an_anchor(engine: Engine) -> None:
    _write_events(engine, 4)
    _seq, _hash, old_mac = _head(engine)  # the attacker saw this signed head earlier
    _write_events(engine, 1)
    with session_factory(engine)() as session:
        anchor = audit.anchor(session, KEY)
    assert anchor.seq == 5
    _cut_the_tail(engine, head_mac=old_mac)
    assert _verify(engine, key=KEY).ok  # the replayed head is genuinely signed...
    result = _verify(engine, key=KEY, anchors=[anchor])
    assert [p.kind for p in result.problems] == ["missing"]  # ...but the anchor is gone
    assert "anchored at position 5" in str(result.problems[0])


def test_a_forged_or_altered_anchor_is_refused(engine: Engine) -> None:
    _write_events(engine)
    with session_factory(engine)() as session:
        genuine = audit.anchor(session, KEY)
        forged = anchors.Anchor.signed(
            b"another key", genuine.seq, genuine.head_hash, dt.datetime.now(dt.UTC)
        )
    altered = anchors.Anchor(genuine.seq, "f" * 64, genuine.at, genuine.mac)
    assert _verify(engine, key=KEY, anchors=[genuine]).ok
    for bad in (forged, altered):
        result = _verify(engine, key=KEY, anchors=[genuine, bad])
        assert [p.kind for p in result.problems] == ["rewritten"]


def test_a_keyless_writer_leaves_the_head_unsigned_not_wrong(engine: Engine) -> None:
    _write_events(engine, 2)
    _write_events(engine, 1, key=None)
    assert _head(engine)[2] is None
    assert [p.kind for p in _verify(engine, key=KEY).problems] == ["unsigned"]
    _write_events(engine, 1)
    assert _verify(engine, key=KEY).ok


# --- the commands --------------------------------------------------------------------------


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The audit key in the environment and an instance folder of the test's own."""
    monkeypatch.setenv(anchors.KEY_ENV, KEY.decode())
    monkeypatch.setenv("PRIORAUTH_INSTANCE_PATH", str(tmp_path / "instance"))
    return tmp_path / "instance" / anchors.ANCHORS_FILE


def test_audit_anchor_then_verify_catches_a_cut_tail(
    database_url: str, engine: Engine, keyed: Path, capsys: Any
) -> None:
    _write_events(engine)
    assert main(["audit", "anchor", "--database-url", database_url]) == 0
    out = capsys.readouterr().out
    assert "anchored: position 6" in out  # the five events and the anchor's own
    (kept,) = anchors.read_anchors(keyed)
    assert kept.seq == 6 and kept.valid(KEY)
    assert main(["audit", "verify", "--database-url", database_url]) == 0
    out = capsys.readouterr().out
    assert "head signature: valid; anchors checked: 1" in out

    _cut_the_tail(engine)
    assert main(["audit", "verify", "--database-url", database_url]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED" in out and "rewritten" in out and "anchored at position 6" in out
    # Nothing tampered is ever anchored.
    assert main(["audit", "anchor", "--database-url", database_url]) == 1
    assert "NOT ANCHORED" in capsys.readouterr().out
    assert len(anchors.read_anchors(keyed)) == 1


def test_audit_anchor_signs_a_head_never_signed_once(
    database_url: str, engine: Engine, keyed: Path, capsys: Any
) -> None:
    _write_events(engine, 3, key=None)  # written before this version
    assert main(["audit", "anchor", "--database-url", database_url]) == 0
    assert _verify(engine, key=KEY, anchors=anchors.read_anchors(keyed)).ok
    capsys.readouterr()
    _write_events(engine, 1, key=None)
    # Once anchored, an unsigned head is tampering, not a first use.
    assert main(["audit", "anchor", "--database-url", database_url]) == 1


def test_audit_verify_without_a_key_says_what_it_did_not_check(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    monkeypatch.delenv(anchors.KEY_ENV, raising=False)
    monkeypatch.setenv("PRIORAUTH_INSTANCE_PATH", str(tmp_path / "empty-instance"))
    _write_events(engine)
    assert main(["audit", "verify", "--database-url", database_url]) == 0
    assert "NOT CHECKED" in capsys.readouterr().out


def test_users_create_signs_the_head(
    database_url: str, engine: Engine, keyed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("violet-anchor-river-tundra-42\n"))
    status = main(
        [
            "users",
            "create",
            "--database-url",
            database_url,
            "--organization",
            "Anchor Clinic",
            "--email",
            "casey@anchor.example",
            "--name",
            "Casey Newhire",
            "--role",
            "billing",
            "--password-stdin",
        ]
    )
    assert status == 0
    assert _verify(engine, key=KEY).head_signed is True
