"""Deployment settings: HSTS with Secure cookies, trusted proxies, out-of-range ids,
direction marks refused in identifiers and names. Over real HTTP where it matters.
"""

from __future__ import annotations

from collections.abc import Iterator

import pydantic
import pytest
from flask import Flask
from flask.testing import FlaskClient
from raw_http import call, live_server, log_in
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import cidp_case_data, cidp_formdata, demo_account, log_in_demo, page_text

from priorauth.domain.case import Case
from priorauth.domain.identifiers import BIDI_CONTROLS
from priorauth.store import audit
from priorauth.store.models import AuditEvent, LoginAttempt
from priorauth.web import HSTS


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True}])
def test_hsts_when_cookies_are_secure(client: FlaskClient) -> None:
    for url in ("/login", "/static/app.css", "/no-such-page"):
        assert client.get(url).headers["Strict-Transport-Security"] == HSTS
    assert "max-age=31536000" in HSTS


def test_no_hsts_over_plain_http(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers


def _failed_login(base: str, forwarded_for: str) -> None:
    reply = call(
        base,
        "POST",
        "/login",
        form={"email": "nobody@demo.example", "password": "not the password"},
        headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"},
    )
    assert reply.status == 401


def _addresses(sessions: sessionmaker[Session]) -> tuple[set[str | None], set[str]]:
    with sessions() as db:
        audited = set(db.scalars(select(AuditEvent.remote_addr)))
        counted = set(db.scalars(select(LoginAttempt.remote_addr)))
    return audited, counted


@pytest.mark.parametrize("app_config", [{"PRIORAUTH_TRUSTED_PROXIES": 1}])
def test_behind_a_trusted_proxy_the_client_address_is_used(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    with live_server(app) as base:
        # A client's own forged entry comes first; the proxy appends what it saw.
        _failed_login(base, "198.51.100.66, 203.0.113.9")
    audited, counted = _addresses(sessions)
    assert audited == {"203.0.113.9"}
    assert counted == {"203.0.113.9"}


def test_without_trusted_proxies_forwarded_headers_are_ignored(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    assert app.config["PRIORAUTH_TRUSTED_PROXIES"] == 0
    with live_server(app) as base:
        _failed_login(base, "203.0.113.9")
    audited, counted = _addresses(sessions)
    assert audited == {"127.0.0.1"} and counted == {"127.0.0.1"}


@pytest.mark.parametrize(
    "app_config", [{"PRIORAUTH_TRUSTED_PROXIES": 1, "PRIORAUTH_LOGIN_MAX_FAILURES_ADDRESS": 3}]
)
def test_one_clients_failures_do_not_throttle_another_behind_the_proxy(app: Flask) -> None:
    account = demo_account("billing")
    with live_server(app) as base:
        for _ in range(3):
            _failed_login(base, "203.0.113.9")
        refused = call(
            base,
            "POST",
            "/login",
            form={"email": account.email, "password": account.password},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert refused.status == 429
        allowed = call(
            base,
            "POST",
            "/login",
            form={"email": account.email, "password": account.password},
            headers={"X-Forwarded-For": "203.0.113.10"},
        )
        assert allowed.status == 302


@pytest.fixture
def base(app: Flask) -> Iterator[str]:
    with live_server(app) as url:
        yield url


@pytest.mark.parametrize(
    "path",
    [
        "/cases/99999999999999999999999",
        "/cases/2147483648",
        "/cases/2147483647",
        "/cases/99999999999999999999999/edit",
        "/admin/users/99999999999999999999999/active",
    ],
)
def test_out_of_range_ids_answer_404(base: str, path: str) -> None:
    account = demo_account("billing")
    cookie = log_in(base, account.email, account.password)
    method = "POST" if path.endswith("/active") else "GET"
    reply = call(base, method, path, cookie=cookie)
    assert reply.status == 404, (reply.status, reply.body[:300])


@pytest.mark.parametrize("mark", sorted(BIDI_CONTROLS), ids=lambda c: f"U+{ord(c):04X}")
def test_the_domain_refuses_direction_marks_in_identifiers_and_names(mark: str) -> None:
    data = cidp_case_data()
    Case.model_validate(data)
    for path in (("coverage", "member_id"), ("patient", "last_name")):
        changed = {**data, path[0]: {**data[path[0]], path[1]: f"EHP{mark}321000"}}
        with pytest.raises(pydantic.ValidationError, match="direction marks"):
            Case.model_validate(changed)


def test_the_intake_form_refuses_an_override_in_the_member_id(logged_in: FlaskClient) -> None:
    data = cidp_formdata(**{"coverage-member_id": "EHP\u202e321000"})
    response = logged_in.post("/cases/new/cidp", data=data)
    assert response.status_code == 422
    assert "EHP\u202e321000" in response.text  # the input is kept for correcting
    assert "control characters" in page_text(response.text) or "direction marks" in page_text(
        response.text
    )


def test_the_intake_form_refuses_a_right_to_left_mark_in_a_name(logged_in: FlaskClient) -> None:
    data = cidp_formdata(**{"patient-last_name": "Test\u200fpatient"})
    response = logged_in.post("/cases/new/cidp", data=data)
    assert response.status_code == 422


@pytest.mark.parametrize("field", ["name", "credentials", "email"])
def test_an_account_refuses_direction_marks(app: Flask, field: str) -> None:
    admin = app.test_client()
    log_in_demo(admin, "admin")
    data = {
        "name": "Casey Newhire",
        "email": "casey@demo.example",
        "role": "billing",
        "credentials": "",
        "npi": "",
        "password": "violet-anchor-river-tundra-42",
    }
    data[field] = data[field][:3] + "\u200e" + data[field][3:] if data[field] else "M\u200eD"
    response = admin.post("/admin/users/new", data=data)
    assert response.status_code == 422


@pytest.mark.parametrize("app_config", [{"PRIORAUTH_AUDIT_KEY": "web-audit-key-for-tests"}])
def test_the_apps_writes_sign_the_audit_head(app: Flask, sessions: sessionmaker[Session]) -> None:
    client = app.test_client()
    log_in_demo(client, "billing")
    client.get("/")
    with sessions() as db:
        result = audit.verify(db, key=b"web-audit-key-for-tests")
        assert result.events >= 1
        assert result.ok and result.head_signed is True
        assert not audit.verify(db, key=b"another key").ok
