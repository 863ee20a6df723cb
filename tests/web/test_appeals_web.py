"""Denials, appeals, attachments and packets in the app (issue 5's web part)."""

from __future__ import annotations

import base64
import io
import re
import zlib
from pathlib import Path
from typing import Any

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import (
    EXAMPLES,
    build_case,
    demo_account,
    field_error,
    log_in,
    log_in_demo,
    page_text,
    signing_fields,
)

from priorauth.rules.assessment import Problem
from priorauth.store.models import (
    AttachmentRecord,
    AuditEvent,
    CaseRecord,
    DenialRecord,
    Document,
    User,
)
from priorauth.web import denials

Sessions = sessionmaker[Session]
ATTACHMENTS = EXAMPLES / "attachments"


@pytest.fixture
def clients(app: Flask) -> dict[str, FlaskClient]:
    made = {}
    for role in ("billing", "physician", "advocate"):
        made[role] = app.test_client()
        log_in_demo(made[role], role)
    return made


def _case(sessions: Sessions, setup: str = "denied") -> int:
    """A case of the demo clinic in a state, assigned to the demo advocate."""
    with sessions() as session:
        people = {
            role: session.scalars(select(User).where(User.email == demo_account(role).email)).one()
            for role in ("billing", "physician", "advocate")
        }
        record = build_case(
            session,
            organization_id=people["billing"].organization_id,
            creator_id=people["billing"].id,
            signer=people["physician"],
            setup=setup,
            assign_ids=(people["advocate"].id,),
        )
        return int(record.id)


def _record(sessions: Sessions, case_id: int) -> CaseRecord:
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None
        list(record.denials)
        list(record.decisions)
        list(record.attachments)
        list(record.documents)
        list(record.signatures)
        list(record.submissions)
        return record


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def _version(client: FlaskClient, url: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', client.get(url).text)
    assert match
    return match.group(1)


NOTICE = {
    "date": "2026-11-18",
    "received_on": "2026-11-19",
    "payer_reference": "EHP-APL-55012",
    "reasons": ["step_therapy_not_met"],
    "reviewer_words": "Policy requires a trial of corticosteroids before IVIG.",
    "level": "first_internal",
    "appeal_deadline": "2027-05-17",
    "appeals_fax": "555-0199",
}


def _record_denial(client: FlaskClient, case_id: int, **changes: Any) -> Any:
    url = f"/cases/{case_id}/denial"
    data = {**NOTICE, **changes, "version": _version(client, url)}
    return client.post(url, data={k: v for k, v in data.items() if v is not None})


def test_the_advocate_records_the_denial_and_the_appeal_answers_it(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    advocate = clients["advocate"]
    case_id = _case(sessions)
    before = _record(sessions, case_id)
    form = advocate.get(f"/cases/{case_id}/denial")
    assert form.status_code == 200
    # Started from what the case already knows: the decision's date and deadline.
    assert 'value="2026-11-20"' in form.text
    response = _record_denial(advocate, case_id)
    assert response.status_code == 303, page_text(response.text)[:1200]
    assert response.headers["Location"] == f"/cases/{case_id}/appeal"

    after = _record(sessions, case_id)
    (denial,) = after.denials
    assert denial.data["payer_reference"] == "EHP-APL-55012"
    assert denial.data["reasons"][0]["category"] == "step_therapy_not_met"
    assert denial.decision_id == after.decisions[-1].id
    # A new content version: the denied letter's signature is superseded; the appeal can go.
    assert after.content_version == before.content_version + 1
    assert after.signatures[-1].superseded_at is not None

    page = page_text(advocate.get(f"/cases/{case_id}/appeal").text)
    assert "EHP-APL-55012" in page
    assert "Step therapy not met" in page
    assert "2027-05-17" in page
    preview = advocate.get(f"/cases/{case_id}/appeal/preview")
    assert preview.status_code == 200
    assert "script-src" not in preview.headers["Content-Security-Policy"]
    assert "default-src 'none'" in preview.headers["Content-Security-Policy"]

    made = advocate.post(f"/cases/{case_id}/appeal.pdf")
    assert made.status_code == 303
    download = advocate.get(made.headers["Location"])
    assert download.mimetype == "application/pdf"
    assert "Testpatient" not in download.headers["Content-Disposition"]
    text = _pdf_text(download.data)
    assert "EHP-APL-55012" in text
    # The step-therapy reason is answered with the case's own therapies.
    assert "Prednisone" in text and "Plasma exchange" in text
    assert "corticosteroids before IVIG" in text  # the reviewer quoted
    # Stored with what produced it.
    stored = [d for d in _record(sessions, case_id).documents if d.kind == "appeal"]
    assert len(stored) == 1
    assert stored[0].record is not None
    assert stored[0].record["document"] == "appeal"
    assert stored[0].record["denial"]["payer_reference"] == "EHP-APL-55012"
    assert stored[0].pdf == download.data
    # The same inputs: the stored appeal is reused.
    again = advocate.post(f"/cases/{case_id}/appeal.pdf")
    assert again.headers["Location"] == made.headers["Location"]

    # The case page names the document, its state and the history of the case.
    case_page = page_text(advocate.get(f"/cases/{case_id}").text)
    assert "Appeal letter (unsigned)" in case_page
    assert "Recorded the denial notice" in case_page
    assert "Ari Advocate" in case_page
    # And the appeal can now go to the physician for signature.
    assert "Appeal: send the updated letter for signature" in case_page


def test_the_physician_prepares_the_peer_to_peer_sheet(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    case_id = _case(sessions, "denied+notice")
    made = clients["physician"].post(f"/cases/{case_id}/peer-to-peer.pdf")
    assert made.status_code == 303
    text = _pdf_text(clients["physician"].get(made.headers["Location"]).data)
    assert "PA-2026-0001" in text
    kinds = [d.kind for d in _record(sessions, case_id).documents]
    assert "peer_to_peer" in kinds


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"reasons": None}, "reasons", "at least one reason"),
        ({"criteria_named": ["neurologist"]}, "criteria_named", "Coverage criteria not met"),
        ({"reasons": ["criteria_not_met"]}, "criteria_named", "Tick the criteria"),
        ({"missing": "IgG results"}, "missing", "Missing information"),
        ({"level": "expedited"}, "delay_risks_health", "expedited"),
        ({"delay_risks_health": "y"}, "urgency", "risk"),
        ({"appeal_deadline": "2026-11-01"}, "appeal_deadline", "before"),
        ({"date": "2026-12-01", "appeal_deadline": None}, "date", "future"),
        ({"payer_reference": ""}, "payer_reference", "reference"),
    ],
)
def test_a_denial_with_a_problem_is_explained_and_not_recorded(
    clients: dict[str, FlaskClient],
    sessions: Sessions,
    changes: dict[str, Any],
    field: str,
    words: str,
) -> None:
    case_id = _case(sessions)
    before = _record(sessions, case_id).content_version
    response = _record_denial(clients["advocate"], case_id, **changes)
    assert response.status_code == 422, changes
    shown = field_error(response.text, field) or field_error(response.text, f"{field}-0")
    assert words.lower() in shown.lower(), (changes, shown, page_text(response.text)[:1500])
    assert 'class="error-summary"' in response.text
    assert _record(sessions, case_id).content_version == before
    assert not _record(sessions, case_id).denials


