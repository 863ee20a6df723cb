"""Signing through the app: reading, the password again, the signed PDF, superseding, verifying."""

from __future__ import annotations

import hashlib
import io
import re

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_authorization import ROLES, TABLE, World
from web_helpers import (
    WORKFLOW_SETUPS,
    another_valid_npi,
    build_case,
    cidp_formdata,
    create_case,
    demo_account,
    log_in_demo,
    page_text,
    signing_fields,
)

from priorauth.store.models import AuditEvent, CaseRecord, Document, Signature, User
from priorauth.store.signatures import SIGNED_LETTER

PHYSICIAN_PASSWORD = demo_account("physician").password
Sessions = sessionmaker[Session]


@pytest.fixture
def physician(app: Flask) -> FlaskClient:
    client = app.test_client()
    log_in_demo(client, "physician")
    return client


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def _send_for_signature(client: FlaskClient, case_id: int) -> None:
    page = client.get(f"/cases/{case_id}/state/send_for_signature")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version, page_text(page.text)[:500]
    response = client.post(
        f"/cases/{case_id}/state/send_for_signature", data={"version": version.group(1)}
    )
    assert response.status_code == 303, page_text(response.text)[:500]


def _sign(client: FlaskClient, case_id: int, password: str = PHYSICIAN_PASSWORD, **extra: str):
    page = client.get(f"/cases/{case_id}/sign")
    assert page.status_code == 200, page_text(page.text)[:500]
    data = {"password": password, "read_it": "y", **signing_fields(page.text)}
    data.update(extra)
    return client.post(f"/cases/{case_id}/sign", data=data)


def _signed_documents(sessions: Sessions, case_id: int) -> list[Document]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Document)
                .where(Document.case_id == case_id, Document.kind == SIGNED_LETTER)
                .order_by(Document.id)
            )
        )


def test_signing_stores_the_signed_letter_with_its_signature_block_filled(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    _send_for_signature(logged_in, case_id)
    page = physician.get(f"/cases/{case_id}/sign")
    text = page_text(page.text)
    assert "Read and sign the letter" in text
    assert f'src="/cases/{case_id}/letter/preview"' in page.text  # the letter to read
    assert "medically necessary" in text  # the attestation, shown before signing

    response = _sign(physician, case_id)
    assert response.status_code == 303
    (document,) = _signed_documents(sessions, case_id)
    assert hashlib.sha256(document.pdf).hexdigest() == document.sha256
    text = _pdf_text(document.pdf)
    assert "Avery Testpatient" in text  # the letter itself
    block = text[text.index("Signature (electronic)") :]
    assert "Dana Example, MD" in block
    assert "1234567893" in block
    assert "2026-" in block and "UTC" in block
    assert "medically necessary" in block  # the attestation, in the letter's own block
    assert "Electronic signature record" not in text  # no separate signature page
    metadata = pypdf.PdfReader(io.BytesIO(document.pdf)).metadata or {}
    # The digital signature's incremental update names its tool and time; nothing else.
    assert set(metadata) <= {"/Title", "/Producer", "/ModDate"}
    assert "Avery" not in str(dict(metadata)) and "Testpatient" not in str(dict(metadata))
    assert "Avery" not in str(metadata.get("/Title", ""))

    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None and record.state == "signed"
        (signature,) = record.signatures
        assert signature.document_id == document.id
        assert (signature.signer_name, signature.signer_credentials, signature.signer_npi) == (
            "Dana Example",
            "MD",
            "1234567893",
        )
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.case_id == case_id, AuditEvent.action == "case.sign"
            )
        ).all()
        assert [(e.outcome, e.role, e.document_id) for e in events if e.outcome == "ok"] == [
            ("ok", "physician", document.id)
        ]
    # The case page shows the signature, and the download is the stored bytes.
    case_page = page_text(logged_in.get(f"/cases/{case_id}").text)
    assert "signed by Dana Example, MD (NPI 1234567893)" in case_page
    download = logged_in.get(f"/cases/{case_id}/documents/{document.id}")
    assert download.data == document.pdf


