"""Weak passwords are refused at account creation and at a password change; hashes
made with older parameters are redone at the next login.
"""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher, Type
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import demo_account, log_in, log_in_demo, page_text

from priorauth.store import passwords
from priorauth.store.accounts import account_words, password_problem
from priorauth.store.models import User

WEAK = {
    "twelve spaces": " " * 12,
    "one letter twelve times": "a" * 12,
    "a common password": "password1234",
    "a demo password": demo_account("billing").password,
}


def _account(password: str) -> dict[str, str]:
    return {
        "name": "Casey Newhire",
        "email": "casey@demo.example",
        "role": "billing",
        "credentials": "",
        "npi": "",
        "password": password,
    }


@pytest.mark.parametrize("password", WEAK.values(), ids=WEAK.keys())
def test_a_weak_password_is_refused_at_account_creation(
    app: Flask, sessions: sessionmaker[Session], password: str
) -> None:
    admin = app.test_client()
    log_in_demo(admin, "admin")
    response = admin.post("/admin/users/new", data=_account(password))
    assert response.status_code == 422
    text = page_text(response.text)
    assert any(
        words in text for words in ("too easy to guess", "only spaces", "demo account's password")
    ), text
    assert 'value="casey@demo.example"' in response.text  # what was typed is kept
    with sessions() as db:
        assert db.scalar(select(User).where(User.email == "casey@demo.example")) is None


@pytest.mark.parametrize("password", WEAK.values(), ids=WEAK.keys())
def test_a_weak_password_is_refused_at_a_password_change(
    app: Flask, sessions: sessionmaker[Session], password: str
) -> None:
    account = demo_account("advocate")
    client = app.test_client()
    log_in(client, account.email, account.password)
    with sessions() as db:
        before = db.scalar(select(User.password_hash).where(User.email == account.email))
    response = client.post(
        "/account/password",
        data={"current": account.password, "new": password, "again": password},
    )
    assert response.status_code == 422
    text = page_text(response.text)
    assert any(
        words in text
        for words in (
            "too easy to guess",
            "only spaces",
            "demo account's password",
            "the one you have now",
        )
    ), text
    with sessions() as db:
        after = db.scalar(select(User.password_hash).where(User.email == account.email))
    assert after == before


def test_a_password_change_needs_the_current_password(app: Flask) -> None:
    account = demo_account("advocate")
    client = app.test_client()
    log_in(client, account.email, account.password)
    new = "violet-anchor-river-tundra-42"
    response = client.post(
        "/account/password", data={"current": "not my password", "new": new, "again": new}
    )
    assert response.status_code == 422
    assert "not your current password" in page_text(response.text)


@pytest.mark.parametrize("password", WEAK.values(), ids=WEAK.keys())
def test_the_cli_refuses_a_weak_password(
    database_url: str, monkeypatch: Any, capsys: Any, password: str
) -> None:
    import io

    from priorauth.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    status = main(
        [
            "users",
            "create",
            "--database-url",
            database_url,
            "--organization",
            "Demo Clinic (synthetic data only)",
            "--email",
            "casey@demo.example",
            "--name",
            "Casey Newhire",
            "--role",
            "billing",
            "--password-stdin",
        ]
    )
    assert status != 0
    assert "password:" in capsys.readouterr().err


def test_a_strong_password_passes_and_names_are_used_against_it() -> None:
    assert password_problem("violet-anchor-river-tundra-42") == ""
    words = account_words("casey@demo.example", "Casey Newhire")
    assert password_problem("caseynewhire1", user_inputs=words)


def test_a_hash_made_with_older_parameters_is_redone_at_login(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    account = demo_account("billing")
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    with sessions() as db:
        user = db.scalars(select(User).where(User.email == account.email)).one()
        user.password_hash = weaker.hash(account.password)
        db.commit()
    log_in_demo(app.test_client(), "billing")
    with sessions() as db:
        stored = db.scalar(select(User.password_hash).where(User.email == account.email))
    assert stored is not None
    assert not passwords.needs_rehash(stored)
    assert "m=65536,t=3,p=4" in stored
    assert passwords.verify_password(stored, account.password)
