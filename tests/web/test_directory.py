"""The clinic's directory: kept by billing staff and administrators, chosen in the intake."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from web_helpers import input_value, log_in_demo, page_text

from priorauth.store.models import AuditEvent, IntakeDraft, PatientRecord, PayerEntry, Prescriber

Sessions = Any


def test_a_prescriber_is_validated_saved_and_audited(
    logged_in: FlaskClient, sessions: Sessions
) -> None:
    refused = logged_in.post("/directory/prescribers/new", data={"name": "", "npi": "1234567890"})
    assert refused.status_code == 422
    text = page_text(refused.text)
    assert "Required: fill this in." in text
    assert "check digit" in text
    saved = logged_in.post(
        "/directory/prescribers/new",
        data={
            "name": "Robin Neuro",
            "credentials": "DO",
            "npi": "1234567802",
            "specialty": "neurology",
        },
    )
    assert saved.status_code == 303
    with sessions() as session:
        row = session.scalars(select(Prescriber).where(Prescriber.npi == "1234567802")).one()
        # Left empty: the practice's letterhead (the demo's) fills the practice fields.
        assert row.practice_name == "Synthetic Neurology Clinic"
        events = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("directory.%"))
        ).all()
        assert "directory.prescriber.create" in events
    again = logged_in.post("/directory/prescribers/new", data={"name": "Twin", "npi": "1234567802"})
    assert again.status_code == 422 and "on file already" in again.text


def test_a_payer_needs_its_rules_and_another_clinic_sees_none(
    app: Flask, logged_in: FlaskClient, sessions: Sessions, other_clinic: Any
) -> None:
    refused = logged_in.post("/directory/payers/new", data={"name": "Aetna"})
    assert refused.status_code == 422
    assert "Choose one of the options." in page_text(refused.text)
    saved = logged_in.post(
        "/directory/payers/new",
        data={
            "name": "Aetna",
            "plan_type": "commercial",
            "payer_profile": "aetna",
            "pa_fax": "555-0111",
        },
    )
    assert saved.status_code == 303
    with sessions() as session:
        row = session.scalars(select(PayerEntry).where(PayerEntry.name == "Aetna")).one()
    email, password = other_clinic()
    other = app.test_client()
    other.post("/login", data={"email": email, "password": password})
    assert other.get(f"/directory/payers/{row.id}").status_code == 404
    assert "Aetna" not in other.get("/directory").text


def test_the_intake_fills_from_the_directory_and_the_payer_sets_the_rules(
    logged_in: FlaskClient, sessions: Sessions
) -> None:
    with sessions() as session:
        prescriber = session.scalars(select(Prescriber)).first()
        payer = session.scalars(select(PayerEntry)).first()
        assert prescriber is not None and payer is not None
        prescriber_id, payer_id = prescriber.id, payer.id
    page = logged_in.get("/cases/start")
    assert 'id="directory-prescriber"' in page.text and 'id="directory-data"' in page.text
    # Without JavaScript: the choices posted with the step fill the empty fields.
    response = logged_in.post(
        "/cases/start",
        data={
            "directory-prescriber": str(prescriber_id),
            "directory-payer": str(payer_id),
            "patient-first_name": "Jordan",
            "patient-last_name": "Sample",
            "patient-date_of_birth": "1970-01-01",
            "patient-sex": "female",
            "coverage-member_id": "M-1",
            # Typed, but the payer chosen decides whose rules apply.
            "coverage-payer_profile": "uhc",
            "action": "continue",
        },
    )
    assert response.status_code == 303
    draft_id = int(re.findall(r"/drafts/(\d+)/", response.headers["Location"])[0])
    with sessions() as session:
        draft = session.get(IntakeDraft, draft_id)
        assert draft is not None
        values = dict((name, value) for name, value in draft.formdata)
        assert values["prescriber-npi"] == "1234567893"
        assert values["prescriber-practice_name"] == "Synthetic Neurology Clinic"
        assert values["coverage-payer_name"] == "Example Health Plan"
        assert values["coverage-payer_profile"] == "reference"
        # The new patient is on file now, with the payer chosen.
        patient = session.scalars(
            select(PatientRecord).where(PatientRecord.last_name == "Sample")
        ).one()
        assert patient.payer_entry_id == payer_id and patient.member_id == "M-1"
        patient_id = patient.id
    # The next case for them: choose the patient, and everything of theirs fills.
    again = logged_in.post(
        "/cases/start",
        data={"directory-patient": str(patient_id), "action": "continue"},
    )
    assert again.status_code == 303
    second = int(re.findall(r"/drafts/(\d+)/", again.headers["Location"])[0])
    step = logged_in.get(f"/drafts/{second}/patient")
    assert input_value(step.text, "patient-last_name") == "Sample"
    assert input_value(step.text, "coverage-member_id") == "M-1"
    with sessions() as session:
        assert len(session.scalars(select(PatientRecord)).all()) == 1  # not on file twice


def test_a_payer_name_with_its_own_rules_is_not_checked_against_the_reference(
    logged_in: FlaskClient,
) -> None:
    response = logged_in.post(
        "/cases/start",
        data={
            "patient-first_name": "Jordan",
            "patient-last_name": "Sample",
            "coverage-payer_name": "Aetna",
            "coverage-payer_profile": "reference",
            "action": "continue",
        },
    )
    step = logged_in.get(response.headers["Location"].replace("/indication", "/patient"))
    assert "has rules of its own" in page_text(step.text)


def test_advocates_and_physicians_keep_no_directory(client: FlaskClient) -> None:
    log_in_demo(client, "advocate")
    assert client.get("/directory").status_code == 403
    assert client.get("/directory/patients").status_code == 403
