"""Login, sessions, CSRF, headers, limits and error pages."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import zlib

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from test_authorization import KINDS, ROLES, TABLE, _answers, _Fixture
from web_helpers import (
    cidp_case_data,
    cidp_formdata,
    create_case,
    demo_account,
    log_in_demo,
    page_text,
    signing_fields,
)

from priorauth.store.db import make_engine, session_factory
from priorauth.store.models import AuditEvent
from priorauth.web.auth import LOGIN_FAILED

CSRF_ON = pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], ids=["csrf"])


def _token(body: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', body)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def test_every_page_but_login_needs_a_login(app: Flask, client: FlaskClient) -> None:
    # The health check says "ok" or "database unavailable" and nothing else.
    public = {"auth.login", "static", "health.check"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in public:
            continue
        url = re.sub(r"<(?:int:|int\([^)]*\):)?[^>]+>", "1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            if rule.endpoint.startswith("api"):
                # The JSON API has no login page: 401 without a token, except its two
                # documentation pages, which are public (tests/web/api/).
                public_api = rule.endpoint in ("api.openapi", "api.docs")
                assert response.status_code == (200 if public_api else 401), rule.endpoint
                continue
            assert response.status_code in (302, 303), (rule.endpoint, method)
            assert "/login" in response.headers["Location"], (rule.endpoint, method)


def test_demo_login_and_logout(client: FlaskClient) -> None:
    log_in_demo(client, "physician")
    page = client.get("/")
    assert page.status_code == 200
    assert "Dana Example" in page_text(page.text)
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("billing@demo.example", "wrong password"),
        ("nobody@demo.example", "demo-billing-pass"),
        ("", ""),
    ],
)
def test_failed_login_says_the_same_thing_whatever_was_wrong(
    client: FlaskClient, email: str, password: str
) -> None:
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code in (400, 401)
    assert client.get("/").status_code == 302
    if email:
        assert LOGIN_FAILED in page_text(response.text)
        assert (
            'value="billing@demo.example"' in response.text
            or email != demo_account("billing").email
        )


def test_login_email_is_not_case_sensitive(client: FlaskClient) -> None:
    account = demo_account("advocate")
    response = client.post(
        "/login", data={"email": account.email.upper(), "password": account.password}
    )
    assert response.status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil"])
def test_login_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    account = demo_account("billing")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": account.email, "password": account.password},
    )
    assert response.headers["Location"] == "/"


def test_login_returns_to_the_page_asked_for(client: FlaskClient) -> None:
    first = client.get("/cases/new")
    assert "next=%2Fcases%2Fnew" in first.headers["Location"]
    account = demo_account("billing")
    response = client.post(
        "/login",
        query_string={"next": "/cases/new"},
        data={"email": account.email, "password": account.password},
    )
    assert response.headers["Location"] == "/cases/new"


@CSRF_ON
def test_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    account = demo_account("billing")
    refused = client.post("/login", data={"email": account.email, "password": account.password})
    assert refused.status_code == 400
    assert "did not come from this site" in page_text(refused.text)

    token = _token(client.get("/login").text)
    accepted = client.post(
        "/login",
        data={"email": account.email, "password": account.password, "csrf_token": token},
    )
    assert accepted.status_code == 302

    # The token from before login no longer works: login starts a new session.
    stale = client.post("/cases/new/cidp", data={**cidp_formdata().to_dict(), "csrf_token": token})
    assert stale.status_code == 400

    fresh = _token(client.get("/cases/new/cidp").text)
    formdata = cidp_formdata()
    formdata["csrf_token"] = fresh
    assert client.post("/cases/new/cidp", data=formdata).status_code == 303
    no_token = cidp_formdata()
    assert client.post("/cases/new/cidp", data=no_token).status_code == 400
    assert client.post("/logout").status_code == 400


@pytest.mark.parametrize("app_config", [{"TESTING": False}], ids=["production"])
def test_session_cookie_flags(client: FlaskClient) -> None:
    # Outside testing and debugging, the cookie must be Secure.
    account = demo_account("billing")
    response = client.post("/login", data={"email": account.email, "password": account.password})
    cookie = next(
        value
        for name, value in response.headers.items()
        if name == "Set-Cookie" and value.startswith("priorauth_session=")
    )
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=Lax" in cookie


def test_session_cookie_holds_no_patient_data(app: Flask, logged_in: FlaskClient) -> None:
    case_id = create_case(logged_in)
    logged_in.get(f"/cases/{case_id}")
    logged_in.get(f"/cases/{case_id}/edit")
    cookie = logged_in.get_cookie("priorauth_session")
    assert cookie is not None
    # The cookie is signed, not encrypted: anyone holding it can read it.
    compressed = cookie.value.startswith(".")
    payload = cookie.value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    readable = (zlib.decompress(raw) if compressed else raw).decode()
    assert "Avery" not in readable and "Testpatient" not in readable
    session = json.loads(readable)
    assert set(session) <= {
        "_user_id",
        "_fresh",
        "_id",
        "csrf_token",
        "_flashes",
        "_permanent",
        "_last_seen",
        "_sid",
    }


def test_security_headers_on_every_page(client: FlaskClient) -> None:
    for url in ("/login", "/static/app.css", "/no-such-page"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "object-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_request_above_the_size_limit_is_refused(logged_in: FlaskClient) -> None:
    response = logged_in.post("/cases/new/cidp", data={"clinical_summary": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "Too much" in page_text(response.text)


def test_too_many_form_parts_is_refused(logged_in: FlaskClient) -> None:
    data = {f"prior_therapies-{i}-agent": "x" for i in range(3000)}
    response = logged_in.post("/cases/new/cidp", data=data, content_type="multipart/form-data")
    assert response.status_code == 413


def test_many_therapy_rows_are_capped_not_crashed(logged_in: FlaskClient) -> None:
    data = {f"prior_therapies-{i}-agent": "x" for i in range(500)}
    response = logged_in.post("/cases/new/cidp", data=data)
    assert response.status_code == 422


def test_error_pages_show_no_patient_data(
    app: Flask,
    logged_in: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case_id = create_case(logged_in)
    missing = logged_in.get(f"/cases/{case_id + 1000}")
    assert missing.status_code == 404
    assert "Not found" in page_text(missing.text)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("Avery Testpatient")  # an exception quoting patient data

    monkeypatch.setattr("priorauth.web.casefile.current_assessments", broken)
    app.testing = False  # let the 500 handler answer instead of raising in the test
    response = logged_in.get(f"/cases/{case_id}")
    assert response.status_code == 500
    assert "Avery" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" in caplog.text
    assert "Avery" not in caplog.text


# --- every form and every POST route (issue 6) -------------------------------------------------


def _forms_without_token(body: str) -> list[str]:
    missing = []
    for form in re.findall(r"<form\b[^>]*>.*?</form>", body, re.S | re.I):
        opening = form[: form.index(">") + 1]
        if re.search(r'method="post"', opening, re.I) and 'name="csrf_token"' not in form:
            missing.append(opening)
    return missing


def test_every_post_form_of_every_page_carries_a_csrf_token(app: Flask) -> None:
    """Open every GET page of the authorization table as every role that may, and look."""
    fixture = _Fixture(app)
    pages = 0
    problems = []
    try:
        for row in TABLE:
            if row.method != "GET" or row.endpoint == "static":
                continue
            kinds = [("", row.every)] if row.every else [(k, getattr(row, k)) for k in KINDS[:1]]
            for kind, spec in kinds:
                for role in ROLES:
                    if _answers(spec)[role] != 200:
                        continue
                    world = fixture.world(row, "own") if kind else None
                    response = fixture.clients[role].get(fixture.url(row, world))
                    if response.mimetype != "text/html":
                        continue
                    pages += 1
                    for form in _forms_without_token(response.text):
                        problems.append(f"{row.key} as {role}: {form}")
                    for link in re.findall(r'(?:href|src|action)="([^"]+)"', response.text):
                        if "Avery" in link or "Testpatient" in link:
                            problems.append(f"{row.key} as {role}: patient data in {link}")
    finally:
        fixture.close()
    assert pages > 30
    assert not problems, "\n".join(problems)


@CSRF_ON
def test_every_post_route_refuses_a_request_without_the_token(
    app: Flask, client: FlaskClient
) -> None:
    account = demo_account("billing")
    token = _token(client.get("/login").text)
    client.post(
        "/login", data={"email": account.email, "password": account.password, "csrf_token": token}
    )
    assert client.get("/").status_code == 200
    case_id = create_case_with_token(client)
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        values = {name: case_id if name == "case_id" else 1 for name in rule.arguments}
        if "name" in rule.arguments:
            values["name"] = "send_for_signature"
        if "indication_id" in rule.arguments:
            values["indication_id"] = "cidp"
        url = app.url_map.bind("localhost").build(rule.endpoint, values, method="POST")
        response = client.post(url, data={"version": "1"})
        if rule.endpoint.startswith("api"):
            # CSRF-free by design: no cookie reaches the API, so the session above
            # does not authenticate it and no CSRF token is asked for.
            assert response.status_code == 401, rule.endpoint
            continue
        assert response.status_code == 400, rule.endpoint
        assert "did not come from this site" in page_text(response.text)


def create_case_with_token(client: FlaskClient) -> int:
    token = _token(client.get("/cases/new/cidp").text)
    formdata = cidp_formdata()
    formdata["csrf_token"] = token
    response = client.post("/cases/new/cidp", data=formdata)
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_no_patient_data_in_logs_or_the_audit_trail(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """A whole case, from draft to submission, with the log at DEBUG: no patient data."""
    caplog.set_level(logging.DEBUG)
    billing, physician = app.test_client(), app.test_client()
    log_in_demo(billing, "billing")
    log_in_demo(physician, "physician")
    case_id = create_case(billing)
    billing.get(f"/cases/{case_id}")
    billing.get(f"/cases/{case_id}/letter/preview")
    billing.post(f"/cases/{case_id}/state/send_for_signature", data={"version": "1"})
    page = physician.get(f"/cases/{case_id}/sign")
    physician.post(
        f"/cases/{case_id}/sign",
        data={"password": "wrong", "read_it": "y", **signing_fields(page.text)},
    )
    physician.post(
        f"/cases/{case_id}/sign",
        data={
            "password": demo_account("physician").password,
            "read_it": "y",
            **signing_fields(page.text),
        },
    )
    billing.get(f"/cases/{case_id}/state/submit")
    billing.get(f"/cases/{case_id + 999}")  # a refusal
    billing.post("/login", data={"email": "Avery.Testpatient@example.org", "password": "x"})
    patient = cidp_case_data()["patient"]
    needles = [patient["first_name"], patient["last_name"], patient["date_of_birth"]]
    needles += [
        v for v in (patient.get("member_id"), cidp_case_data()["coverage"].get("member_id")) if v
    ]
    for needle in needles:
        assert needle not in caplog.text, needle
    engine = make_engine(app.config["PRIORAUTH_DATABASE_URL"])
    try:
        with session_factory(engine)() as session:
            events = list(session.scalars(select(AuditEvent)))
    finally:
        engine.dispose()
    assert len(events) > 10
    for event in events:
        fields = f"{event.action} {event.outcome} {event.detail} {event.role}"
        for needle in needles:
            assert needle not in fields, (event.action, needle)


def test_security_headers_on_the_new_pages(app: Flask) -> None:
    admin = app.test_client()
    log_in_demo(admin, "admin")
    for url in ("/admin/users", "/admin/audit", "/admin/payers", "/verify"):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"


def test_a_verification_upload_above_the_size_limit_is_refused(logged_in: FlaskClient) -> None:
    big = io.BytesIO(b"%PDF-1.7 " + b"0" * (2 * 1024 * 1024))
    response = logged_in.post(
        "/verify", data={"pdf": (big, "big.pdf")}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
