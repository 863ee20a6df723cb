"""`priorauth users create`, `priorauth verify FILE.pdf` and `priorauth audit verify`."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from priorauth.cli import main
from priorauth.store import audit, repository
from priorauth.store.db import session_factory
from priorauth.store.models import AuditEvent, CaseState, Organization, User
from priorauth.store.passwords import verify_password
from priorauth.store.seed import DEMO_ORGANIZATION
from priorauth.store.signatures import SIGNED_LETTER, record_signature

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cidp-initial-qualifies.json"


def _create(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    *extra: str,
    password: str = "a long enough password\n",
) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password))
    return main(
        [
            "users",
            "create",
            "--database-url",
            database_url,
            "--password-stdin",
            *extra,
        ]
    )


def test_users_create_makes_an_account_that_can_log_in(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    status = _create(
        database_url,
        monkeypatch,
        "--email",
        "New.Doctor@Clinic.example",
        "--name",
        "New Doctor",
        "--role",
        "physician",
        "--organization",
        "Northside Clinic (synthetic)",
        "--credentials",
        "MD",
        "--npi",
        "1234567893",
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "created organization: Northside Clinic (synthetic)" in out
    assert "new.doctor@clinic.example (physician)" in out
    with session_factory(engine)() as session:
        user = session.scalars(select(User).where(User.email == "new.doctor@clinic.example")).one()
        assert verify_password(user.password_hash, "a long enough password")
        assert user.password_hash.startswith("$argon2id$")
        organization = session.get(Organization, user.organization_id)
        assert organization is not None and organization.name == "Northside Clinic (synthetic)"
        assert audit.verify(session).ok
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "accounts.create")
        ).all()
        assert len(events) == 1 and "long enough" not in events[0].detail


@pytest.mark.parametrize(
    ("extra", "password", "message"),
    [
        (("--email", "billing@demo.example"), "a long enough password\n", "already exists"),
        (("--email", "x@demo.example"), "short\n", "at least 12 characters"),
        (("--email", "x@demo.example", "--npi", "1234567890"), "long enough pass\n", "NPI"),
    ],
)
def test_users_create_refuses_with_one_line_per_problem(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    extra: tuple[str, ...],
    password: str,
    message: str,
) -> None:
    status = _create(
        database_url,
        monkeypatch,
        "--name",
        "Someone",
        "--role",
        "billing",
        "--organization",
        DEMO_ORGANIZATION,
        *extra,
        password=password,
    )
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("priorauth: error: ")
    assert message in err
    assert "Traceback" not in err


def test_users_create_without_a_password_source_stops(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status = main(
        [
            "users",
            "create",
            "--database-url",
            database_url,
            "--email",
            "y@demo.example",
            "--name",
            "Y",
            "--role",
            "advocate",
            "--organization",
            DEMO_ORGANIZATION,
        ]
    )
    assert status == 2
    assert "--password-stdin" in capsys.readouterr().err


# --- verify -----------------------------------------------------------------------------------


def _signed(engine: Engine, pdf: bytes, *, supersede: bool = False) -> int:
    with session_factory(engine)() as session:
        organization = session.scalars(
            select(Organization).where(Organization.name == DEMO_ORGANIZATION)
        ).one()
        billing = session.scalars(select(User).where(User.email == "billing@demo.example")).one()
        doctor = session.scalars(select(User).where(User.email == "physician@demo.example")).one()
        data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
        data = data.get("case", data)
        record = repository.create_case(
            session,
            organization_id=organization.id,
            user_id=billing.id,
            data=data,
            assessment=None,
        )
        repository.add_document(
            session,
            record,
            kind="letter",
            pdf=b"%PDF-1.7 an unsigned draft",
            letter_date=dt.date(2026, 11, 20),
            definition_versions={},
            assessment={},
            case_snapshot={},
            user_id=billing.id,
        )
        repository.change_state(session, record, CaseState.READY_FOR_SIGNATURE, user_id=billing.id)
        document = repository.add_document(
            session,
            record,
            kind=SIGNED_LETTER,
            pdf=pdf,
            letter_date=dt.date(2026, 11, 20),
            definition_versions={},
            assessment={},
            case_snapshot={},
            user_id=doctor.id,
        )
        record_signature(
            session,
            record,
            document=document,
            signer_id=doctor.id,
            signer_name=doctor.name,
            signer_credentials=doctor.credentials,
            signer_npi=doctor.npi or "",
            signed_at=dt.datetime(2026, 11, 20, 15, 4, 5, tzinfo=dt.UTC),
        )
        if supersede:
            repository.update_narrative(
                session,
                record,
                expected_version=record.version_id,
                user_id=doctor.id,
                narrative={"opening": "Changed."},
            )
        session.commit()
        return record.id


def test_verify_names_the_signer_and_the_time(
    database_url: str, engine: Engine, tmp_path: Path, capsys: Any
) -> None:
    case_id = _signed(engine, b"%PDF-1.7 a signed letter")
    path = tmp_path / "letter.pdf"
    path.write_bytes(b"%PDF-1.7 a signed letter")
    assert main(["verify", str(path), "--database-url", database_url]) == 0
    out = capsys.readouterr().out
    assert "SIGNED DOCUMENT OF RECORD" in out
    assert "signed by: Dana Example, MD (NPI 1234567893)" in out
    assert "signed at: 2026-11-20 15:04:05 UTC" in out
    assert f"case: {case_id}, version 1" in out
    assert "current" in out


def test_verify_says_when_a_signed_letter_was_superseded(
    database_url: str, engine: Engine, tmp_path: Path, capsys: Any
) -> None:
    _signed(engine, b"%PDF-1.7 signed then changed", supersede=True)
    path = tmp_path / "old.pdf"
    path.write_bytes(b"%PDF-1.7 signed then changed")
    assert main(["verify", str(path), "--database-url", database_url]) == 0
    assert "SUPERSEDED on " in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.7 a signed letter with one byte changed", "NOT A DOCUMENT OF RECORD"),
        (b"%PDF-1.7 an unsigned draft", "NOT SIGNED"),
    ],
)
def test_verify_fails_for_anything_else(
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: Any,
    content: bytes,
    expected: str,
) -> None:
    _signed(engine, b"%PDF-1.7 a signed letter")
    path = tmp_path / "other.pdf"
    path.write_bytes(content)
    assert main(["verify", str(path), "--database-url", database_url]) == 1
    assert expected in capsys.readouterr().out


def test_verify_a_missing_file_is_bad_input(database_url: str, tmp_path: Path, capsys: Any) -> None:
    assert main(["verify", str(tmp_path / "nope.pdf"), "--database-url", database_url]) == 2
    assert "cannot be read" in capsys.readouterr().err


# --- audit verify -----------------------------------------------------------------------------


def _events(engine: Engine, count: int = 4) -> list[int]:
    with session_factory(engine)() as session:
        made = [
            repository.record_event(
                session, repository.Actor(None, None, "billing"), "case.view", "ok", case_id=n
            ).id
            for n in range(count)
        ]
        session.commit()
        return made


def _tamper(engine: Engine, *statements: tuple[str, dict[str, Any]]) -> None:
    with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for statement, params in statements:
            connection.execute(text(statement), params)
        if postgres:
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


def test_audit_verify_passes_an_untouched_trail(
    database_url: str, engine: Engine, capsys: Any
) -> None:
    _events(engine)
    assert main(["audit", "verify", "--database-url", database_url]) == 0
    out = capsys.readouterr().out
    assert "OK: 4 audit events, chain intact" in out
    assert "chain head: " in out


@pytest.mark.parametrize("tampering", ["edited", "deleted", "reordered"])
def test_audit_verify_finds_each_kind_of_tampering(
    database_url: str, engine: Engine, capsys: Any, tampering: str
) -> None:
    ids = _events(engine)
    if tampering == "edited":
        _tamper(
            engine, ("UPDATE audit_events SET outcome = 'refused' WHERE id = :i", {"i": ids[1]})
        )
        expected = "edited: event"
    elif tampering == "deleted":
        _tamper(engine, ("DELETE FROM audit_events WHERE id = :i", {"i": ids[1]}))
        expected = "missing: event"
    else:
        # Swap two whole rows (their hashes too): each still hashes right, the order does not.
        with engine.connect() as connection:
            first, second = (
                dict(
                    connection.execute(
                        text(
                            "SELECT seq, action, case_id, at, prev_hash, row_hash "
                            "FROM audit_events WHERE id = :i"
                        ),
                        {"i": i},
                    )
                    .one()
                    ._mapping
                )
                for i in (ids[1], ids[2])
            )
        update = (
            "UPDATE audit_events SET seq = :seq, action = :action, case_id = :case_id, "
            "at = :at, prev_hash = :prev_hash, row_hash = :row_hash WHERE id = :target"
        )
        _tamper(
            engine,
            ("UPDATE audit_events SET seq = -1 WHERE id = :i", {"i": ids[1]}),
            (update, {**first, "target": ids[2]}),
            (update, {**second, "target": ids[1]}),
        )
        expected = "reordered: event"
    assert main(["audit", "verify", "--database-url", database_url]) == 1
    out = capsys.readouterr().out
    assert out.startswith("TAMPERED: ")
    assert expected in out
