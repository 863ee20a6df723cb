"""Fixtures for API tests: a token per demo role and one of another organization."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import another_valid_npi, build_case, demo_account

from priorauth.store import tokens
from priorauth.store.db import make_engine, session_factory
from priorauth.store.drafts import create_draft
from priorauth.store.models import CaseRecord, Organization, User
from priorauth.store.passwords import hash_password

ROLES = ("billing", "physician", "advocate", "admin")
OTHER = "other-billing"


@dataclass
class ApiWorld:
    """The app, a test client, a token per role, and builders of cases and drafts."""

    app: Flask
    client: FlaskClient
    sessions: sessionmaker[Session]
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    demo_org: int = 0
    other_org: int = 0

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def call(self, who: str, method: str, url: str, **kwargs: Any) -> Any:
        return self.client.open(url, method=method, headers=self.headers(who), **kwargs)

    def case(self, kind: str = "own", setup: str = "draft") -> CaseRecord:
        """A case: "own" (demo physician prescribes, advocate assigned), "unassigned", "other"."""
        with self.sessions() as session:
            if kind == "other":
                org, creator = self.other_org, session.get(User, self.users[OTHER])
                assign: tuple[int, ...] = ()
            else:
                org, creator = self.demo_org, session.get(User, self.users["billing"])
                assign = (self.users["advocate"],) if kind == "own" else ()
            record = build_case(
                session,
                organization_id=org,
                creator_id=creator.id,  # type: ignore[union-attr]
                signer=session.get(User, self.users["physician"]),
                setup=setup,
                prescriber_npi=another_valid_npi() if kind == "unassigned" else None,
                assign_ids=assign,
            )
            list(record.documents)
            session.expunge(record)
            return record

    def draft(self, kind: str = "own") -> int:
        with self.sessions() as session:
            org = self.other_org if kind == "other" else self.demo_org
            creator = self.users[OTHER] if kind == "other" else self.users["billing"]
            draft = create_draft(
                session,
                organization_id=org,
                user_id=creator,
                formdata=[("patient-first_name", "Jordan"), ("patient-last_name", "Sample")],
                steps_saved=["patient"],
            )
            session.commit()
            return draft.id


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