def test_signing_asks_for_the_password_again(
    app: Flask, logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    _send_for_signature(logged_in, case_id)
    wrong = _sign(physician, case_id, password="not my password")
    assert wrong.status_code == 403
    assert "password is not right" in page_text(wrong.text)
    missing = _sign(physician, case_id, password="")
    assert missing.status_code == 422
    unread = physician.post(
        f"/cases/{case_id}/sign",
        data={"password": PHYSICIAN_PASSWORD, "content_version": "1"},
    )
    assert unread.status_code == 422
    assert "Confirm that you have read the letter" in page_text(unread.text)
    assert _signed_documents(sessions, case_id) == []
    with sessions() as session:
        refused = session.scalars(
            select(AuditEvent).where(
                AuditEvent.case_id == case_id,
                AuditEvent.action == "case.sign",
                AuditEvent.outcome == "refused",
            )
        ).all()
        assert refused
    # Wrong passwords count toward the account's throttle: after the limit, even the
    # right one is refused for a while.
    for _ in range(int(app.config["PRIORAUTH_LOGIN_MAX_FAILURES_ACCOUNT"])):
        _sign(physician, case_id, password="still wrong")
    throttled = _sign(physician, case_id)
    assert throttled.status_code == 429
    assert _signed_documents(sessions, case_id) == []


def test_only_the_prescriber_or_an_assigned_physician_signs(
    app: Flask, logged_in: FlaskClient, sessions: Sessions
) -> None:
    with sessions() as session:
        billing = session.scalars(select(User).where(User.role == "billing")).first()
        doctor = session.scalars(select(User).where(User.role == "physician")).first()
        assert billing and doctor
        record = build_case(
            session,
            organization_id=billing.organization_id,
            creator_id=billing.id,
            signer=doctor,
            setup="ready",
            prescriber_npi=another_valid_npi(),
        )
        case_id, doctor_id = record.id, doctor.id
    client = app.test_client()
    log_in_demo(client, "physician")
    assert client.get(f"/cases/{case_id}/sign").status_code == 403
    assert client.get(f"/cases/{case_id}").status_code == 403
    assert f"Case {case_id}" not in client.get("/").text
    # Billing assigns the physician: now they review and sign it.
    assigned = logged_in.post(f"/cases/{case_id}/assignments", data={"user_id": str(doctor_id)})
    assert assigned.status_code == 303
    assert f"Case {case_id}" in client.get("/").text
    # Not the prescriber on the case: they confirm signing for them.
    assert _sign(client, case_id).status_code == 422
    assert _sign(client, case_id, for_prescriber="y").status_code == 303


def test_editing_after_signing_supersedes_the_signature(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    _send_for_signature(logged_in, case_id)
    assert _sign(physician, case_id).status_code == 303
    (first,) = _signed_documents(sessions, case_id)

    with sessions() as session:
        version = session.get(CaseRecord, case_id).version_id  # type: ignore[union-attr]
    edited = logged_in.post(
        f"/cases/{case_id}/edit",
        data=cidp_formdata(version=str(version), clinical_summary="Changed after signing."),
        follow_redirects=True,
    )
    assert "marked superseded" in page_text(edited.text)
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None
        assert record.state == "draft" and record.content_version == 2
        (signature,) = record.signatures
        assert signature.superseded_at is not None and signature.superseded_by_version == 2
        kept = session.get(Document, first.id)
        assert kept is not None and kept.pdf == first.pdf and kept.sha256 == first.sha256
    case_page = page_text(logged_in.get(f"/cases/{case_id}").text)
    assert "Superseded by version 2" in case_page
    # The old signed letter is still retrievable, byte for byte.
    assert logged_in.get(f"/cases/{case_id}/documents/{first.id}").data == first.pdf
    # Nothing to submit until the new version is signed.
    assert logged_in.get(f"/cases/{case_id}/state/submit").status_code == 409
    # The new version needs a new signature; afterwards both signed letters exist.
    _send_for_signature(logged_in, case_id)
    assert _sign(physician, case_id).status_code == 303
    first_again, second = _signed_documents(sessions, case_id)
    assert first_again.sha256 == first.sha256 and second.sha256 != first.sha256
    assert "Changed after signing." in _pdf_text(second.pdf)


def test_the_narrative_is_the_physicians_and_makes_a_new_version(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    page = physician.get(f"/cases/{case_id}/narrative")
    assert page.status_code == 200
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    saved = physician.post(
        f"/cases/{case_id}/narrative",
        data={"version": version.group(1), "closing": "Thank you, from a rewritten closing."},
    )
    assert saved.status_code == 303
    preview = physician.get(f"/cases/{case_id}/letter/preview")
    assert "Thank you, from a rewritten closing." in page_text(preview.text)
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None and record.content_version == 2
        assert record.narrative == {"closing": "Thank you, from a rewritten closing."}
    # A stale version is a conflict, with the text kept.
    stale = physician.post(
        f"/cases/{case_id}/narrative",
        data={"version": version.group(1), "closing": "Late words."},
    )
    assert stale.status_code == 409
    assert "Late words." in stale.text and "NOT saved" in page_text(stale.text)


def test_two_physicians_signing_at_once_one_wins(
    app: Flask, logged_in: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    _send_for_signature(logged_in, case_id)
    first, second = app.test_client(), app.test_client()
    log_in_demo(first, "physician")
    log_in_demo(second, "physician")
    # Both open the signing page on version 1...
    for client in (first, second):
        page = client.get(f"/cases/{case_id}/sign")
        assert page.status_code == 200
    data = {"password": PHYSICIAN_PASSWORD, "read_it": "y", **signing_fields(page.text)}
    # ...and both send it.
    assert first.post(f"/cases/{case_id}/sign", data=data).status_code == 303
    late = second.post(f"/cases/{case_id}/sign", data=data)
    assert late.status_code == 409
    assert len(_signed_documents(sessions, case_id)) == 1


def test_a_letter_changed_while_open_is_not_signed(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    _send_for_signature(logged_in, case_id)
    opened = physician.get(f"/cases/{case_id}/sign")
    assert opened.status_code == 200
    with sessions() as session:
        version = session.get(CaseRecord, case_id).version_id  # type: ignore[union-attr]
    # Billing edits the case while the physician reads (the case stays ready to sign).
    logged_in.post(
        f"/cases/{case_id}/edit",
        data=cidp_formdata(version=str(version), clinical_summary="Edited while open."),
    )
    response = physician.post(
        f"/cases/{case_id}/sign",
        data={"password": PHYSICIAN_PASSWORD, "read_it": "y", **signing_fields(opened.text)},
    )
    assert response.status_code == 409
    assert "read the new version" in page_text(response.text)
    assert _signed_documents(sessions, case_id) == []


def test_no_route_can_change_a_signed_document(app: Flask, sessions: Sessions) -> None:
    """POST every route of the app, as every role, at a signed case: the signed PDF stays.

    The OpenEMR #11492 class of bug: a locked, signed record changed through a path
    nobody thought of. The only allowed change is a new version, which leaves the
    signed document as it was and marks its signature superseded.
    """
    with sessions() as session:
        people = {
            u.role: u
            for u in session.scalars(select(User)).all()
            if u.email.endswith("demo.example")
        }
        record = build_case(
            session,
            organization_id=people["billing"].organization_id,
            creator_id=people["billing"].id,
            signer=people["physician"],
            setup="signed",
            assign_ids=(people["advocate"].id,),
        )
        case_id = record.id
        (signature,) = record.signatures
        document_id, pdf, sha = (
            signature.document_id,
            signature.document.pdf,
            signature.document.sha256,
        )
        binding = signature.binding_sha256
    clients = {}
    for role in ROLES:
        clients[role] = app.test_client()
        log_in_demo(clients[role], role)
    adapter = app.url_map.bind("localhost")
    for row in TABLE:
        if row.method != "POST" or row.endpoint in ("auth.logout", "auth.login"):
            continue
        if row.about_draft:
            continue  # an intake draft is not a case: nothing signed is reachable from it
        for role in ROLES:
            with sessions() as session:
                fresh = session.get(CaseRecord, case_id)
                assert fresh is not None
                list(fresh.documents)
                world = World(fresh, people["advocate"].id, people["admin"].id, 0)
                data = row.data(world) if row.data else {}
            values = {**row.args, "case_id": case_id}
            if row.endpoint == "workflow.unassign":
                values["user_id"] = people["advocate"].id
            if row.endpoint in ("admin.set_active", "admin.sign_out"):
                values = {"user_id": people["physician"].id}
            if row.endpoint == "attachments.remove":
                values["attachment_id"] = 1
            if row.endpoint == "workflow.usage_remove":
                values["usage_id"] = 1
            if row.endpoint in (
                "signing.verify",
                "cases.create",
                "admin.new_user",
                "dashboard.index",
                "cases.readiness",
                "drafts.begin",
            ):
                values = dict(row.args)
            url = adapter.build(row.endpoint, values, method="POST")
            clients[role].post(url, data=data)
    with sessions() as session:
        stored = session.get(Document, document_id)
        assert stored is not None
        assert stored.pdf == pdf and stored.sha256 == sha
        kept = session.get(Signature, signature.id)
        assert kept is not None and kept.binding_sha256 == binding
        assert kept.document_id == document_id
    billing = app.test_client()
    log_in_demo(billing, "billing")
    assert billing.get(f"/cases/{case_id}/documents/{document_id}").data == pdf


@pytest.mark.parametrize(
    "setup", [s for s in WORKFLOW_SETUPS if s not in ("draft+document", "denied+edited")]
)
def test_the_verification_page_says_what_a_pdf_is(
    app: Flask, logged_in: FlaskClient, sessions: Sessions, setup: str
) -> None:
    with sessions() as session:
        billing = session.scalars(select(User).where(User.email == "billing@demo.example")).one()
        doctor = session.scalars(select(User).where(User.email == "physician@demo.example")).one()
        record = build_case(
            session,
            organization_id=billing.organization_id,
            creator_id=billing.id,
            signer=doctor,
            setup=setup,
        )
        pdf = record.documents[-1].pdf if record.documents else b"%PDF-1.7 never stored"
    upload = logged_in.post(
        "/verify",
        data={"pdf": (io.BytesIO(pdf), "letter.pdf")},
        content_type="multipart/form-data",
    )
    text = page_text(upload.text)
    assert upload.status_code == 200
    if record.documents:
        assert "A signed document of record" in text
        assert "Dana Example, MD, NPI 1234567893" in text
    else:
        assert "Not a document of record" in text
    by_hash = logged_in.post("/verify", data={"sha256": hashlib.sha256(pdf).hexdigest()})
    assert page_text(by_hash.text).count("signed document of record") == text.count(
        "signed document of record"
    )
    assert logged_in.post("/verify", data={"sha256": "not a hash"}).status_code == 422
    assert logged_in.post("/verify", data={}).status_code == 422


def test_a_draft_letter_is_not_a_signed_document(logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in)
    made = logged_in.post(f"/cases/{case_id}/letter.pdf")
    pdf = logged_in.get(made.headers["Location"]).data
    response = logged_in.post(
        "/verify", data={"pdf": (io.BytesIO(pdf), "x.pdf")}, content_type="multipart/form-data"
    )
    assert "unsigned draft" in page_text(response.text)
    assert "A signed document of record" not in page_text(response.text)
