"""Signing follows the stored verdict, and a signature covers exactly what the page showed."""

from __future__ import annotations

import io
import re
from typing import Any

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import blank_pdf, cidp_formdata, create_case, demo_account, log_in_demo, page_text

from priorauth.store.models import AuditEvent, CaseRecord, Document, Signature
from priorauth.store.signatures import SIGNED_EXCEPTION, SIGNED_LETTER

PHYSICIAN_PASSWORD = demo_account("physician").password
Sessions = sessionmaker[Session]
REASON = (
    "My patient has had CIDP for six years under the care of an internist in a rural area "
    "with no neurologist within 300 km (synthetic reason)."
)


@pytest.fixture
def physician(app: Flask) -> FlaskClient:
    client = app.test_client()
    log_in_demo(client, "physician")
    return client


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def _version(body: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', body)
    assert found, page_text(body)[:500]
    return found.group(1)


def _not_ready_case(client: FlaskClient) -> int:
    # The rules judge a CIDP case prescribed by an internist not ready (neurologist criterion).
    return create_case(client, cidp_formdata(**{"prescriber-specialty": "internal_medicine"}))


def _send(client: FlaskClient, case_id: int, **extra: str) -> Any:
    page = client.get(f"/cases/{case_id}/state/send_for_signature")
    return client.post(
        f"/cases/{case_id}/state/send_for_signature",
        data={"version": _version(page.text), **extra},
    )


def _hidden(body: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', body)
    assert found, f"{name} not on the page"
    return found.group(1)


def _sign_form(client: FlaskClient, case_id: int) -> dict[str, str]:
    page = client.get(f"/cases/{case_id}/sign")
    assert page.status_code == 200, page_text(page.text)[:500]
    return {
        "password": PHYSICIAN_PASSWORD,
        "read_it": "y",
        "content_version": _hidden(page.text, "content_version"),
        "content_digest": _hidden(page.text, "content_digest"),
    }


def _signatures(sessions: Sessions, case_id: int) -> list[Signature]:
    with sessions() as session:
        found = list(session.scalars(select(Signature).where(Signature.case_id == case_id)))
        for signature in found:
            _ = signature.document.kind
        return found


def test_a_not_ready_case_is_not_sent_for_signature_as_a_standard_request(
    logged_in: FlaskClient,
) -> None:
    case_id = _not_ready_case(logged_in)
    page = page_text(logged_in.get(f"/cases/{case_id}/state/send_for_signature").text)
    assert "cannot go for signature as a standard request" in page
    refused = _send(logged_in, case_id)
    assert refused.status_code == 409
    assert "medical-exception request" in page_text(refused.text)
    assert _send(logged_in, case_id, as_exception="y").status_code == 303


def test_a_not_ready_case_is_signed_only_as_an_exception_that_says_so(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = _not_ready_case(logged_in)
    assert _send(logged_in, case_id, as_exception="y").status_code == 303
    page = page_text(physician.get(f"/cases/{case_id}/sign").text)
    assert "cannot be signed as a standard request" in page
    assert "Diagnosed and managed by a neurologist" in page  # what the record does not meet

    form = _sign_form(physician, case_id)
    refused = physician.post(f"/cases/{case_id}/sign", data=form)
    assert refused.status_code == 422
    assert "cannot be signed as a standard request" in page_text(refused.text)
    assert _signatures(sessions, case_id) == []

    # The reason is saved first (a new version), and shown in the request before signing.
    page = physician.get(f"/cases/{case_id}/sign")
    saved = physician.post(
        f"/cases/{case_id}/exception/reason",
        data={"exception_reason": REASON, "version": _version(page.text)},
    )
    assert saved.status_code == 303
    preview = physician.get(f"/cases/{case_id}/exception/preview")
    assert "no neurologist within 300 km" in page_text(preview.text)
    assert "Request for a medical exception" in page_text(preview.text)
    assert (
        f'src="/cases/{case_id}/exception/preview"' in physician.get(f"/cases/{case_id}/sign").text
    )
    stale = physician.post(f"/cases/{case_id}/sign", data={**form, "acknowledge": "y"})
    assert stale.status_code == 409  # opened before the reason was saved
    fresh = _sign_form(physician, case_id)
    signed = physician.post(f"/cases/{case_id}/sign", data={**fresh, "acknowledge": "y"})
    assert signed.status_code == 303, page_text(signed.text)[:800]
    (signature,) = _signatures(sessions, case_id)
    assert signature.document.kind == SIGNED_EXCEPTION
    assert "medical exception" in signature.attestation
    text = _pdf_text(signature.document.pdf)
    assert "Request for a medical exception" in text
    assert "Why this patient needs an exception to the standard criteria" in text
    assert "no neurologist within 300 km" in text
    assert "Diagnosed and managed by a neurologist" in text
    # Billing sees it ready to submit, as what it is; its packet leads with it, as signed.
    dashboard = page_text(logged_in.get("/").text)
    assert "Signed medical-exception request" in dashboard
    made = logged_in.post(
        f"/cases/{case_id}/packet.pdf",
        data={"confirm_missing": "y", "reason": "Sent separately (synthetic)."},
    )
    assert made.status_code == 303, page_text(made.text)[:500]
    packet = _pdf_text(logged_in.get(made.headers["Location"]).data)
    assert "Request for a medical exception" in packet
    assert "no neurologist within 300 km" in packet
    assert "signed by the physician" in packet


def test_a_standard_letter_signed_before_the_verdict_changed_is_not_ready_to_submit(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    assert _send(logged_in, case_id).status_code == 303
    assert (
        physician.post(f"/cases/{case_id}/sign", data=_sign_form(physician, case_id)).status_code
        == 303
    )
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None and record.assessment is not None
        stored = dict(record.assessment)
        stored["verdict"] = "not_ready"
        stored["verdict_reasons"] = ["A criterion no longer met (synthetic)."]
        record.assessment = stored
        session.commit()
    dashboard = page_text(logged_in.get("/").text)
    assert "Signed, but not ready" in dashboard
    page = logged_in.get(f"/cases/{case_id}/state/submit")
    assert page.status_code == 409
    assert "not ready" in page_text(page.text)
    queue = (
        dashboard[dashboard.index("Signed, ready to submit") :]
        if "Signed, ready to submit" in dashboard
        else ""
    )
    assert f"/cases/{case_id}" not in queue


def test_warnings_are_listed_and_must_be_acknowledged(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    assert _send(logged_in, case_id).status_code == 303
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None and record.assessment is not None
        stored = dict(record.assessment)
        stored["verdict"] = "ready_with_warnings"
        stored["verdict_reasons"] = ["A warning only the stored assessment gives (synthetic)."]
        record.assessment = stored
        session.commit()
    form = _sign_form(physician, case_id)
    page = page_text(physician.get(f"/cases/{case_id}/sign").text)
    assert "A warning only the stored assessment gives" in page
    unacknowledged = physician.post(f"/cases/{case_id}/sign", data=form)
    assert unacknowledged.status_code == 422
    assert "Confirm that you have read the warnings" in page_text(unacknowledged.text)
    assert _signatures(sessions, case_id) == []
    signed = physician.post(f"/cases/{case_id}/sign", data={**form, "acknowledge": "y"})
    assert signed.status_code == 303
    (signature,) = _signatures(sessions, case_id)
    assert signature.document.kind == SIGNED_LETTER


def test_an_upload_between_opening_and_signing_makes_the_sign_fail(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    assert _send(logged_in, case_id).status_code == 303
    form = _sign_form(physician, case_id)
    data = blank_pdf()
    added = logged_in.post(
        f"/cases/{case_id}/attachments",
        data={"file": (io.BytesIO(data), "ncs.pdf", "application/pdf"), "enclosure": "ncs_report"},
        content_type="multipart/form-data",
    )
    assert added.status_code == 303, page_text(added.text)[:500]
    refused = physician.post(f"/cases/{case_id}/sign", data=form)
    assert refused.status_code == 409
    assert "nothing was signed" in page_text(refused.text)
    assert _signatures(sessions, case_id) == []
    with sessions() as session:
        kinds = session.scalars(select(Document.kind).where(Document.case_id == case_id)).all()
        assert SIGNED_LETTER not in kinds
    # A fresh review covers the upload; then signing works.
    fresh = _sign_form(physician, case_id)
    assert fresh["content_digest"] != form["content_digest"]
    assert physician.post(f"/cases/{case_id}/sign", data=fresh).status_code == 303


def _attach(client: FlaskClient, case_id: int, enclosure: str = "ncs_report") -> None:
    data = blank_pdf()
    added = client.post(
        f"/cases/{case_id}/attachments",
        data={"file": (io.BytesIO(data), "report.pdf", "application/pdf"), "enclosure": enclosure},
        content_type="multipart/form-data",
    )
    assert added.status_code == 303, page_text(added.text)[:500]


def test_removing_an_enclosure_after_signing_supersedes_the_signature_and_the_packet(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    _attach(logged_in, case_id)
    _attach(logged_in, case_id, "neurology_note")
    assert _send(logged_in, case_id).status_code == 303
    form = _sign_form(physician, case_id)
    assert (
        physician.post(f"/cases/{case_id}/sign", data={**form, "acknowledge": "y"}).status_code
        == 303
    )
    packet = logged_in.post(f"/cases/{case_id}/packet.pdf")
    assert packet.status_code == 303, page_text(packet.text)[:500]
    page = page_text(logged_in.get(f"/cases/{case_id}/attachments").text)
    assert "Superseded" not in page
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None
        attachment_id = record.attachments[0].id

    removed = logged_in.post(f"/cases/{case_id}/attachments/{attachment_id}/remove")
    assert removed.status_code == 303
    (signature,) = _signatures(sessions, case_id)
    assert signature.superseded_at is not None
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None and record.state == "draft"
        assert signature.superseded_by_version == record.content_version
    page = page_text(logged_in.get(f"/cases/{case_id}/attachments").text)
    assert "Superseded: the signature it carries was superseded" in page
    dashboard = page_text(logged_in.get("/").text)
    assert "needs signing again" in dashboard


def test_a_packet_missing_required_enclosures_is_refused_or_carries_the_confirmation(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = create_case(logged_in)
    refused = logged_in.post(f"/cases/{case_id}/packet.pdf")
    assert refused.status_code == 409
    text = page_text(refused.text)
    assert "required enclosures are missing" in text
    assert "Nerve conduction study" in text  # named
    empty = logged_in.post(f"/cases/{case_id}/packet.pdf", data={"confirm_missing": "y"})
    assert empty.status_code == 409
    assert "Say why they are missing" in page_text(empty.text)

    reason = "The neurology lab faxes its reports directly (synthetic)."
    made = logged_in.post(
        f"/cases/{case_id}/packet.pdf", data={"confirm_missing": "y", "reason": reason}
    )
    assert made.status_code == 303, page_text(made.text)[:500]
    with sessions() as session:
        (packet,) = session.scalars(
            select(Document).where(Document.case_id == case_id, Document.kind == "packet")
        ).all()
        confirmed = (packet.record or {})["missing_enclosures_confirmed"]
        assert confirmed["reason"] == reason and confirmed["by"] and confirmed["at"]
        assert any("Nerve conduction" in title for title in confirmed["missing"])
        events = session.scalars(
            select(AuditEvent.action).where(AuditEvent.case_id == case_id)
        ).all()
        assert "packet.missing_confirmed" in events
    text = _pdf_text(packet.pdf)
    assert "Enclosures checklist" not in text and "Cost summary" not in text

    # A newer signed document makes the earlier packet no longer the current one.
    assert _send(logged_in, case_id).status_code == 303
    form = _sign_form(physician, case_id)
    assert (
        physician.post(f"/cases/{case_id}/sign", data={**form, "acknowledge": "y"}).status_code
        == 303
    )
    page = page_text(logged_in.get(f"/cases/{case_id}/attachments").text)
    assert "Superseded: a newer signed document was made after it" in page


def test_a_bad_exception_reason_gets_a_field_message_and_is_kept(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    case_id = _not_ready_case(logged_in)
    assert _send(logged_in, case_id, as_exception="y").status_code == 303
    version = _version(physician.get(f"/cases/{case_id}/sign").text)
    empty = physician.post(
        f"/cases/{case_id}/exception/reason", data={"exception_reason": " ", "version": version}
    )
    assert empty.status_code == 422
    assert "Write your reason" in page_text(empty.text)
    too_long = "x" * 4001
    long = physician.post(
        f"/cases/{case_id}/exception/reason",
        data={"exception_reason": too_long, "version": version},
    )
    assert long.status_code == 422
    assert "Shorten the reason to 4000 characters" in page_text(long.text)
    assert too_long in long.text  # the input is kept
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None and not (record.narrative or {})