def test_a_problem_the_rules_find_stands_beside_the_field_it_names(
    clients: dict[str, FlaskClient], sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Placed by the problem's field path in the Denial, whatever its words."""

    def problems(_denial: object, _definition: object) -> list[Problem]:
        return [Problem(field="reasons.0.criteria", message="words no page matches")]

    monkeypatch.setattr(denials, "denial_problems", problems)
    case_id = _case(sessions)
    response = _record_denial(
        clients["advocate"],
        case_id,
        reasons=["criteria_not_met"],
        criteria_named=["demyelination"],
    )
    assert response.status_code == 422
    shown = field_error(response.text, "criteria_named") or field_error(
        response.text, "criteria_named-0"
    )
    assert "no such criterion" in shown
    assert not _record(sessions, case_id).denials


def test_criteria_not_met_names_the_indications_criteria(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    case_id = _case(sessions)
    response = _record_denial(
        clients["billing"],
        case_id,
        reasons=["criteria_not_met", "missing_information"],
        criteria_named=["demyelination"],
        missing="Nerve conduction study report\nNeurology note",
    )
    assert response.status_code == 303, page_text(response.text)[:1500]
    (denial,) = _record(sessions, case_id).denials
    reasons = {r["category"]: r for r in denial.data["reasons"]}
    assert reasons["criteria_not_met"]["criteria"] == ["demyelination"]
    assert reasons["missing_information"]["missing"] == [
        "Nerve conduction study report",
        "Neurology note",
    ]


def test_a_denial_is_recorded_only_on_a_denied_case(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    case_id = _case(sessions, "draft")
    assert clients["billing"].get(f"/cases/{case_id}/denial").status_code == 409
    assert clients["billing"].get(f"/cases/{case_id}/appeal/preview").status_code == 409
    assert clients["billing"].post(f"/cases/{case_id}/appeal.pdf").status_code == 409


def _upload(
    client: FlaskClient, case_id: int, data: bytes, name: str, kind: str, **form: str
) -> Any:
    return client.post(
        f"/cases/{case_id}/attachments",
        data={"file": (io.BytesIO(data), name, kind), **form},
        content_type="multipart/form-data",
    )


def _file(name: str) -> bytes:
    return (ATTACHMENTS / name).read_bytes()


def test_two_pdfs_and_an_image_make_a_packet_in_order(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    advocate = clients["advocate"]
    case_id = _case(sessions, "denied+notice")
    for name, kind, enclosure in (
        ("ncs-report.pdf", "application/pdf", "ncs_report"),
        ("neurology-note.pdf", "application/pdf", "neurology_note"),
        ("vaccine-titres.png", "image/png", ""),
    ):
        added = _upload(advocate, case_id, _file(name), name, kind, enclosure=enclosure)
        assert added.status_code == 303, page_text(added.text)[:800]
    page = page_text(advocate.get(f"/cases/{case_id}/attachments").text)
    assert "ncs-report.pdf" in page and "PDF, 2 pages" in page
    assert "PNG image, 1 page" in page

    made = advocate.post(f"/cases/{case_id}/packet.pdf", data=SEND_SEPARATELY)
    assert made.status_code == 303
    data = advocate.get(made.headers["Location"]).data
    reader = pypdf.PdfReader(io.BytesIO(data))
    total = len(reader.pages)
    texts = [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]
    assert all(f"of {total}" in text for text in texts)  # every page numbered
    # The uploads come last, in the order given: 2 + 2 PDF pages, then the image's page.
    assert "Nerve conduction" in texts[total - 5]
    assert "Neurology consultation" in texts[total - 3]
    assert "Attachment 3" in texts[total - 1]
    (packet,) = [d for d in _record(sessions, case_id).documents if d.kind == "packet"]
    assert packet.record is not None
    assert [a["filename"] for a in packet.record["attachments"]] == [
        "ncs-report.pdf",
        "neurology-note.pdf",
        "vaccine-titres.png",
    ]


# The required enclosures these tests leave out, confirmed as sent separately.
SEND_SEPARATELY = {"confirm_missing": "y", "reason": "Faxed separately by the lab (synthetic)."}


def _unharmed(sessions: Sessions, case_id: int, version: int) -> None:
    record = _record(sessions, case_id)
    assert record.version_id == version
    assert not record.attachments


@pytest.mark.parametrize(
    ("data", "name", "kind", "words"),
    [
        (b"%PDF-1.7\nnot really a pdf\n", "report.pdf", "application/pdf", "incomplete"),
        (_file("vaccine-titres.png"), "report.pdf", "application/pdf", "contents are a PNG"),
        (b"hello", "notes.txt", "text/plain", "only PDF, PNG and JPEG"),
        (b"", "empty.pdf", "application/pdf", "empty"),
        (b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024 + 10), "big.pdf", "application/pdf", "limit"),
    ],
    ids=["corrupt", "mislabelled", "wrong-type", "empty", "oversized"],
)
def test_a_bad_upload_is_explained_and_leaves_the_case_unharmed(
    clients: dict[str, FlaskClient],
    sessions: Sessions,
    data: bytes,
    name: str,
    kind: str,
    words: str,
) -> None:
    case_id = _case(sessions, "denied")
    version = _record(sessions, case_id).version_id
    response = _upload(clients["billing"], case_id, data, name, kind)
    assert response.status_code == 422
    text = page_text(response.text)
    assert words.lower() in text.lower(), text[:1000]
    assert "Nothing about the case changed" in text
    assert 'role="alert"' in response.text
    _unharmed(sessions, case_id, version)


def test_a_file_far_above_the_limit_is_refused_before_it_is_read(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    case_id = _case(sessions, "denied")
    version = _record(sessions, case_id).version_id
    huge = b"%PDF-1.7\n" + b"0" * (12 * 1024 * 1024)
    response = _upload(clients["billing"], case_id, huge, "scan.pdf", "application/pdf")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cases/{case_id}/attachments"
    page = page_text(clients["billing"].get(response.headers["Location"]).text)
    assert "larger than 10 MB" in page
    _unharmed(sessions, case_id, version)


def test_a_removed_attachment_is_left_out_and_the_file_downloads_as_kept(
    clients: dict[str, FlaskClient], sessions: Sessions, app: Flask, other_clinic: Any
) -> None:
    billing = clients["billing"]
    case_id = _case(sessions, "draft")
    data = _file("ncs-report.pdf")
    _upload(billing, case_id, data, "ncs-report.pdf", "application/pdf", enclosure="ncs_report")
    (stored,) = _record(sessions, case_id).attachments
    download = billing.get(f"/cases/{case_id}/attachments/{stored.id}")
    # A PDF is kept as the clean rebuild of its pages (documents/upload_pdf.py).
    assert download.data == stored.data
    uploaded, kept = (pypdf.PdfReader(io.BytesIO(d)) for d in (data, download.data))
    assert [p.extract_text() for p in kept.pages] == [p.extract_text() for p in uploaded.pages]
    assert "ncs-report" not in download.headers["Content-Disposition"]
    email, password = other_clinic()
    other = app.test_client()
    log_in(other, email, password)
    assert other.get(f"/cases/{case_id}/attachments/{stored.id}").status_code == 404
    removed = billing.post(f"/cases/{case_id}/attachments/{stored.id}/remove")
    assert removed.status_code == 303
    with sessions() as session:
        kept = session.get(AttachmentRecord, stored.id)
        assert kept is not None and kept.removed_at is not None
    assert "No file attached yet" in page_text(billing.get(f"/cases/{case_id}/attachments").text)
    assert billing.post(f"/cases/{case_id}/attachments/{stored.id}/remove").status_code == 404


def test_an_enclosure_that_is_not_the_indications_is_refused(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    case_id = _case(sessions, "draft")
    response = _upload(
        clients["billing"],
        case_id,
        _file("ncs-report.pdf"),
        "ncs-report.pdf",
        "application/pdf",
        enclosure="igg_lab_report",
    )
    assert response.status_code == 422
    assert not _record(sessions, case_id).attachments


def test_the_trail_names_no_file_and_no_patient(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    case_id = _case(sessions, "denied")
    _upload(
        clients["billing"],
        case_id,
        _file("ncs-report.pdf"),
        "Testpatient-ncs.pdf",
        "application/pdf",
    )
    _record_denial(clients["advocate"], case_id)
    with sessions() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)))
        denials = list(session.scalars(select(DenialRecord)))
        documents = list(session.scalars(select(Document)))
    assert denials and documents
    for event in events:
        assert "Testpatient" not in event.detail
        assert "EHP-APL" not in event.detail


def test_example_attachments_exist() -> None:
    assert Path(ATTACHMENTS / "ncs-report.pdf").is_file()


def test_after_a_recorded_denial_the_physician_signs_the_appeal(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    case_id = _case(sessions, "denied")
    assert _record_denial(clients["advocate"], case_id).status_code == 303
    appeal = clients["advocate"].post(
        f"/cases/{case_id}/state/appeal",
        data={"version": _version(clients["advocate"], f"/cases/{case_id}/state/appeal")},
    )
    assert appeal.status_code == 303
    physician = clients["physician"]
    page = physician.get(f"/cases/{case_id}/sign")
    assert "Read and sign the appeal letter" in page_text(page.text)
    assert f"/cases/{case_id}/appeal/preview" in page.text
    signed = physician.post(
        f"/cases/{case_id}/sign",
        data={
            "password": demo_account("physician").password,
            "read_it": "y",
            **signing_fields(page.text),
        },
    )
    assert signed.status_code == 303, page_text(signed.text)[:800]
    record = _record(sessions, case_id)
    assert record.state == "signed"
    document = record.documents[-1]
    assert document.kind == "signed_appeal"
    assert document.record is not None and document.record["document"] == "appeal"
    text = _pdf_text(document.pdf)
    assert "EHP-APL-55012" in text
    assert "I have read this appeal in full" in text
    assert record.signatures[-1].attestation.startswith("I have read this appeal")
    # Billing submits it: an appeal submission.
    submitted = clients["billing"].post(
        f"/cases/{case_id}/state/submit",
        data={
            "version": _version(clients["billing"], f"/cases/{case_id}/state/submit"),
            "submitted_on": "2026-11-20",
            "method": "fax",
            "payer_reference": "EHP-APL-55012",
        },
    )
    assert submitted.status_code == 303
    assert _record(sessions, case_id).submissions[-1].appeal is True

    # The fax packet carries what the physician signed, signature page included,
    # not a fresh unsigned rendering.
    made = clients["billing"].post(f"/cases/{case_id}/packet.pdf", data=SEND_SEPARATELY)
    assert made.status_code == 303
    packet_text = _pdf_text(clients["billing"].get(made.headers["Location"]).data)
    assert "I have read this appeal in full" in packet_text
    assert "signed by the physician" in packet_text


def test_a_file_name_never_travels_in_the_session_cookie(
    clients: dict[str, FlaskClient], sessions: Sessions
) -> None:
    billing = clients["billing"]
    case_id = _case(sessions, "draft")
    name = "Avery-Testpatient-ncs.pdf"
    added = _upload(billing, case_id, _file("ncs-report.pdf"), name, "application/pdf")
    assert added.status_code == 303
    cookie = billing.get_cookie("priorauth_session")
    assert cookie is not None
    compressed = cookie.value.startswith(".")
    payload = cookie.value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    readable = (zlib.decompress(raw) if compressed else raw).decode()
    assert "Testpatient" not in readable and "Avery" not in readable
    # The page itself names the file, of course.
    assert name in page_text(billing.get(added.headers["Location"]).text)
