"""Fixtures for web tests: a logged-in client and a second organization."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import log_in_demo

from priorauth.store.db import make_engine, session_factory
from priorauth.store.models import Organization, User
from priorauth.store.passwords import hash_password


@pytest.fixture
def sessions(app: Flask) -> Iterator[sessionmaker[Session]]:
    """Sessions on the app's database, for looking at what a request stored."""
    engine = make_engine(app.config["PRIORAUTH_DATABASE_URL"])
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def logged_in(client: FlaskClient) -> FlaskClient:
    log_in_demo(client, "billing")
    return client


@pytest.fixture
def other_clinic(app: Flask) -> Callable[[], tuple[str, str]]:
    """Make a second organization with one billing account; return its credentials."""

    def make() -> tuple[str, str]:
        engine = make_engine(app.config["PRIORAUTH_DATABASE_URL"])
        try:
            with session_factory(engine)() as session:
                organization = Organization(name="Other Clinic (synthetic)")
                session.add(organization)
                session.flush()
                session.add(
                    User(
                        organization_id=organization.id,
                        email="billing@other.example",
                        name="Other Billing",
                        role="billing",
                        password_hash=hash_password("other-clinic-pass"),
                    )
                )
                session.commit()
        finally:
            engine.dispose()
        return "billing@other.example", "other-clinic-pass"

    return make
