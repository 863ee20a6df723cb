"""The guided intake: a new case step by step, each step a saved draft, then reviewed and saved."""

from __future__ import annotations

import html
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import cidp_case_data, cidp_formdata, field_error, input_value, log_in, page_text
from werkzeug.datastructures import MultiDict

from priorauth.store.models import AuditEvent, CaseRecord, IntakeDraft
from priorauth.web.steps import BY_KEY

Sessions = sessionmaker[Session]


def _hidden_and_fields(body: str) -> MultiDict[str, str]:
    """What the browser would post from the page's intake form, as drawn."""
    form = re.search(r'<form[^>]*id="intake-form".*?</form>', body, re.S)
    assert form, "no intake form on the page"
    pairs: list[tuple[str, str]] = []
    for tag in re.findall(r"<input[^>]*>", form.group(0)):
        name = re.search(r'\bname="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'\btype="([^"]+)"', tag)
        value = re.search(r'\bvalue="([^"]*)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio") and "checked" not in tag:
            continue
        if kind and kind.group(1) == "submit":
            continue
        pairs.append((name.group(1), html.unescape(value.group(1)) if value else ""))
    selects = re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form.group(0), re.S)
    for name, body in selects:
        options = re.findall(r"<option[^>]*>", body)
        chosen = next((o for o in options if re.search(r"\bselected\b", o)), None)
        picked = chosen or (options[0] if options else "")
        value = re.search(r'value="([^"]*)"', picked)
        pairs.append((name, html.unescape(value.group(1)) if value else ""))
    areas = re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form.group(0), re.S)
    for name, text in areas:
        pairs.append((name, html.unescape(text).lstrip("\n")))
    return MultiDict(pairs)


def _post_step(
    client: FlaskClient, url: str, changes: dict[str, Any], action: str = "continue"
) -> Any:
    """Open a step page, change some fields as a person would, and press a button."""
    page = client.get(url)
    assert page.status_code == 200, page_text(page.text)[:800]
    data = _hidden_and_fields(page.text)
    for name, value in changes.items():
        if isinstance(value, list):
            data.setlist(name, value)
        else:
            data.setlist(name, [value])
    data.setlist("action", [action])
    return client.post(url, data=data)


def _case_values(prefixes: tuple[str, ...]) -> dict[str, Any]:
    """The example CIDP case's form values whose names start with one of the prefixes."""
    formdata = cidp_formdata()
    values: dict[str, Any] = {}
    for name in formdata:
        if name.startswith(prefixes):
            found = formdata.getlist(name)
            values[name] = found if len(found) > 1 or name == "icd10_codes" else found[0]
    return values


