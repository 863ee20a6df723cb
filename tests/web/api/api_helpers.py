"""What API tests share: a token per demo role and one of another organization."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import another_valid_npi, build_case

from priorauth.store.drafts import create_draft
from priorauth.store.models import CaseRecord, User

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
