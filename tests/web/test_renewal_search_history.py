"""Renewal in one step, the dashboard's search and filters, and the case's history."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import (
    another_valid_npi,
    build_case,
    create_case,
    demo_account,
    input_value,
    log_in_demo,
    page_text,
)
from werkzeug.datastructures import MultiDict

from priorauth.store.models import AuditEvent, CaseRecord, IntakeDraft, User

Sessions = sessionmaker[Session]


def _case(sessions: Sessions, setup: str, **kwargs: Any) -> int:
    with sessions() as session:
        billing = session.scalars(
            select(User).where(User.email == demo_account("billing").email)
        ).one()
        physician = session.scalars(
            select(User).where(User.email == demo_account("physician").email)
        ).one()
        record = build_case(
            session,
            organization_id=billing.organization_id,
            creator_id=billing.id,
            signer=physician,
            setup=setup,
            **kwargs,
        )
        return int(record.id)


# --- renewal ---------------------------------------------------------------------------------


def test_a_continuation_starts_from_the_approved_case(
    logged_in: FlaskClient, sessions: Sessions
) -> None:
    previous = _case(sessions, "approved")
    page = page_text(logged_in.get(f"/cases/{previous}").text)
    assert "Start a continuation" in page
    started = logged_in.post(f"/cases/{previous}/continuation")
    assert started.status_code == 303
    match = re.fullmatch(r"/drafts/(\d+)/questions", started.headers["Location"])
    assert match
    draft_id = int(match.group(1))
    questions = logged_in.get(started.headers["Location"])
    text = page_text(questions.text)
    assert "Continuation started from case" in text
    # The baseline measures are carried over; the current ones are left to fill in.
    assert input_value(questions.text, "answers-incat_score_baseline-value") == "4"
    assert input_value(questions.text, "answers-incat_score_current-value") == ""
    assert 'id="answers-dose_reduction_attempt"' in questions.text
    assert 'id="answers-disease_course"' not in questions.text  # an initial-only question
    # Patient, coverage and prescriber are there; the weight is to be measured again.
    patient = logged_in.get(f"/drafts/{draft_id}/patient")
    assert input_value(patient.text, "patient-last_name") == "Testpatient"
    assert input_value(patient.text, "prescriber-npi") == "1234567893"
    measures = logged_in.get(f"/drafts/{draft_id}/measurements")
    assert input_value(measures.text, "measurements-weight") == ""
    assert input_value(measures.text, "measurements-height") == "67"
    assert "Weigh the patient again" in page_text(measures.text)
    # The renewal follows the maintenance phase, filled as choosing it fills it (Ontario:
    # 1 g/kg every 3 weeks), for the continuation period; not the initial 2 g/kg course.
    assert input_value(measures.text, "regimen-dose_g_per_kg") == "1"
    assert input_value(measures.text, "regimen-interval_weeks") == "3"
    assert input_value(measures.text, "regimen-months_requested") == "6"
    assert input_value(measures.text, "regimen-courses_requested") == ""
    assert re.search(
        r'<option selected value="maintenance"|value="maintenance" selected', measures.text
    )
    # The summary copied word for word is pointed out on the review.
    review = page_text(logged_in.get(f"/drafts/{draft_id}/review").text)
    assert "word for word: update it" in review
    therapies = logged_in.get(f"/drafts/{draft_id}/therapies")
    assert input_value(therapies.text, "prior_therapies-1-agent") == "Plasma exchange"

    # Only the new measures: the current INCAT, the reduction attempt, weight and date.
    with sessions() as session:
        draft = session.get(IntakeDraft, draft_id)
        assert draft is not None
        assert draft.request_type == "continuation"
        assert draft.continues_case_id == previous
        pairs = list(draft.formdata)
    data = dict(pairs)
    formdata = [(n, v) for n, v in pairs]
    formdata = [(n, v) for n, v in formdata if n not in ("measurements-weight",)]
    new = {
        "answers-incat_score_current-value": "2",
        "answers-incat_score_current-date": "2026-11-10",
        "answers-dose_reduction_attempt": "attempted_relapsed",
        "measurements-weight": "216",
        "measurements-measured_on": "2026-11-10",
        "regimen-start_date": "2026-12-01",
    }
    formdata = [(n, v) for n, v in formdata if n not in new] + list(new.items())
    version = _draft_version(sessions, draft_id)
    finished = logged_in.post(
        f"/drafts/{draft_id}/review",
        data=MultiDict([*formdata, ("draft_version", str(version)), ("action", "finish")]),
    )
    assert finished.status_code == 303, data
    location = finished.headers["Location"]
    assert re.fullmatch(r"/cases/\d+", location), page_text(logged_in.get(location).text)[:2000]
    case_id = int(location.rsplit("/", 1)[1])
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None
        assert record.request_type == "continuation"
        assert record.continues_case_id == previous
        answers = record.data["answers"]
        assert answers["incat_score_baseline"]["value"] == "4"
        assert answers["incat_score_current"]["value"] == "2"
    page = page_text(logged_in.get(f"/cases/{case_id}").text)
    assert f"This is a continuation of case {previous}" in page
    assert f"Renewed by case {case_id}" in page_text(logged_in.get(f"/cases/{previous}").text)


def _draft_version(sessions: Sessions, draft_id: int) -> int:
    with sessions() as session:
        draft = session.get(IntakeDraft, draft_id)
        assert draft is not None
        return draft.version_id


def test_only_billing_starts_a_continuation(app: Flask, sessions: Sessions) -> None:
    previous = _case(sessions, "approved")
    physician = app.test_client()
    log_in_demo(physician, "physician")
    assert physician.post(f"/cases/{previous}/continuation").status_code == 403
    assert "Start a continuation" not in physician.get(f"/cases/{previous}").text


# --- the dashboard's search ----------------------------------------------------------------


def _search(client: FlaskClient, **form: str) -> str:
    """The search's status line and the table of cases it found (not the work queue)."""
    response = client.post("/", data={"q": "", "state": "", "payer": "", **form})
    assert response.status_code == 200
    status = re.search(r'class="search-result">(.*?)</p>', response.text, re.S)
    table = re.search(r'id="case-results">(.*?)</table>', response.text, re.S)
    return " ".join(page_text(m.group(1)) for m in (status, table) if m)


