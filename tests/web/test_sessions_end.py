"""Sessions end on the server: a cookie copied before logout, a password change or
"sign out everywhere" is refused after it; idle and absolute limits hold. Over real HTTP.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from raw_http import call, live_server, log_in
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import demo_account

from priorauth.store.models import AuditEvent, User, UserSession
from priorauth.store.passwords import hash_password


@pytest.fixture
def base(app: Flask) -> Iterator[str]:
    with live_server(app) as url:
        yield url


def _works(base: str, cookie: str) -> bool:
    reply = call(base, "GET", "/", cookie=cookie)
    assert reply.status in (200, 302), reply.status
    return reply.status == 200


def test_a_cookie_copied_before_logout_is_refused_after_it(base: str) -> None:
    account = demo_account("billing")
    cookie = log_in(base, account.email, account.password)
    copied = cookie  # another browser, or a thief, holds the same value
    assert _works(base, cookie) and _works(base, copied)
    logout = call(base, "POST", "/logout", cookie=cookie)
    assert logout.status == 302
    refused = call(base, "GET", "/", cookie=copied)
    assert refused.status == 302 and "/login" in refused.location
    # Refused on every later use too, and on a write.
    assert not _works(base, copied)
    assert call(base, "POST", "/logout", cookie=copied).status == 302
    assert not _works(base, copied)


def test_a_password_change_ends_every_other_copy(
    base: str, sessions: sessionmaker[Session]
) -> None:
    account = demo_account("billing")
    here = log_in(base, account.email, account.password)
    elsewhere = log_in(base, account.email, account.password)
    copied = here
    new = "violet-anchor-river-tundra-42"
    changed = call(
        base,
        "POST",
        "/account/password",
        cookie=here,
        form={"current": account.password, "new": new, "again": new},
    )
    assert changed.status == 303, changed.body[:800]
    assert changed.cookie  # this browser carries on with a new session
    assert _works(base, changed.cookie)
    assert not _works(base, elsewhere)
    assert not _works(base, copied)
    assert log_in(base, account.email, new)
    with sessions() as db:
        reasons = db.scalars(select(UserSession.ended_reason)).all()
        assert reasons.count("password") == 2
        # The PostgreSQL schema is shared by the tests: give the demo account its password back.
        db.execute(
            update(User)
            .where(User.email == account.email)
            .values(password_hash=hash_password(account.password))
        )
        db.commit()


def test_an_administrator_signs_a_person_out_everywhere(base: str) -> None:
    person = demo_account("physician")
    admin = demo_account("admin")
    one = log_in(base, person.email, person.password)
    two = log_in(base, person.email, person.password)
    admin_cookie = log_in(base, admin.email, admin.password)
    users = call(base, "GET", "/admin/users", cookie=admin_cookie)
    row = next(r for r in users.body.split("<tr>") if person.email in r)
    target = re.search(r"/admin/users/\d+/sessions/end", row)
    assert target, "the physician's row has a Sign out everywhere button"
    ended = call(base, "POST", target.group(0), cookie=admin_cookie)
    assert ended.status == 303
    assert not _works(base, one) and not _works(base, two)
    assert _works(base, admin_cookie)


def test_an_idle_session_ends_on_the_server_whatever_the_cookie_says(
    base: str, sessions: sessionmaker[Session]
) -> None:
    account = demo_account("billing")
    cookie = log_in(base, account.email, account.password)
    with sessions() as db:
        db.execute(
            update(UserSession).values(
                last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
            )
        )
        db.commit()
    reply = call(base, "GET", "/cases/new", cookie=cookie)
    assert reply.status == 302 and "/login" in reply.location
    assert not _works(base, cookie)
    with sessions() as db:
        actions = db.scalars(select(AuditEvent.action)).all()
    assert "session.timeout" in actions


def test_a_session_ends_after_the_absolute_limit_however_active(
    base: str, sessions: sessionmaker[Session]
) -> None:
    account = demo_account("billing")
    cookie = log_in(base, account.email, account.password)
    with sessions() as db:
        db.execute(
            update(UserSession).values(
                created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=12, minutes=1)
            )
        )
        db.commit()
    assert not _works(base, cookie)
    with sessions() as db:
        actions = db.scalars(select(AuditEvent.action)).all()
    assert "session.expired" in actions


def test_a_live_session_is_not_written_on_every_request(
    base: str, sessions: sessionmaker[Session]
) -> None:
    account = demo_account("billing")
    cookie = log_in(base, account.email, account.password)
    with sessions() as db:
        before = db.scalars(select(UserSession.last_seen_at)).one()
    for _ in range(3):
        assert _works(base, cookie)
    with sessions() as db:
        assert db.scalars(select(UserSession.last_seen_at)).one() == before


@pytest.mark.parametrize("app_config", [{"PRIORAUTH_SESSION_MAX_HOURS": 1}])
def test_the_limits_are_settings(app: Flask) -> None:
    assert app.config["PRIORAUTH_SESSION_MAX_HOURS"] == 1
    assert app.config["PRIORAUTH_IDLE_MINUTES"] == 15
