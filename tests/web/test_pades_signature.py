"""The signed letter carries a PAdES signature on its own signature line; pdfsig and
`priorauth verify` both find it valid, and both see one altered byte."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import (
    another_valid_npi,
    cidp_formdata,
    create_case,
    demo_account,
    log_in_demo,
    page_text,
    signing_fields,
)

from priorauth.cli import main
from priorauth.documents.pades import FIELD_NAME
from priorauth.store.models import Signature, User

PHYSICIAN_PASSWORD = demo_account("physician").password
Sessions = sessionmaker[Session]
needs_pdfsig = pytest.mark.skipif(shutil.which("pdfsig") is None, reason="needs poppler-utils")


@pytest.fixture
def physician(app: Flask) -> FlaskClient:
    client = app.test_client()
    log_in_demo(client, "physician")
    return client


def _send(client: FlaskClient, case_id: int) -> None:
    page = client.get(f"/cases/{case_id}/state/send_for_signature")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    response = client.post(
        f"/cases/{case_id}/state/send_for_signature", data={"version": version.group(1)}
    )
    assert response.status_code == 303


def _sign(physician: FlaskClient, case_id: int, **extra: str) -> Any:
    page = physician.get(f"/cases/{case_id}/sign")
    data = {
        "password": PHYSICIAN_PASSWORD,
        "read_it": "y",
        "acknowledge": "y",
        **signing_fields(page.text),
        **extra,
    }
    return physician.post(f"/cases/{case_id}/sign", data=data)


def _signed_pdf(sessions: Sessions, case_id: int) -> bytes:
    with sessions() as session:
        signature = session.scalars(select(Signature).where(Signature.case_id == case_id)).one()
        return signature.document.pdf


@pytest.fixture
def signed_pdf(logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions) -> bytes:
    case_id = create_case(logged_in)
    _send(logged_in, case_id)
    response = _sign(physician, case_id)
    assert response.status_code == 303, page_text(response.text)[:500]
    return _signed_pdf(sessions, case_id)


def _text(page: pypdf.PageObject) -> str:
    return " ".join(page.extract_text().split())


def test_the_signature_sits_on_the_letters_own_signature_line(signed_pdf: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(signed_pdf))
    texts = [_text(page) for page in reader.pages]
    assert not any("Electronic signature record" in text for text in texts)  # no extra page
    (on_page,) = [i for i, text in enumerate(texts) if "Signature (electronic)" in text]
    text = texts[on_page]
    assert "Signature (electronic): Dana Example, MD" in text
    assert "Electronically signed by Dana Example, MD (NPI 1234567893) on 2026-" in text
    assert "I have read this letter of medical necessity in full" in text
    assert "Date: " in text
    # The digital signature's field is a widget on that page, above the line.
    widgets = [
        annotation.get_object()
        for annotation in reader.pages[on_page].get("/Annots", [])
        if annotation.get_object().get("/T") == FIELD_NAME
    ]
    assert len(widgets) == 1
    left, bottom, right, top = (float(v) for v in widgets[0]["/Rect"])
    assert right - left > 200 and 10 < top - bottom < 30
    metadata = reader.metadata or {}
    assert "Avery" not in str(dict(metadata))


def _altered(data: bytes) -> bytes:
    """One byte of the letter's own content changed, inside the signed range."""
    changed = bytearray(data)
    at = changed.index(b"stream") + 20
    changed[at] ^= 0x01
    return bytes(changed)


@needs_pdfsig
def test_pdfsig_finds_the_signature_valid_and_sees_one_changed_byte(
    signed_pdf: bytes, tmp_path: Path
) -> None:
    good = tmp_path / "signed.pdf"
    good.write_bytes(signed_pdf)
    report = subprocess.run(
        ["pdfsig", str(good)], capture_output=True, text=True, check=False, timeout=60
    ).stdout
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    assert "Signature Type: ETSI.CAdES.detached" in report  # PAdES

    bad = tmp_path / "altered.pdf"
    bad.write_bytes(_altered(signed_pdf))
    report = subprocess.run(
        ["pdfsig", str(bad)], capture_output=True, text=True, check=False, timeout=60
    ).stdout
    assert "Signature is Valid." not in report
    assert "Digest Mismatch" in report


def test_priorauth_verify_agrees(
    signed_pdf: bytes, tmp_path: Path, database_url: str, capsys: Any
) -> None:
    good = tmp_path / "signed.pdf"
    good.write_bytes(signed_pdf)
    assert main(["verify", str(good), "--database-url", database_url]) == 0
    out = capsys.readouterr().out
    assert "DIGITAL SIGNATURE VALID (PAdES)" in out
    assert "this installation's certificate" in out
    assert "SIGNED DOCUMENT OF RECORD" in out

    bad = tmp_path / "altered.pdf"
    bad.write_bytes(_altered(signed_pdf))
    assert main(["verify", str(bad), "--database-url", database_url]) == 1
    assert "DIGITAL SIGNATURE BROKEN" in capsys.readouterr().out


def test_a_signer_who_is_not_the_prescriber_must_confirm_and_the_letter_says_so(
    logged_in: FlaskClient, physician: FlaskClient, sessions: Sessions
) -> None:
    npi = another_valid_npi()
    formdata = cidp_formdata(
        **{"prescriber-name": "Nora Neuro", "prescriber-npi": npi}  # another physician
    )
    case_id = create_case(logged_in, formdata)
    with sessions() as session:
        doctor = session.scalars(
            select(User).where(User.email == demo_account("physician").email)
        ).one()
    # Billing assigns the clinic's physician to sign a colleague's case.
    assigned = logged_in.post(f"/cases/{case_id}/assignments", data={"user_id": str(doctor.id)})
    assert assigned.status_code == 303
    _send(logged_in, case_id)
    page = page_text(physician.get(f"/cases/{case_id}/sign").text)
    assert "You are not the prescriber on this case" in page
    assert f"Nora Neuro, MD (NPI {npi})" in page
    refused = _sign(physician, case_id)
    assert refused.status_code == 422
    assert "Confirm that you sign for the prescribing physician" in page_text(refused.text)
    signed = _sign(physician, case_id, for_prescriber="y")
    assert signed.status_code == 303
    text = " ".join(
        _text(page) for page in pypdf.PdfReader(io.BytesIO(_signed_pdf(sessions, case_id))).pages
    )
    assert f"Signing for Nora Neuro, MD (NPI {npi}), the prescribing physician" in text


def test_the_verify_page_checks_the_digital_signature(
    signed_pdf: bytes, logged_in: FlaskClient
) -> None:
    def check(data: bytes) -> str:
        response = logged_in.post(
            "/verify",
            data={"pdf": (io.BytesIO(data), "letter.pdf", "application/pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        return page_text(response.text)

    good = check(signed_pdf)
    assert "Valid: the PDF is unchanged since Dana Example, MD signed it" in good
    assert "this clinic's signing certificate" in good
    assert "Broken" in check(_altered(signed_pdf))