def test_search_by_patient_name_or_payer_reference_never_in_the_url(
    logged_in: FlaskClient, sessions: Sessions
) -> None:
    first = _case(sessions, "submitted")
    second = create_case(logged_in)
    # A payer reference recorded with a submission finds its case.
    with sessions() as session:
        record = session.get(CaseRecord, first)
        assert record is not None
        record.submissions[-1].payer_reference = "UHC-PA-77123"
        session.commit()
    found = _search(logged_in, q="uhc-pa-77")
    assert f"Case {first}" in found and f"Case {second}" not in found
    assert "1 of 2 cases match" in found
    by_name = _search(logged_in, q="testpat")
    assert f"Case {first}" in by_name and f"Case {second}" in by_name
    nobody = _search(logged_in, q="Nobody Atall")
    assert "0 of 2 cases match" in nobody
    # The form posts; the page's own links and form action carry no query.
    page = logged_in.post("/", data={"q": "Testpatient"}).text
    assert re.search(r'<form method="post" action="/"', page)
    assert "q=Testpatient" not in page


def test_filters_by_state_and_payer(logged_in: FlaskClient, sessions: Sessions) -> None:
    denied = _case(sessions, "denied")
    draft = _case(sessions, "draft")
    only_denied = _search(logged_in, state="denied")
    assert f"Case {denied}" in only_denied and f"Case {draft}" not in only_denied
    payer = _search(logged_in, payer="Example Health Plan")
    assert f"Case {denied}" in payer and f"Case {draft}" in payer
    other_payer = _search(logged_in, payer="No Such Plan")
    assert "0 of 2 cases match" in other_payer
    cleared = _search(logged_in, state="denied", action="clear")
    assert f"Case {draft}" in cleared


def test_a_physician_searches_only_the_cases_they_reach(app: Flask, sessions: Sessions) -> None:
    mine = _case(sessions, "draft")
    theirs = _case(sessions, "draft", prescriber_npi=another_valid_npi())
    physician = app.test_client()
    log_in_demo(physician, "physician")
    found = _search(physician, q="Testpatient")
    assert f"Case {mine}" in found and f"Case {theirs}" not in found


def test_the_search_is_audited_without_what_was_typed(
    logged_in: FlaskClient, sessions: Sessions
) -> None:
    _case(sessions, "draft")
    _search(logged_in, q="Testpatient")
    with sessions() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "case.search")))
    assert events
    assert all("Testpatient" not in e.detail for e in events)


# --- history ----------------------------------------------------------------------------------


def test_the_case_page_shows_who_did_what_and_when(app: Flask, logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in)
    logged_in.post(f"/cases/{case_id}/letter.pdf")
    logged_in.post(f"/cases/{case_id}/state/send_for_signature", data={"version": "1"})
    logged_in.get(f"/cases/{case_id}/letter")
    page = logged_in.get(f"/cases/{case_id}")
    history = re.search(r'id="history".*?</section>', page.text, re.S)
    assert history is not None
    text = page_text(history.group(0))
    assert "Created the case" in text
    assert "Made a PDF: letter of medical necessity (unsigned)" in text
    assert "Sent the letter to the physician for signature" in text
    assert "Bailey Billing (Billing staff)" in text
    assert re.search(r"2\d{3}-\d\d-\d\d \d\d:\d\d UTC", text)
    # Reads are counted, not listed.
    assert "1 time the case or its documents were opened" in text
    # The documents table: state, view and download for each document.
    documents = re.search(r'id="documents".*?</section>', page.text, re.S)
    assert documents is not None
    assert "Draft, waiting for the physician's signature" in page_text(documents.group(0))
    assert "/view" in documents.group(0)
