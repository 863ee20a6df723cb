"""Case pages: the dashboard, the assessment, the letter and its PDF, edits and conflicts."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from web_helpers import (
    cidp_case_data,
    cidp_formdata,
    create_case,
    field_error,
    input_value,
    log_in,
    log_in_demo,
    page_text,
)

from priorauth.store.db import make_engine, session_factory
from priorauth.store.models import AuditEvent, CaseRecord, Document


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def _stored(app: Flask, model: type, **where: object) -> list:
    engine = make_engine(app.config["PRIORAUTH_DATABASE_URL"])
    try:
        with session_factory(engine)() as session:
            query = select(model).filter_by(**where)
            return list(session.scalars(query))
    finally:
        engine.dispose()


def test_dashboard_lists_the_organizations_cases(logged_in: FlaskClient) -> None:
    empty = logged_in.get("/")
    assert "No cases yet" in page_text(empty.text)
    case_id = create_case(logged_in)
    listing = logged_in.get("/")
    assert f'href="/cases/{case_id}"' in listing.text
    text = page_text(listing.text)
    assert "Avery Testpatient" in text
    assert "Ready to submit" in text


def test_letter_pdf_contains_the_essentials_and_is_stored(
    app: Flask, logged_in: FlaskClient
) -> None:
    case_id = create_case(logged_in)
    preview_page = logged_in.get(f"/cases/{case_id}/letter")
    assert preview_page.status_code == 200
    assert f'src="/cases/{case_id}/letter/preview"' in preview_page.text

    preview = logged_in.get(f"/cases/{case_id}/letter/preview")
    assert preview.status_code == 200
    assert "Avery Testpatient" in page_text(preview.text)
    assert "script-src" not in preview.headers["Content-Security-Policy"]
    assert "default-src 'none'" in preview.headers["Content-Security-Policy"]

    made = logged_in.post(f"/cases/{case_id}/letter.pdf")
    assert made.status_code == 303
    download = logged_in.get(made.headers["Location"])
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "Testpatient" not in disposition
    assert download.headers["Cache-Control"] == "no-store"

    text = _pdf_text(download.data)
    assert "Avery Testpatient" in text
    assert "G61.81" in text
    assert "160 g" in text or "160.0 g" in text
    for therapy in cidp_case_data()["prior_therapies"]:
        assert therapy["agent"] in text

    (document,) = _stored(app, Document, case_id=case_id)
    assert document.kind == "letter"
    assert document.sha256 == hashlib.sha256(download.data).hexdigest()
    assert document.pdf == download.data
    assert "indication:cidp" in document.definition_versions
    assert document.case_snapshot["patient"]["last_name"] == "Testpatient"
    assert document.assessment["verdict"] == "ready"

    # The same case, date and definitions: the stored letter is reused, not duplicated.
    again = logged_in.post(f"/cases/{case_id}/letter.pdf")
    assert again.headers["Location"] == made.headers["Location"]
    assert len(_stored(app, Document, case_id=case_id)) == 1
    assert "Letter of medical necessity (unsigned) version 1, dated 2026-11-20" in page_text(
        logged_in.get(f"/cases/{case_id}").text
    )


def test_markup_in_free_text_is_literal_in_the_pdf(logged_in: FlaskClient) -> None:
    payload = '<b>x</b> <img src="file:///etc/passwd">'
    case_id = create_case(logged_in, cidp_formdata(clinical_summary=payload))
    made = logged_in.post(f"/cases/{case_id}/letter.pdf")
    pdf = logged_in.get(made.headers["Location"]).data
    assert "<b>x</b>" in _pdf_text(pdf)
    assert b"/EmbeddedFiles" not in pdf


def test_another_organizations_case_is_not_found(
    app: Flask, client: FlaskClient, other_clinic: Callable[[], tuple[str, str]]
) -> None:
    log_in_demo(client, "billing")
    case_id = create_case(client)
    made = client.post(f"/cases/{case_id}/letter.pdf")
    document_url = made.headers["Location"]
    client.post("/logout")

    email, password = other_clinic()
    log_in(client, email, password)
    assert "Avery" not in client.get("/").text
    for url in (
        f"/cases/{case_id}",
        f"/cases/{case_id}/edit",
        f"/cases/{case_id}/letter",
        f"/cases/{case_id}/letter/preview",
        document_url,
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Avery" not in response.text and "Testpatient" not in response.text
    assert client.post(f"/cases/{case_id}/letter.pdf").status_code == 404
    assert client.post(f"/cases/{case_id}/edit", data=cidp_formdata()).status_code == 404
    refused = _stored(app, AuditEvent, case_id=case_id, outcome="refused")
    assert refused, "refused attempts are recorded"
    # Their case is untouched.
    (record,) = _stored(app, CaseRecord, id=case_id)
    assert record.version_id == 1


def test_missing_case_and_document_are_not_found(logged_in: FlaskClient) -> None:
    assert logged_in.get("/cases/999999").status_code == 404
    case_id = create_case(logged_in)
    assert logged_in.get(f"/cases/{case_id}/documents/999999").status_code == 404


def test_edit_shows_what_was_saved_and_saves_a_change(app: Flask, logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in)
    edit = logged_in.get(f"/cases/{case_id}/edit")
    assert edit.status_code == 200
    assert input_value(edit.text, "patient-first_name") == "Avery"
    assert input_value(edit.text, "measurements-weight") == "220"
    assert input_value(edit.text, "version") == "1"

    formdata = cidp_formdata(version="1", **{"regimen-days_per_course": "5"})
    saved = logged_in.post(f"/cases/{case_id}/edit", data=formdata)
    assert saved.status_code == 303
    (record,) = _stored(app, CaseRecord, id=case_id)
    assert record.version_id == 2
    assert record.data["regimen"]["days_per_course"] == 5
    assert record.updated_by_id is not None


def test_an_edit_conflict_is_explained_and_nothing_typed_is_lost(
    app: Flask, logged_in: FlaskClient
) -> None:
    case_id = create_case(logged_in)
    # Someone else saves first (version 1 → 2)...
    first = logged_in.post(
        f"/cases/{case_id}/edit",
        data=cidp_formdata(version="1", **{"patient-first_name": "Firstsave"}),
    )
    assert first.status_code == 303
    # ...then this editor, who opened version 1, saves.
    late = logged_in.post(
        f"/cases/{case_id}/edit",
        data=cidp_formdata(version="1", **{"patient-first_name": "Latesave"}),
    )
    assert late.status_code == 409
    text = page_text(late.text)
    assert "Someone else saved this case" in text
    assert "NOT saved" in text
    assert input_value(late.text, "patient-first_name") == "Latesave"
    assert input_value(late.text, "version") == "2"
    (record,) = _stored(app, CaseRecord, id=case_id)
    assert record.data["patient"]["first_name"] == "Firstsave"

    # Saving again, knowingly, replaces the other version.
    replaced = logged_in.post(
        f"/cases/{case_id}/edit",
        data=cidp_formdata(version="2", **{"patient-first_name": "Latesave"}),
    )
    assert replaced.status_code == 303
    (record,) = _stored(app, CaseRecord, id=case_id)
    assert record.data["patient"]["first_name"] == "Latesave"
    assert record.version_id == 3


@pytest.mark.parametrize("version", ["", "abc", "-1", "99999999999999999999999"])
def test_a_bad_version_field_is_a_conflict_not_a_crash(
    logged_in: FlaskClient, version: str
) -> None:
    case_id = create_case(logged_in)
    response = logged_in.post(f"/cases/{case_id}/edit", data=cidp_formdata(version=version))
    assert response.status_code == 409


def test_an_edit_with_errors_keeps_the_case_unchanged(app: Flask, logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in)
    response = logged_in.post(
        f"/cases/{case_id}/edit",
        data=cidp_formdata(version="1", **{"prescriber-npi": "1234567890"}),
    )
    assert response.status_code == 422
    assert "check digit" in field_error(response.text, "prescriber-npi")
    (record,) = _stored(app, CaseRecord, id=case_id)
    assert record.version_id == 1


def test_assessment_shows_statuses_evidence_citations_and_unverified_marks(
    logged_in: FlaskClient,
) -> None:
    formdata = cidp_formdata(**{"answers-demyelination_on_electrodiagnostics": "no"})
    formdata["answers-disease_course"] = ""
    case_id = create_case(logged_in, formdata)
    page = logged_in.get(f"/cases/{case_id}")
    text = page_text(page.text)
    assert "Not ready" in text
    assert "Not met" in text
    assert "Information missing" in text
    assert "Demyelination shown on nerve conduction studies or nerve biopsy: no" in text
    assert "National Blood Authority (Australia)" in text
    # The CIDP authorization periods are marked unverified in the definition.
    assert re.search(r"Authorization period\s*<span class=\"badge badge--unverified\"", page.text)
    assert "Why this weight" in text


def test_pages_carry_no_patient_data_in_titles_or_urls(logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in)
    for url in ("/", f"/cases/{case_id}", f"/cases/{case_id}/edit", f"/cases/{case_id}/letter"):
        body = logged_in.get(url).text
        title = re.search(r"<title>(.*?)</title>", body, re.S)
        assert title and "Avery" not in title.group(1) and "Testpatient" not in title.group(1)
        for link in re.findall(r'(?:href|src|action)="([^"]+)"', body):
            assert "Avery" not in link and "Testpatient" not in link


def test_the_letter_preview_is_clean_and_the_review_sheet_holds_the_doubts(
    logged_in: FlaskClient,
) -> None:
    case_id = create_case(logged_in)
    page = logged_in.get(f"/cases/{case_id}/letter")
    assert f'href="/cases/{case_id}/letter/review-sheet"' in page.text
    preview = logged_in.get(f"/cases/{case_id}/letter/preview").text
    letter = page_text(re.sub(r"<style>.*?</style>", "", preview, flags=re.DOTALL))
    assert "unverified" not in letter.lower()
    assert "before this letter is signed" not in letter

    sheet = logged_in.get(f"/cases/{case_id}/letter/review-sheet")
    assert sheet.status_code == 200
    assert "default-src 'none'" in sheet.headers["Content-Security-Policy"]
    text = page_text(sheet.text)
    assert "Physician's review sheet" in text
    assert "Internal: not for the payer" in text
    # CIDP's authorization periods are unverified in its definition: beside the row, with
    # the definition's note as its source.
    row = text.split("Authorization period:", 1)[1][:600]
    assert "not confirmed by a source" in row
    assert "Source:" in row


def test_the_letter_preview_is_built_without_a_pdf_render(
    logged_in: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview frame reloads often; a whole WeasyPrint layout per GET would be wasted."""
    case_id = create_case(logged_in)

    def no_pdf(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("the preview rendered a PDF")

    monkeypatch.setattr("weasyprint.HTML.write_pdf", no_pdf)
    preview = logged_in.get(f"/cases/{case_id}/letter/preview")
    assert preview.status_code == 200
    assert "Avery Testpatient" in page_text(preview.text)
