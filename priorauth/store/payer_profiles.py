"""Payer profiles an organization's admin keeps in the app: each save a new numbered version.

The text saved is the profile's TOML exactly as the admin typed or uploaded it, once
the rules layer has checked it (``rules.loader.payer_from_text``); nothing here reads
TOML. The newest version of each profile is the one in effect for that organization.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import PayerProfileVersion, User

# What an admin may paste or upload as one profile (the largest shipped one is ~6 KB).
MAX_TOML_CHARS = 100_000
MAX_REASON_CHARS = 500


def newest_id(session: Session, organization_id: int) -> int:
    """The id of the organization's newest saved version of any profile (0: none).

    What the library in effect is cached by: a save anywhere in the organization
    changes it, so every worker sees an edit on its next request, without a restart.
    """
    found = session.scalar(
        select(func.max(PayerProfileVersion.id)).where(
            PayerProfileVersion.organization_id == organization_id
        )
    )
    return int(found or 0)


def in_effect(session: Session, organization_id: int) -> list[PayerProfileVersion]:
    """The newest version of each profile the organization edited."""
    newest = (
        select(
            PayerProfileVersion.profile_id,
            func.max(PayerProfileVersion.number).label("number"),
        )
        .where(PayerProfileVersion.organization_id == organization_id)
        .group_by(PayerProfileVersion.profile_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(PayerProfileVersion)
            .join(
                newest,
                (PayerProfileVersion.profile_id == newest.c.profile_id)
                & (PayerProfileVersion.number == newest.c.number),
            )
            .where(PayerProfileVersion.organization_id == organization_id)
            .order_by(PayerProfileVersion.profile_id)
        )
    )


def history(
    session: Session, organization_id: int, profile_id: str
) -> Sequence[tuple[PayerProfileVersion, str]]:
    """Every saved version of one profile, newest first, with who saved it."""
    rows = session.execute(
        select(PayerProfileVersion, User.name)
        .join(User, User.id == PayerProfileVersion.created_by_id)
        .where(
            PayerProfileVersion.organization_id == organization_id,
            PayerProfileVersion.profile_id == profile_id,
        )
        .order_by(PayerProfileVersion.number.desc())
    )
    return [(row, name) for row, name in rows]


def save(
    session: Session,
    *,
    organization_id: int,
    profile_id: str,
    toml_text: str,
    reason: str,
    user_id: int,
) -> PayerProfileVersion:
    """Add the next version of a profile (checked by the caller); flushed, not committed."""
    last = session.scalar(
        select(func.max(PayerProfileVersion.number)).where(
            PayerProfileVersion.organization_id == organization_id,
            PayerProfileVersion.profile_id == profile_id,
        )
    )
    version = PayerProfileVersion(
        organization_id=organization_id,
        profile_id=profile_id,
        number=int(last or 0) + 1,
        toml_text=toml_text,
        sha256=hashlib.sha256(toml_text.encode("utf-8")).hexdigest(),
        reason=reason,
        created_by_id=user_id,
    )
    session.add(version)
    session.flush()
    return version
