"""Accounts: create one (the CLI and the administrator's page); their login sessions."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from priorauth.domain.identifiers import BIDI_MESSAGE, has_bidi_controls

from .models import Organization, Role, User, UserSession, utcnow
from .passwords import hash_password, verify_password, weakness
from .seed import DEMO_ACCOUNTS

# NIST SP 800-63B asks for at least 8 characters and recommends longer; a clinic
# account that can read patient data gets 12. No composition rules (800-63B).
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(Exception):
    """An account cannot be created as asked; one message per problem, for a person."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class NewAccount:
    email: str
    name: str
    role: str
    password: str
    credentials: str = ""
    npi: str | None = None


def users_with_email(session: Session, email: str) -> list[User]:
    """Every account with this address, in any organization (at most one in each)."""
    query = select(User).where(User.email == email.strip().lower()).order_by(User.id)
    return list(session.scalars(query))


def check_new_account(
    session: Session, organization_id: int, account: NewAccount
) -> dict[str, str]:
    """What is wrong with a new account, by field (empty when nothing is).

    An address is unique within the organization only: whether another
    organization has it is never told. The NPI's check digit is the caller's to
    verify (the domain layer owns it).
    """
    problems: dict[str, str] = {}
    email = account.email.strip().lower()
    same_address = users_with_email(session, email) if _EMAIL.match(email) else []
    if not _EMAIL.match(email) or len(email) > 254:
        problems["email"] = "Enter an email address like name@clinic.example."
    elif any(user.organization_id == organization_id for user in same_address):
        problems["email"] = "An account with this email already exists in your organization."
    if not account.name.strip() or len(account.name) > 200:
        problems["name"] = "Enter the person's full name (up to 200 characters)."
    for field, value in (
        ("email", email),
        ("name", account.name),
        ("credentials", account.credentials),
    ):
        if has_bidi_controls(value):
            problems[field] = BIDI_MESSAGE
    if account.role not in {r.value for r in Role}:
        problems["role"] = "Choose one of: " + ", ".join(r.value for r in Role) + "."
    password = password_problem(account.password, user_inputs=account_words(email, account.name))
    if password:
        problems["password"] = password
    elif any(verify_password(user.password_hash, account.password) for user in same_address):
        # Logging in tries each account with the address: one password, one account.
        # Only whoever knows the other account's password learns anything here.
        problems["password"] = "Choose another password."
    if len(account.credentials) > 40:
        problems["credentials"] = "Up to 40 characters, e.g. MD or DO."
    if account.role == Role.PHYSICIAN.value:
        if not account.npi:
            problems["npi"] = "A physician's account needs their NPI: it is how they sign."
        if not account.credentials.strip():
            problems["credentials"] = "A physician's account needs credentials, e.g. MD."
    return problems


# The demo accounts' passwords are printed by `make run` and in the README: public.
DEMO_PASSWORDS = frozenset(account.password for account in DEMO_ACCOUNTS)
DEMO_PASSWORD = "This is a demo account's password, which is public. Choose another."


def account_words(*texts: str) -> tuple[str, ...]:
    """The words of an account a guesser tries first: the texts, their parts, joined up."""
    words: list[str] = []
    for text in texts:
        parts = [p for p in re.split(r"[\s@._+-]+", text.lower()) if p]
        words += [text.lower(), "".join(parts), *parts]
    return tuple(dict.fromkeys(w for w in words if w))


def password_problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str:
    """What is wrong with a new password (account creation, password change), or ''."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"Use at least {MIN_PASSWORD_CHARS} characters."
    if len(password) > MAX_PASSWORD_CHARS:
        return f"Use at most {MAX_PASSWORD_CHARS} characters."
    if not password.strip():
        return "A password cannot be only spaces."
    if password in DEMO_PASSWORDS:
        return DEMO_PASSWORD
    return weakness(password, user_inputs=user_inputs)


def set_password(session: Session, user: User, password: str) -> None:
    """Give an account a new password and end all its sessions (flushed, not committed).

    The caller checks it with ``password_problem`` first and starts a new
    session for the browser that changed it.
    """
    user.password_hash = hash_password(password)
    end_user_sessions(session, user.id, "password")
    session.flush()


def create_user(session: Session, organization_id: int, account: NewAccount) -> User:
    """Create an active account (flushed, not committed); AccountError when it cannot be."""
    problems = check_new_account(session, organization_id, account)
    if problems:
        raise AccountError(problems)
    user = User(
        organization_id=organization_id,
        email=account.email.strip().lower(),
        name=account.name.strip(),
        role=account.role,
        password_hash=hash_password(account.password),
        credentials=account.credentials.strip(),
        npi=account.npi or None,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def find_or_create_organization(session: Session, name: str) -> tuple[Organization, bool]:
    """The organization of that name, made if missing; True when it was made."""
    name = name.strip()
    found = session.scalar(select(Organization).where(Organization.name == name))
    if found is not None:
        return found, False
    organization = Organization(name=name)
    session.add(organization)
    session.flush()
    return organization, True


# --- login sessions: a row per login, so that ending it ends every copy of the cookie ----


class SessionState(Enum):
    LIVE = "live"
    ENDED = "ended"  # logged out, password changed, signed out by an administrator
    IDLE = "idle"
    EXPIRED = "expired"  # older than the absolute limit, however active
    UNKNOWN = "unknown"  # no such row, or another user's


@dataclass(frozen=True)
class SessionLimits:
    idle: dt.timedelta
    absolute: dt.timedelta
    # A live session's last use is written at most this often: a write per
    # request would take the database's write lock on every page view.
    touch_every: dt.timedelta = dt.timedelta(seconds=60)


# Ended and stale rows are deleted this long after, as new logins are written.
KEEP_ENDED_SESSIONS = dt.timedelta(days=7)


def session_key(token: str) -> str:
    """The row id of a session token: the database never holds a usable token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user_id: int, limits: SessionLimits) -> str:
    """Record a new login (flushed, not committed) and return the token for the cookie."""
    now = utcnow()
    stale = now - limits.absolute - KEEP_ENDED_SESSIONS
    session.execute(
        delete(UserSession).where(
            or_(UserSession.ended_at < now - KEEP_ENDED_SESSIONS, UserSession.created_at < stale)
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(id=session_key(token), user_id=user_id, created_at=now, last_seen_at=now)
    )
    session.flush()
    return token


def check_session(
    session: Session, token: str, user_id: int, limits: SessionLimits
) -> tuple[SessionState, UserSession | None]:
    """Whether the login behind a cookie is still live, and its row."""
    row = session.get(UserSession, session_key(token))
    if row is None or row.user_id != user_id:
        return SessionState.UNKNOWN, None
    now = utcnow()
    if row.ended_at is not None:
        return SessionState.ENDED, row
    if now - row.created_at > limits.absolute:
        return SessionState.EXPIRED, row
    if now - row.last_seen_at > limits.idle:
        return SessionState.IDLE, row
    return SessionState.LIVE, row


def needs_touch(row: UserSession, limits: SessionLimits) -> bool:
    return utcnow() - row.last_seen_at >= limits.touch_every


def touch_session(session: Session, token: str) -> None:
    """Write a live session's last use (flushed, not committed)."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_key(token), UserSession.ended_at.is_(None))
        .values(last_seen_at=utcnow())
    )


def end_session(session: Session, token: str, reason: str) -> None:
    """End one login (flushed, not committed): every copy of its cookie stops working."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_key(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )


def end_user_sessions(session: Session, user_id: int, reason: str) -> int:
    """End every login of one person (flushed, not committed); how many were live."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)
