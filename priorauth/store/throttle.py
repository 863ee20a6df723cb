"""Password attempts, counted in the database so every worker process sees the same count.

An in-memory limiter lives in one gunicorn worker: N workers would allow N
times the limit (reference/perf-security.md §2.2). Failures are counted per
account (the email typed, hashed) and per remote address over a sliding
window; a success clears the account's count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from .models import LoginAttempt, utcnow

# Attempts older than this are deleted as new ones are written.
KEEP_FOR = dt.timedelta(days=1)


@dataclass(frozen=True)
class Limits:
    account_failures: int = 5
    address_failures: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)


def account_key(email: str) -> str:
    """The key an account's attempts are counted under: no address is stored."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def serialize(session: Session, *, email: str) -> None:
    """Make the count-then-record of one account's attempts one at a time.

    On SQLite the write transaction already is (BEGIN IMMEDIATE takes the database's
    one write lock); on PostgreSQL two transactions could both read the same count
    and both record, so a transaction-scoped advisory lock keyed by the account
    serializes them. It is released at commit or rollback.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.sha256(account_key(email).encode()).digest()[:8], "big", signed=True
        )
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def is_throttled(session: Session, *, email: str, remote_addr: str | None, limits: Limits) -> bool:
    """Whether this account or this address has failed too often lately."""
    now = utcnow()
    since = now - limits.window
    key = account_key(email)
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.account_key == key, LoginAttempt.succeeded.is_(True)
        )
    )
    account_since = max(since, last_success) if last_success else since
    account_failures = session.scalar(
        select(func.count()).where(
            LoginAttempt.account_key == key,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > account_since,
        )
    )
    if (account_failures or 0) >= limits.account_failures:
        return True
    address_failures = session.scalar(
        select(func.count()).where(
            LoginAttempt.remote_addr == (remote_addr or ""),
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > since,
        )
    )
    return (address_failures or 0) >= limits.address_failures


def record_attempt(
    session: Session, *, email: str, remote_addr: str | None, succeeded: bool
) -> None:
    """Count one attempt (committed with the caller's transaction); drop old ones."""
    now = utcnow()
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_FOR))
    session.add(
        LoginAttempt(
            at=now,
            account_key=account_key(email),
            remote_addr=remote_addr or "",
            succeeded=succeeded,
        )
    )
    session.flush()
