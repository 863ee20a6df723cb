"""Accounts made by an administrator, login throttling across workers, the idle timeout."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from web_helpers import demo_account, log_in, log_in_demo, page_text

from priorauth.store.db import make_engine, session_factory
from priorauth.store.models import AuditEvent, User
from priorauth.web import create_app
from priorauth.web.auth import LOGIN_FAILED
from priorauth.web.sessions import THROTTLED


def _another_worker(app: Flask) -> Flask:
    """A second application on the same database: what a second gunicorn worker is."""
    keys = (
        "TESTING",
        "SECRET_KEY",
        "PRIORAUTH_DATABASE_URL",
        "WTF_CSRF_ENABLED",
        "PRIORAUTH_TODAY",
    )
    return create_app({key: app.config[key] for key in keys})


def _events(app: Flask, action: str) -> list[AuditEvent]:
    engine = make_engine(app.config["PRIORAUTH_DATABASE_URL"])
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
    finally:
        engine.dispose()


def _account(**changes: str) -> dict[str, str]:
    data = {
        "name": "Casey Newhire",
        "email": "casey@demo.example",
        "role": "physician",
        "credentials": "DO",
        "npi": "1234567893",
        "password": "correct horse battery",
    }
    data.update(changes)
    return data


def test_an_administrator_creates_an_account_that_can_log_in(app: Flask) -> None:
    admin = app.test_client()
    log_in_demo(admin, "admin")
    form = admin.get("/admin/users/new")
    assert form.status_code == 200
    made = admin.post("/admin/users/new", data=_account())
    assert made.status_code == 303
    listing = page_text(admin.get("/admin/users").text)
    assert "Casey Newhire" in listing and "casey@demo.example" in listing
    newcomer = app.test_client()
    log_in(newcomer, "casey@demo.example", "correct horse battery")
    assert "Casey Newhire" in page_text(newcomer.get("/").text)
    (event,) = _events(app, "accounts.create")
    assert event.outcome == "ok" and "correct horse" not in event.detail


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "billing@demo.example"}, "already exists in your organization"),
        ({"npi": "1234567890"}, "check digit is wrong"),
        ({"npi": ""}, "needs their NPI"),
        ({"password": "short"}, "at least 12 characters"),
        ({"role": "superuser"}, "Not a valid choice"),
        ({"email": "not-an-email"}, "Enter an email address"),
        ({"name": "Dr \u202eevilname"}, "control characters"),
    ],
)
def test_account_problems_are_shown_beside_the_field(
    app: Flask, changes: dict[str, str], message: str
) -> None:
    admin = app.test_client()
    log_in_demo(admin, "admin")
    response = admin.post("/admin/users/new", data=_account(**changes))
    assert response.status_code == 422
    assert message in page_text(response.text)


def test_a_switched_off_account_cannot_log_in(app: Flask) -> None:
    admin = app.test_client()
    log_in_demo(admin, "admin")
    advocate = app.test_client()
    log_in_demo(advocate, "advocate")
    engine = make_engine(app.config["PRIORAUTH_DATABASE_URL"])
    with session_factory(engine)() as session:
        target = session.scalars(
            select(User).where(User.email == demo_account("advocate").email)
        ).one()
        me = session.scalars(select(User).where(User.email == demo_account("admin").email)).one()
    engine.dispose()
    assert admin.post(f"/admin/users/{target.id}/active", data={"active": "0"}).status_code == 303
    # The open session ends at its next request, and logging in again fails.
    assert advocate.get("/").status_code == 302
    response = app.test_client().post(
        "/login",
        data={
            "email": demo_account("advocate").email,
            "password": demo_account("advocate").password,
        },
    )
    assert response.status_code == 401
    assert LOGIN_FAILED in page_text(response.text)
    # An administrator cannot switch themselves off.
    admin.post(f"/admin/users/{me.id}/active", data={"active": "0"})
    assert admin.get("/admin/users").status_code == 200


def _attempt(client: FlaskClient, email: str, password: str) -> Any:
    return client.post("/login", data={"email": email, "password": password})


def test_failed_logins_are_throttled_across_workers(app: Flask) -> None:
    """Two application instances on one database stand for two gunicorn workers."""
    first = app
    second = _another_worker(app)
    try:
        account = demo_account("billing")
        limit = first.config["PRIORAUTH_LOGIN_MAX_FAILURES_ACCOUNT"]
        for number in range(limit):
            worker = first if number % 2 else second
            response = _attempt(worker.test_client(), account.email, "wrong password")
            assert response.status_code == 401
        # The right password, on either worker, now waits.
        for worker in (first, second):
            response = _attempt(worker.test_client(), account.email, account.password)
            assert response.status_code == 429
            assert THROTTLED in page_text(response.text)
        # Another account from the same address is not held up.
        other = demo_account("advocate")
        assert _attempt(second.test_client(), other.email, other.password).status_code == 302
    finally:
        second.extensions["priorauth"].engine.dispose()


def test_throttling_does_not_tell_which_accounts_exist(app: Flask) -> None:
    limit = app.config["PRIORAUTH_LOGIN_MAX_FAILURES_ACCOUNT"]
    answers = {}
    for email in ("billing@demo.example", "nobody@demo.example"):
        for _ in range(limit):
            _attempt(app.test_client(), email, "wrong password")
        response = _attempt(app.test_client(), email, "wrong password")
        answers[email] = (response.status_code, page_text(response.text))
    assert answers["billing@demo.example"] == answers["nobody@demo.example"]
    assert answers["nobody@demo.example"][0] == 429


@pytest.mark.parametrize(
    "app_config", [{"PRIORAUTH_LOGIN_MAX_FAILURES_ADDRESS": 3}], ids=["address-limit-3"]
)
def test_failed_logins_are_throttled_per_address(app: Flask) -> None:
    from_there = app.test_client()
    from_there.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    for number in range(3):
        _attempt(from_there, f"guess{number}@demo.example", "wrong password")
    account = demo_account("physician")
    assert _attempt(from_there, account.email, account.password).status_code == 429
    from_elsewhere = app.test_client()
    from_elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.8"
    assert _attempt(from_elsewhere, account.email, account.password).status_code == 302
    refused = [e for e in _events(app, "login") if e.outcome == "refused"]
    assert {e.detail for e in refused} == {"wrong", "throttled"}
    assert all(e.remote_addr in ("192.0.2.7", "192.0.2.8") for e in refused)


def test_an_idle_session_is_logged_out(app: Flask, client: FlaskClient) -> None:
    log_in_demo(client, "billing")
    assert client.get("/").status_code == 200
    idle_seconds = app.config["PRIORAUTH_IDLE_MINUTES"] * 60
    with client.session_transaction() as session:
        session["_last_seen"] = int(time.time()) - idle_seconds - 5
    response = client.get("/cases/new")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert response.headers["Location"].endswith("/login?next=/cases/new")
    login_page = client.get(response.headers["Location"])
    assert "without activity" in page_text(login_page.text)
    assert client.get("/").status_code == 302  # still logged out
    assert [e.outcome for e in _events(app, "session.timeout")] == ["ok"]


def test_an_active_session_stays_and_a_session_without_a_time_ends(
    app: Flask, client: FlaskClient
) -> None:
    log_in_demo(client, "billing")
    with client.session_transaction() as session:
        session["_last_seen"] = int(time.time()) - 60
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        del session["_last_seen"]
    assert client.get("/").status_code == 302


def test_the_idle_limit_is_fifteen_minutes_and_the_cookie_matches(app: Flask) -> None:
    assert app.config["PRIORAUTH_IDLE_MINUTES"] == 15
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 15 * 60


def test_creating_an_account_does_not_tell_that_another_organization_has_the_address(
    app: Flask, other_clinic: Any
) -> None:
    other_email, other_password = other_clinic()
    admin = app.test_client()
    log_in_demo(admin, "admin")
    made = admin.post(
        "/admin/users/new",
        data=_account(email=other_email, role="billing", npi="", credentials=""),
    )
    # Exactly what an unknown address gets: the account is made, in this organization.
    assert made.status_code == 303
    assert other_email in page_text(admin.get("/admin/users").text)
    # Each person logs in to their own organization with their own password.
    ours, theirs = app.test_client(), app.test_client()
    log_in(ours, other_email, "correct horse battery")
    log_in(theirs, other_email, other_password)
    assert "Demo Clinic" in page_text(ours.get("/").text)
    assert "Other Clinic" in page_text(theirs.get("/").text)
    # Within one organization an address is still one account.
    again = admin.post("/admin/users/new", data=_account(email=other_email, role="billing"))
    assert again.status_code == 422
    assert "already exists in your organization" in page_text(again.text)


def test_one_address_never_gets_one_password_twice(app: Flask, other_clinic: Any) -> None:
    other_email, other_password = other_clinic()
    admin = app.test_client()
    log_in_demo(admin, "admin")
    data = _account(email=other_email, role="billing", npi="", credentials="")
    data["password"] = other_password
    response = admin.post("/admin/users/new", data=data)
    assert response.status_code == 422
    assert "Choose another password" in page_text(response.text)
