"""Signatures, superseding, the transition table, throttling, accounts, migrating old data."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from priorauth.store import accounts, audit, repository, throttle, workflow
from priorauth.store.db import session_factory, upgrade
from priorauth.store.models import (
    AppendOnlyError,
    CaseRecord,
    CaseState,
    Document,
    Organization,
    Role,
    Signature,
    User,
)
from priorauth.store.repository import EditConflict, NotEditable
from priorauth.store.seed import DEMO_ORGANIZATION
from priorauth.store.signatures import (
    SIGNED_LETTER,
    AlreadySigned,
    binding_holds,
    current_signature,
    look_up_pdf,
    record_signature,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cidp-initial-qualifies.json"


def _data() -> dict[str, Any]:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data.get("case", data)


def _people(session: Session) -> tuple[Organization, User, User]:
    organization = session.scalars(
        select(Organization).where(Organization.name == DEMO_ORGANIZATION)
    ).one()
    billing = session.scalars(select(User).where(User.email == "billing@demo.example")).one()
    physician = session.scalars(select(User).where(User.email == "physician@demo.example")).one()
    return organization, billing, physician


def _ready_case(session: Session) -> CaseRecord:
    organization, billing, _physician = _people(session)
    record = repository.create_case(
        session, organization_id=organization.id, user_id=billing.id, data=_data(), assessment=None
    )
    repository.change_state(session, record, CaseState.READY_FOR_SIGNATURE, user_id=billing.id)
    session.commit()
    return record


def _sign(session: Session, record: CaseRecord, pdf: bytes = b"%PDF-1.7 signed") -> Signature:
    _organization, _billing, physician = _people(session)
    document = repository.add_document(
        session,
        record,
        kind=SIGNED_LETTER,
        pdf=pdf,
        letter_date=dt.date(2026, 11, 20),
        definition_versions={},
        assessment={},
        case_snapshot={},
        user_id=physician.id,
    )
    signature = record_signature(
        session,
        record,
        document=document,
        signer_id=physician.id,
        signer_name=physician.name,
        signer_credentials=physician.credentials,
        signer_npi=physician.npi or "",
    )
    session.commit()
    return signature


def test_a_signature_binds_the_pdf_and_the_signer(db_session: Session) -> None:
    record = _ready_case(db_session)
    signature = _sign(db_session, record)
    assert record.state == CaseState.SIGNED
    assert signature.case_version == record.content_version == 1
    assert current_signature(record) is signature
    assert binding_holds(signature, signature.document)
    assert record.prescriber_npi == "1234567893"

    status = look_up_pdf(db_session, b"%PDF-1.7 signed")
    assert status.of_record and not status.superseded
    assert (status.signer_name, status.signer_npi) == ("Dana Example", "1234567893")
    assert status.signed_at is not None and status.signed_at.tzinfo is dt.UTC
    assert "medically necessary" in status.attestation
    assert not look_up_pdf(db_session, b"%PDF-1.7 signed!").found
    # Another organization does not find it.
    assert not look_up_pdf(db_session, b"%PDF-1.7 signed", organization_id=999_999).found


def test_a_signature_moved_or_edited_no_longer_binds(db_session: Session, engine: Engine) -> None:
    record = _ready_case(db_session)
    signature = _sign(db_session, record)
    other = repository.add_document(
        db_session,
        record,
        kind="letter",
        pdf=b"%PDF-1.7 another document",
        letter_date=dt.date(2026, 11, 20),
        definition_versions={},
        assessment={},
        case_snapshot={},
        user_id=signature.signer_id,
    )
    db_session.commit()
    assert not binding_holds(signature, other)  # swapped onto another letter
    # Edited in the database by its owner: the binding no longer holds.
    with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:  # (the PostgreSQL schema is shared by the tests: switched back on below)
            connection.execute(text("ALTER TABLE signatures DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER signatures_only_supersede"))
        connection.execute(
            text("UPDATE signatures SET signer_name = 'Someone Else' WHERE id = :id"),
            {"id": signature.id},
        )
        if postgres:
            connection.execute(text("ALTER TABLE signatures ENABLE TRIGGER USER"))
    with session_factory(engine)() as fresh:
        status = look_up_pdf(fresh, b"%PDF-1.7 signed")
        assert status.signed and not status.intact and not status.of_record


def test_an_edit_supersedes_the_signature_and_keeps_the_document(db_session: Session) -> None:
    record = _ready_case(db_session)
    signature = _sign(db_session, record)
    _organization, billing, _physician = _people(db_session)
    changed = _data()
    changed["clinical_summary"] = "Changed after signing."
    superseded = repository.update_case(
        db_session,
        record,
        expected_version=record.version_id,
        user_id=billing.id,
        data=changed,
        assessment=None,
    )
    db_session.commit()
    assert superseded == [signature]
    assert record.content_version == 2
    assert record.state == CaseState.DRAFT  # the new version needs a new signature
    assert signature.superseded_at is not None and signature.superseded_by_version == 2
    assert current_signature(record) is None
    status = look_up_pdf(db_session, b"%PDF-1.7 signed")
    assert status.of_record and status.superseded
    assert db_session.get(Document, signature.document_id) is not None


def test_the_narrative_is_versioned_like_the_case(db_session: Session) -> None:
    record = _ready_case(db_session)
    _sign(db_session, record)
    _organization, _billing, physician = _people(db_session)
    with pytest.raises(EditConflict):
        repository.update_narrative(
            db_session, record, expected_version=1, user_id=physician.id, narrative={}
        )
    superseded = repository.update_narrative(
        db_session,
        record,
        expected_version=record.version_id,
        user_id=physician.id,
        narrative={"opening": "New words."},
    )
    db_session.commit()
    assert len(superseded) == 1
    assert record.narrative == {"opening": "New words."}
    assert record.content_version == 2


@pytest.mark.parametrize("state", [CaseState.SUBMITTED, CaseState.APPROVED, CaseState.CLOSED])
def test_a_case_sent_or_finished_is_not_editable(db_session: Session, state: CaseState) -> None:
    record = _ready_case(db_session)
    _organization, billing, _physician = _people(db_session)
    repository.change_state(db_session, record, state, user_id=billing.id)
    db_session.commit()
    with pytest.raises(NotEditable):
        repository.update_case(
            db_session,
            record,
            expected_version=record.version_id,
            user_id=billing.id,
            data=_data(),
            assessment=None,
        )


def test_a_version_is_signed_once(db_session: Session) -> None:
    record = _ready_case(db_session)
    _sign(db_session, record)
    record.state = CaseState.READY_FOR_SIGNATURE.value
    db_session.commit()
    with pytest.raises(AlreadySigned):
        _sign(db_session, record, b"%PDF-1.7 second")


def test_two_physicians_signing_at_once_one_wins(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions() as setup:
        case_id = _ready_case(setup).id
    with sessions() as first, sessions() as second:
        theirs = second.get(CaseRecord, case_id)
        assert theirs is not None
        list(theirs.signatures)
        second.commit()  # their read is over; they still hold the unsigned case in memory
        mine = first.get(CaseRecord, case_id)
        assert mine is not None
        _sign(first, mine, b"%PDF-1.7 mine")
        with pytest.raises((EditConflict, IntegrityError, AlreadySigned)):
            _sign(second, theirs, b"%PDF-1.7 theirs")
        second.rollback()
    with sessions() as check:
        count = check.scalar(
            select(func.count()).select_from(Signature).where(Signature.case_id == case_id)
        )
        assert count == 1
        assert not look_up_pdf(check, b"%PDF-1.7 theirs").found


def test_documents_and_signatures_never_change(db_session: Session, engine: Engine) -> None:
    record = _ready_case(db_session)
    signature = _sign(db_session, record)
    document = db_session.get(Document, signature.document_id)
    assert document is not None
    document.pdf = b"%PDF-1.7 altered"
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()
    signature = db_session.get(Signature, signature.id)
    assert signature is not None
    signature.signer_name = "Someone Else"
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()
    for statement in (
        "UPDATE documents SET pdf = pdf",
        "DELETE FROM documents",
        "UPDATE signatures SET signer_npi = '0000000000'",
        "DELETE FROM signatures",
    ):
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text(statement))
    # Marking superseded is allowed once, by the database too; then never again.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE signatures SET superseded_at = :now, superseded_by_version = 2"),
            {"now": dt.datetime(2026, 11, 20, tzinfo=dt.UTC)},
        )
    with pytest.raises(DBAPIError), engine.begin() as connection:
        connection.execute(text("UPDATE signatures SET superseded_at = NULL"))
    with session_factory(engine)() as fresh:
        stored = fresh.get(Document, document.id)
        assert stored is not None
        assert hashlib.sha256(stored.pdf).hexdigest() == stored.sha256


# --- the transition table -------------------------------------------------------------------


def test_every_state_is_reached_and_left_by_the_table() -> None:
    targets = {t.target for t in workflow.TRANSITIONS.values()}
    sources = set().union(*(t.sources for t in workflow.TRANSITIONS.values()))
    assert set(CaseState) - {CaseState.DRAFT} <= targets
    assert set(CaseState) - {CaseState.CLOSED} <= sources
    for transition in workflow.TRANSITIONS.values():
        assert transition.roles, transition.name
        assert Role.ADMIN not in transition.roles  # administrators make no clinical moves


def test_transitions_belong_to_their_roles() -> None:
    assert workflow.role_may("sign", "physician")
    assert not workflow.role_may("sign", "billing")
    assert workflow.role_may("deny", "advocate") and workflow.role_may("appeal", "advocate")
    assert not workflow.role_may("approve", "advocate")
    assert [t.name for t in workflow.available("submitted", "advocate")] == ["deny"]
    assert [t.name for t in workflow.available("ready_for_signature", "physician")] == [
        "return_to_draft",
        "sign",
    ]
    assert workflow.available("closed", "billing") == []
    assert workflow.state_after_edit("signed") == CaseState.DRAFT
    assert workflow.state_after_edit("pended") == CaseState.PENDED


# --- throttling -----------------------------------------------------------------------------

LIMITS = throttle.Limits(account_failures=3, address_failures=5, window=dt.timedelta(minutes=15))


def test_failures_are_counted_per_account(db_session: Session) -> None:
    email = "someone@demo.example"
    for _ in range(3):
        assert not throttle.is_throttled(
            db_session, email=email, remote_addr="10.0.0.1", limits=LIMITS
        )
        throttle.record_attempt(db_session, email=email, remote_addr="10.0.0.1", succeeded=False)
    db_session.commit()
    assert throttle.is_throttled(db_session, email=email, remote_addr="10.0.0.2", limits=LIMITS)
    # The same address may still try another account.
    assert not throttle.is_throttled(
        db_session, email="other@demo.example", remote_addr="10.0.0.1", limits=LIMITS
    )
    # Emails are not stored, only their hash; capitals do not matter.
    assert throttle.account_key(" Someone@Demo.example ") == throttle.account_key(email)


def test_failures_are_counted_per_address(db_session: Session) -> None:
    for number in range(5):
        throttle.record_attempt(
            db_session, email=f"u{number}@x.example", remote_addr="10.0.0.9", succeeded=False
        )
    db_session.commit()
    assert throttle.is_throttled(
        db_session, email="fresh@x.example", remote_addr="10.0.0.9", limits=LIMITS
    )


def test_a_success_clears_the_accounts_count(db_session: Session) -> None:
    email = "someone@demo.example"
    for _ in range(2):
        throttle.record_attempt(db_session, email=email, remote_addr="10.0.0.1", succeeded=False)
    throttle.record_attempt(db_session, email=email, remote_addr="10.0.0.1", succeeded=True)
    throttle.record_attempt(db_session, email=email, remote_addr="10.0.0.1", succeeded=False)
    db_session.commit()
    assert not throttle.is_throttled(db_session, email=email, remote_addr=None, limits=LIMITS)


# --- accounts -------------------------------------------------------------------------------


def test_creating_an_account_checks_what_it_needs(db_session: Session) -> None:
    organization, _billing, _physician = _people(db_session)
    bad = accounts.NewAccount(
        email="billing@demo.example", name=" ", role="nurse", password="short"
    )
    with pytest.raises(accounts.AccountError) as caught:
        accounts.create_user(db_session, organization.id, bad)
    assert set(caught.value.problems) == {"email", "name", "role", "password"}
    physician = accounts.NewAccount(
        email="doc@demo.example",
        name="Doc Two",
        role="physician",
        password="Quiet-Harbor-Lantern-42",
    )
    with pytest.raises(accounts.AccountError) as caught:
        accounts.create_user(db_session, organization.id, physician)
    assert set(caught.value.problems) == {"npi", "credentials"}
    made = accounts.create_user(
        db_session,
        organization.id,
        accounts.NewAccount(
            email="Doc@Demo.example",
            name="Doc Two",
            role="physician",
            password="Quiet-Harbor-Lantern-42",
            credentials="DO",
            npi="1234567893",
        ),
    )
    assert made.email == "doc@demo.example"
    assert made.password_hash.startswith("$argon2id$")


# --- migrating data written before revision 0002 ---------------------------------------------


def test_events_and_cases_from_before_0002_are_chained_and_kept(empty_database_url: str) -> None:
    from priorauth.store.db import make_engine

    upgrade(empty_database_url, "0001")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO organizations (name, created_at) VALUES ('O', :t)"),
                {"t": dt.datetime(2026, 1, 1)},
            )
            connection.execute(
                text(
                    "INSERT INTO users (organization_id, email, name, role, password_hash, "
                    "credentials, active, created_at) VALUES (1, 'a@o.example', 'A', 'billing', "
                    "'x', '', true, :t)"
                ),
                {"t": dt.datetime(2026, 1, 1)},
            )
            connection.execute(
                text(
                    "INSERT INTO cases (organization_id, created_by_id, indication_id, "
                    "request_type, state, data, version_id, created_at, updated_at) VALUES "
                    "(1, 1, 'cidp', 'initial', 'draft', :data, 3, :t, :t)"
                ),
                {"data": json.dumps(_data()), "t": dt.datetime(2026, 1, 1)},
            )
            for number in range(3):
                connection.execute(
                    text(
                        "INSERT INTO audit_events (at, action, outcome, detail, case_id) "
                        "VALUES (:t, :a, 'ok', '', 1)"
                    ),
                    {"t": dt.datetime(2026, 1, 1, 10, number, 0, 123456), "a": f"old.{number}"},
                )
        upgrade(empty_database_url)
        with session_factory(engine)() as session:
            result = audit.verify(session)
            assert result.ok, result.problems
            assert result.events == 3
            record = session.get(CaseRecord, 1)
            assert record is not None
            assert record.prescriber_npi == "1234567893"
            assert record.content_version == 3  # old documents stay current
            repository.record_event(session, repository.Actor(1, 1, "billing"), "new.event", "ok")
            session.commit()
            assert audit.verify(session).ok
    finally:
        engine.dispose()
