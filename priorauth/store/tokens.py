"""Personal API tokens: made, listed, revoked, and checked on every API request.

A token reads ``pa_<prefix>_<secret>``. The prefix is public and finds the row;
only the SHA-256 of the secret is stored, so the token is shown once, when it is
made, and a copy of the database does not hold a usable one. The secret has 256
random bits: a plain SHA-256 suffices (a slow password hash protects guessable
secrets; this one is not guessable).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum
from typing import cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from .models import ApiToken, User, utcnow

TOKEN_MARK = "pa"
PREFIX_BYTES = 6  # 12 hex characters: enough to find the row, nothing secret
SECRET_BYTES = 32
MAX_NAME_CHARS = 100
# A token's text is at most this long; anything longer is refused before it is parsed.
MAX_TOKEN_CHARS = 120
MAX_LIFETIME_DAYS = 366


class TokenError(Exception):
    """A request about a token that cannot be met; the message names what is wrong."""


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret_text`` is the only time the whole token exists."""

    token: ApiToken
    secret_text: str


class Check(Enum):
    OK = "ok"
    UNKNOWN = "unknown"  # malformed, no such prefix, or the secret does not match
    REVOKED = "revoked"
    EXPIRED = "expired"
    INACTIVE = "inactive"  # the account was switched off
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class RateLimit:
    requests: int = 120
    window: dt.timedelta = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Authenticated:
    check: Check
    token_id: int | None = None
    user_id: int | None = None
    organization_id: int | None = None


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    """The token's label as typed, trimmed; TokenError when it is empty or too long."""
    label = name.strip()
    if not label:
        raise TokenError("Give the token a name that says where it is used.")
    if len(label) > MAX_NAME_CHARS:
        raise TokenError(f"Shorten the name to {MAX_NAME_CHARS} characters.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in label):
        raise TokenError("The name contains control characters; type it again.")
    return label


def create_token(
    session: Session,
    user: User,
    name: str,
    *,
    created_by_id: int | None,
    lifetime_days: int | None = None,
) -> NewToken:
    """Make a token for ``user`` (added to the session; the caller commits)."""
    label = check_name(name)
    if not user.active:
        raise TokenError("This account is switched off; it cannot have a token.")
    expires_at = None
    if lifetime_days is not None:
        if not 1 <= lifetime_days <= MAX_LIFETIME_DAYS:
            raise TokenError(f"A token lasts from 1 to {MAX_LIFETIME_DAYS} days.")
        expires_at = utcnow() + dt.timedelta(days=lifetime_days)
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    token = ApiToken(
        organization_id=user.organization_id,
        user_id=user.id,
        name=label,
        prefix=prefix,
        secret_sha256=secret_hash(secret),
        created_by_id=created_by_id,
        expires_at=expires_at,
        window_requests=0,
    )
    session.add(token)
    session.flush()
    return NewToken(token=token, secret_text=f"{TOKEN_MARK}_{prefix}_{secret}")


def list_tokens(
    session: Session, organization_id: int, *, user_id: int | None = None
) -> list[ApiToken]:
    """The organization's tokens (one person's when ``user_id`` is given), newest first."""
    query = select(ApiToken).where(ApiToken.organization_id == organization_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query.order_by(ApiToken.id.desc())))


def get_token(session: Session, organization_id: int, token_id: int) -> ApiToken | None:
    """One token, only if it belongs to the organization (None otherwise, like absent)."""
    return session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.organization_id == organization_id)
    )


def revoke_token(session: Session, token: ApiToken, *, revoked_by_id: int | None) -> bool:
    """Revoke a token; False when it was revoked already (nothing changes then)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    token.revoked_by_id = revoked_by_id
    session.flush()
    return True


def token_state(token: ApiToken, now: dt.datetime | None = None) -> str:
    """ "active", "revoked" or "expired", as the token pages show it."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def parse(text: str) -> tuple[str, str] | None:
    """The (prefix, secret) of a token's text, or None when it is not shaped like one."""
    if len(text) > MAX_TOKEN_CHARS:
        return None
    parts = text.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_MARK:
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) != PREFIX_BYTES * 2 or not all(c in "0123456789abcdef" for c in prefix):
        return None
    return (prefix, secret) if secret else None


def _count_request(session: Session, token: ApiToken, limit: RateLimit, now: dt.datetime) -> bool:
    """Count one request in the token's window; False when the window is full.

    Two conditional UPDATEs, each atomic on SQLite and PostgreSQL: start a new
    window when the last one is over, else add one while under the limit.
    """
    table = cast(Table, ApiToken.__table__)
    started = session.execute(
        update(table)
        .where(
            table.c.id == token.id,
            or_(
                table.c.window_started_at.is_(None),
                table.c.window_started_at <= now - limit.window,
            ),
        )
        .values(window_started_at=now, window_requests=1, last_used_at=now)
    )
    if started.rowcount:  # type: ignore[attr-defined]
        return True
    counted = session.execute(
        update(table)
        .where(table.c.id == token.id, table.c.window_requests < limit.requests)
        .values(window_requests=table.c.window_requests + 1, last_used_at=now)
    )
    return bool(counted.rowcount)  # type: ignore[attr-defined]


def authenticate(session: Session, text: str, limit: RateLimit) -> Authenticated:
    """Check a token's text and count the request against its rate limit.

    The caller commits (the count) whatever the answer.
    """
    parsed = parse(text)
    if parsed is None:
        return Authenticated(Check.UNKNOWN)
    prefix, secret = parsed
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    # Compared in constant time, and computed even for an unknown prefix.
    stored = token.secret_sha256 if token is not None else "0" * 64
    if not hmac.compare_digest(stored, secret_hash(secret)) or token is None:
        return Authenticated(Check.UNKNOWN)
    ids = {"token_id": token.id, "user_id": token.user_id, "organization_id": token.organization_id}
    now = utcnow()
    state = token_state(token, now)
    if state == "revoked":
        return Authenticated(Check.REVOKED, **ids)
    if state == "expired":
        return Authenticated(Check.EXPIRED, **ids)
    user = session.get(User, token.user_id)
    if user is None or not user.active or user.organization_id != token.organization_id:
        return Authenticated(Check.INACTIVE, **ids)
    if not _count_request(session, token, limit, now):
        return Authenticated(Check.RATE_LIMITED, **ids)
    return Authenticated(Check.OK, **ids)
