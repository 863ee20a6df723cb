"""Fixtures for API tests: a token per demo role and one of another organization."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import OTHER, ROLES, ApiWorld
from flask import Flask
from sqlalchemy import select
from web_helpers import demo_account

from priorauth.store import tokens
from priorauth.store.db import make_engine, session_factory
from priorauth.store.models import Organization, User
from priorauth.store.passwords import hash_password


@pytest.fixture
def app_config() -> dict[str, Any]:
    # Far above what a test sends: the rate limit has a test of its own.
    return {"PRIORAUTH_API_REQUESTS_PER_MINUTE": 100_000}


@pytest.fixture
def api(app: Flask) -> Iterator[ApiWorld]:
    engine = make_engine(app.config["PRIORAUTH_DATABASE_URL"])
    world = ApiWorld(app=app, client=app.test_client(), sessions=session_factory(engine))
    with world.sessions() as session:
        for role in ROLES:
            user = session.scalars(select(User).where(User.email == demo_account(role).email)).one()
            world.users[role] = user.id
            world.demo_org = user.organization_id
            world.tokens[role] = tokens.create_token(
                session, user, f"{role} test", created_by_id=user.id
            ).secret_text
        other = Organization(name="Other Clinic (synthetic)")
        session.add(other)
        session.flush()
        other_billing = User(
            organization_id=other.id,
            email="billing@other.example",
            name="Other Billing",
            role="billing",
            password_hash=hash_password("other-clinic-pass"),
        )
        session.add(other_billing)
        session.flush()
        world.other_org = other.id
        world.users[OTHER] = other_billing.id
        world.tokens[OTHER] = tokens.create_token(
            session, other_billing, "other test", created_by_id=other_billing.id
        ).secret_text
        session.commit()
    yield world
    engine.dispose()