def _start(client: FlaskClient) -> int:
    """The first step, saved: a new draft; return its id."""
    values = _case_values(("patient-", "coverage-", "prescriber-"))
    response = client.post("/cases/start", data={**values, "action": "continue"})
    assert response.status_code == 303, page_text(response.text)[:800]
    match = re.fullmatch(r"/drafts/(\d+)/indication", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _choose_cidp(client: FlaskClient, draft_id: int, request_type: str = "initial") -> None:
    page = client.get(f"/drafts/{draft_id}/indication?q=CIDP")
    assert page.status_code == 200
    assert 'id="ind-cidp"' in page.text
    version = re.search(r'name="draft_version" value="(\d+)"', page.text)
    assert version
    chosen = client.post(
        f"/drafts/{draft_id}/indication",
        data={
            "indication_id": "cidp",
            "request_type": request_type,
            "draft_version": version.group(1),
        },
    )
    assert chosen.status_code == 303
    assert chosen.headers["Location"] == f"/drafts/{draft_id}/questions"


def _through_all_steps(client: FlaskClient) -> int:
    draft_id = _start(client)
    _choose_cidp(client, draft_id)
    base = f"/drafts/{draft_id}"
    questions = _post_step(client, f"{base}/questions", _case_values(("icd10_codes", "answers-")))
    # No CIDP criterion tests earlier treatments: "Save and continue" passes the step,
    # which stays open at its address for a letter that lists them.
    assert questions.headers["Location"] == f"{base}/measurements"
    # Two prior therapies: fill the first row, add another, fill the second.
    therapies = _case_values(("prior_therapies-0-",))
    added = _post_step(client, f"{base}/therapies", therapies, action="add:prior_therapies")
    assert added.headers["Location"] == f"{base}/therapies"
    second = _case_values(("prior_therapies-1-",))
    went_on = _post_step(client, f"{base}/therapies", second)
    assert went_on.headers["Location"] == f"{base}/measurements"
    measurements = {
        **_case_values(("measurements-", "regimen-", "site_of_care")),
        "measurements-weight": "220",
        "measurements-weight_unit": "lb",
        "measurements-height_unit": "ft_in",
        "measurements-height": "",
        "measurements-height_feet": "5",
        "measurements-height_inches": "7",
    }
    done = _post_step(client, f"{base}/measurements", measurements)
    assert done.headers["Location"] == f"{base}/review", page_text(
        client.get(f"{base}/measurements").text
    )[:1500]
    return draft_id


def test_a_cidp_case_step_by_step_in_pounds_and_feet(
    logged_in: FlaskClient, sessions: Sessions
) -> None:
    draft_id = _through_all_steps(logged_in)
    review = logged_in.get(f"/drafts/{draft_id}/review")
    assert review.status_code == 200
    text = page_text(review.text)
    assert "Avery" in text and "Testpatient" in text
    assert "Prednisone" in text and "Plasma exchange" in text
    assert "Weight and height: Weight 220 lb" in text
    assert "Weight and height: Height 5 ft 7 in" in text
    assert "Ready to submit" in text  # the checklist drawn by the server
    saved = _post_step(
        logged_in,
        f"/drafts/{draft_id}/review",
        {"clinical_summary": cidp_case_data()["clinical_summary"]},
        action="finish",
    )
    assert saved.status_code == 303
    case_id = int(saved.headers["Location"].rsplit("/", 1)[1])
    # Back after saving: the draft's pages lead to the saved case, not to a 404.
    back = logged_in.get(f"/drafts/{draft_id}/review")
    assert back.status_code == 303 and back.headers["Location"] == f"/cases/{case_id}"
    with sessions() as session:
        record = session.get(CaseRecord, case_id)
        assert record is not None
        # Feet and inches became inches before the Case was built; pounds stay pounds.
        assert record.data["measurements"]["height_unit"] == "in"
        assert record.data["measurements"]["height"] == "67"
        assert record.data["measurements"]["weight_unit"] == "lb"
        assert [t["agent"] for t in record.data["prior_therapies"]] == [
            "Prednisone",
            "Plasma exchange",
        ]
        # The draft is closed once it is a case: its values gone, its number kept (never
        # reused) and leading to the case; the trail says where the case came from.
        closed = session.get(IntakeDraft, draft_id)
        assert closed is not None and closed.formdata == [] and closed.closed_at is not None
        assert closed.finished_case_id == case_id
        created = session.scalars(
            select(AuditEvent).where(
                AuditEvent.case_id == case_id, AuditEvent.action == "case.create"
            )
        ).one()
        assert created.detail == f"from draft {draft_id}"
    page = page_text(logged_in.get(f"/cases/{case_id}").text)
    assert "Ready to submit" in page
    assert "160 g per course" in page


def test_leave_and_come_back_to_a_draft(logged_in: FlaskClient, app: Flask) -> None:
    draft_id = _start(logged_in)
    _choose_cidp(logged_in, draft_id)
    later = _post_step(
        logged_in,
        f"/drafts/{draft_id}/questions",
        {"answers-symptom_duration_months": "5"},
        action="later",
    )
    assert later.headers["Location"] == "/"
    # Another session of the same person (another day): the dashboard lists the draft.
    client = app.test_client()
    log_in(client, "billing@demo.example", "demo-billing-pass")
    dashboard = page_text(client.get("/").text)
    assert "Unfinished intakes" in dashboard
    assert "Avery Testpatient" in dashboard
    assert "3 of 6" in dashboard  # patient, indication, questions saved
    back = client.get(f"/drafts/{draft_id}/questions")
    assert input_value(back.text, "answers-symptom_duration_months") == "5"


def test_a_step_with_problems_is_saved_and_says_what_to_fix(logged_in: FlaskClient) -> None:
    draft_id = _start(logged_in)
    _choose_cidp(logged_in, draft_id)
    _post_step(
        logged_in, f"/drafts/{draft_id}/questions", _case_values(("icd10_codes", "answers-"))
    )
    bad = _post_step(
        logged_in,
        f"/drafts/{draft_id}/measurements",
        {
            "measurements-weight": "0",
            "measurements-height_unit": "ft_in",
            "measurements-height_feet": "5",
            "measurements-height_inches": "14",
        },
    )
    # Saved, and on to the next step: one message says what is left, the indicator marks it.
    assert bad.headers["Location"] == f"/drafts/{draft_id}/review"
    review = logged_in.get(bad.headers["Location"])
    text = page_text(review.text)
    assert "things on “Measurements, safety and regimen” still to fix" in text
    assert re.search(r"Measurements, safety and regimen \(\d+ to fix\)", text)
    # Back on the step, the errors stand beside their fields.
    page = logged_in.get(f"/drafts/{draft_id}/measurements")
    assert "on this step to fix before the case can be saved" in page_text(page.text)
    assert "more than zero" in field_error(page.text, "measurements-weight")
    assert "Inches go from 0 to 11.9" in field_error(page.text, "measurements-height_inches")
    assert input_value(page.text, "measurements-weight") == "0"  # kept as typed
    assert 'role="alert"' in page.text
    # The summary links to the fields of this step only.
    summary = re.search(r'class="error-summary".*?</div>', page.text, re.S)
    assert summary is not None
    assert "#measurements-weight" in summary.group(0)
    assert "#patient-" not in summary.group(0)


def test_a_first_visit_shows_no_errors(logged_in: FlaskClient) -> None:
    draft_id = _start(logged_in)
    _choose_cidp(logged_in, draft_id)
    page = logged_in.get(f"/drafts/{draft_id}/measurements")
    assert 'class="error-summary"' not in page.text
    assert 'class="error-message"' not in page.text
    # The step indicator marks where we are, and what is saved.
    assert 'aria-current="step"' in page.text
    assert "(saved)" in page_text(page.text)


def test_the_first_step_checks_the_npi_before_an_indication_is_chosen(
    logged_in: FlaskClient,
) -> None:
    values = _case_values(("patient-", "coverage-", "prescriber-"))
    values["prescriber-npi"] = "1234567890"
    response = logged_in.post("/cases/start", data={**values, "action": "continue"})
    assert response.status_code == 303
    # On to choosing the indication, with the one message; the NPI waits on step 1.
    onward = logged_in.get(response.headers["Location"])
    assert "1 thing on “Patient and coverage” still to fix" in page_text(onward.text)
    page = logged_in.get(response.headers["Location"].replace("/indication", "/patient"))
    assert "check digit" in field_error(page.text, "prescriber-npi")


def test_changing_the_indication_drops_the_old_answers(logged_in: FlaskClient) -> None:
    draft_id = _start(logged_in)
    _choose_cidp(logged_in, draft_id)
    _post_step(
        logged_in, f"/drafts/{draft_id}/questions", _case_values(("icd10_codes", "answers-"))
    )
    page = logged_in.get(f"/drafts/{draft_id}/indication")
    version = re.search(r'name="draft_version" value="(\d+)"', page.text)
    assert version
    logged_in.post(
        f"/drafts/{draft_id}/indication",
        data={"indication_id": "pid", "request_type": "initial", "draft_version": version.group(1)},
    )
    questions = logged_in.get(f"/drafts/{draft_id}/questions")
    assert "answers-symptom_duration_months" not in questions.text
    assert 'id="answers-igg_mg_dl-0-value"' in questions.text
    # The patient is still there.
    assert input_value(logged_in.get(f"/drafts/{draft_id}/patient").text, "patient-last_name") == (
        "Testpatient"
    )


def test_two_tabs_on_one_draft_do_not_overwrite_silently(logged_in: FlaskClient) -> None:
    draft_id = _start(logged_in)
    _choose_cidp(logged_in, draft_id)
    url = f"/drafts/{draft_id}/patient"
    stale = _hidden_and_fields(logged_in.get(url).text)
    _post_step(logged_in, url, {"patient-first_name": "Avery-Jo"})
    stale.setlist("patient-first_name", ["Avery-Ann"])
    stale.setlist("action", ["continue"])
    conflict = logged_in.post(url, data=stale)
    assert conflict.status_code == 409
    assert "NOT saved yet" in page_text(conflict.text)
    assert input_value(conflict.text, "patient-first_name") == "Avery-Ann"
    kept = logged_in.get(url)
    assert input_value(kept.text, "patient-first_name") == "Avery-Jo"


def test_discard_a_draft(logged_in: FlaskClient, sessions: Sessions) -> None:
    draft_id = _start(logged_in)
    response = logged_in.post(f"/drafts/{draft_id}/discard")
    assert response.status_code == 303
    with sessions() as session:
        closed = session.get(IntakeDraft, draft_id)
        assert closed is not None and closed.formdata == [] and closed.closed_at is not None
    # Its pages say it was discarded; the next draft gets a new number.
    back = logged_in.get(f"/drafts/{draft_id}/patient")
    assert back.status_code == 303 and back.headers["Location"].endswith("/")
    assert _start(logged_in) != draft_id


def test_another_organizations_draft_is_not_found(
    app: Flask, logged_in: FlaskClient, other_clinic: Any
) -> None:
    draft_id = _start(logged_in)
    email, password = other_clinic()
    other = app.test_client()
    log_in(other, email, password)
    assert other.get(f"/drafts/{draft_id}/patient").status_code == 404
    assert other.post(f"/drafts/{draft_id}/discard").status_code == 404
    assert "Avery" not in other.get("/").text


def test_draft_pages_and_trail_carry_no_patient_data_outside_the_page(
    logged_in: FlaskClient, sessions: Sessions
) -> None:
    draft_id = _start(logged_in)
    _choose_cidp(logged_in, draft_id)
    page = logged_in.get(f"/drafts/{draft_id}/questions")
    title = re.search(r"<title>(.*?)</title>", page.text, re.S)
    assert title and "Testpatient" not in title.group(1)
    with sessions() as session:
        events = list(session.scalars(select(AuditEvent)))
    assert any(e.detail == f"draft {draft_id}" for e in events)
    for event in events:
        assert "Testpatient" not in f"{event.action} {event.detail}"


def test_every_step_has_its_page(logged_in: FlaskClient) -> None:
    draft_id = _start(logged_in)
    _choose_cidp(logged_in, draft_id)
    for key in BY_KEY:
        page = logged_in.get(f"/drafts/{draft_id}/{key}")
        assert page.status_code == 200, key
        # Every visible control has a label.
        ids = re.findall(
            r'<(?:input|select|textarea)(?![^>]*type="(?:hidden|submit)")[^>]*\bid="([^"]+)"',
            page.text,
        )
        labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', page.text))
        assert set(ids) <= labelled, (key, set(ids) - labelled)
    assert logged_in.get(f"/drafts/{draft_id}/nonsense").status_code == 404


def test_the_measurements_step_asks_pregnancy_of_female_patients_only(
    logged_in: FlaskClient,
) -> None:
    # The example patient is male: the guided step knows the sex from the first step.
    draft_id = _start(logged_in)
    _choose_cidp(logged_in, draft_id)
    page = logged_in.get(f"/drafts/{draft_id}/measurements").text
    group = re.search(r"<div[^>]*data-pregnancy-fields[^>]*>", page)
    assert group and "hidden" in group.group(0)
    assert 'id="safety-anti_iga_antibodies"' in page  # the safety facts are on this step
    values = _case_values(("patient-", "coverage-", "prescriber-"))
    values["patient-sex"] = "female"
    response = logged_in.post("/cases/start", data={**values, "action": "continue"})
    female = int(response.headers["Location"].split("/")[2])
    _choose_cidp(logged_in, female)
    page = logged_in.get(f"/drafts/{female}/measurements").text
    group = re.search(r"<div[^>]*data-pregnancy-fields[^>]*>", page)
    assert group and "hidden" not in group.group(0)


def test_the_checklist_lists_what_this_step_can_fix_first(logged_in: FlaskClient) -> None:
    values = _case_values(("patient-", "coverage-", "prescriber-"))
    values["coverage-member_id"] = ""  # a problem left on step 1
    response = logged_in.post("/cases/start", data={**values, "action": "continue"})
    draft_id = int(re.findall(r"/drafts/(\d+)/", response.headers["Location"])[0])
    _choose_cidp(logged_in, draft_id)
    page = logged_in.get(f"/drafts/{draft_id}/measurements")
    here = re.search(r'<ul class="readiness__fix">(.*?)</ul>', page.text, re.S)
    later = re.search(
        r'<ul class="readiness__fix readiness__fix--later">(.*?)</ul>', page.text, re.S
    )
    assert here is not None and later is not None
    links = re.findall(r'href="([^"]+)"', here.group(1))
    assert links and all(f"/drafts/{draft_id}/measurements#" in link for link in links), links
    # What another step can fix is listed apart, under "Other steps".
    assert "Other steps:" in page_text(page.text)
    others = re.findall(r'href="([^"]+)"', later.group(1))
    assert any("/patient#coverage-member_id" in link for link in others), others


def test_leaving_an_unsaved_step_by_the_step_indicator_keeps_it_quiet(
    logged_in: FlaskClient,
) -> None:
    """The step indicator saves what was typed, but a step left that way before it was
    ever saved on does not come back showing its problems (the review lists them)."""
    draft_id = _start(logged_in)
    _choose_cidp(logged_in, draft_id)
    base = f"/drafts/{draft_id}"
    questions = _post_step(
        logged_in, f"{base}/questions", _case_values(("icd10_codes", "answers-"))
    )
    assert questions.headers["Location"] == f"{base}/measurements"
    left = _post_step(logged_in, f"{base}/measurements", {}, action="goto:therapies")
    assert left.headers["Location"] == f"{base}/therapies"
    back = logged_in.get(f"{base}/measurements")
    assert field_error(back.text, "measurements-weight") == "", field_error(
        back.text, "measurements-weight"
    )
    # Saved on by "Save and continue", its problems show as before.
    _post_step(logged_in, f"{base}/measurements", {}, action="continue")
    again = logged_in.get(f"{base}/measurements")
    assert field_error(again.text, "measurements-weight") != ""
