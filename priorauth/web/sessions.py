"""Who is logged in: the login manager, throttled password checks, sessions that end.

Shared by the login pages (``auth``), signing (which asks for the password
again) and the permission checks every request goes through.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy.orm import Session

from priorauth.store import accounts, throttle
from priorauth.store.models import Organization, User
from priorauth.store.passwords import hash_password, needs_rehash, verify_password

from . import context

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Log in to continue."
login_manager.login_message_category = "info"
# Flask-Login's "strong" protection does nothing for permanent sessions; a copied
# cookie is refused by the server-side session row instead (enforce_session).
login_manager.session_protection = "strong"

# Shown whether or not the account exists: the count is kept for what was typed.
THROTTLED = (
    "Too many attempts that did not match. For the account's safety, wait 15 minutes "
    "and try again, or ask your administrator."
)
IDLE_LOGOUT = "You were logged out after {minutes} minutes without activity. Log in to continue."
SESSION_EXPIRED = "You were logged out: a session lasts at most {hours} hours. Log in to continue."
SESSION_ENDED = (
    "Your session has ended: you logged out, your password was changed, or an administrator "
    "signed you out. Log in to continue."
)
LAST_SEEN_KEY = "_last_seen"
# The session's random token; the server keeps its hash (store.accounts.UserSession).
TOKEN_KEY = "_sid"
# Set on ``g`` when the request was authenticated by a personal API token (web/api):
# such a request has no session, so there is no idle time to check.
API_TOKEN_KEY = "priorauth_api_token_id"


class Check(Enum):
    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"


def _limits() -> throttle.Limits:
    config = current_app.config
    return throttle.Limits(
        account_failures=int(config["PRIORAUTH_LOGIN_MAX_FAILURES_ACCOUNT"]),
        address_failures=int(config["PRIORAUTH_LOGIN_MAX_FAILURES_ADDRESS"]),
        window=dt.timedelta(minutes=int(config["PRIORAUTH_LOGIN_WINDOW_MINUTES"])),
    )


def check_password(email: str, password: str) -> tuple[Check, User | None]:
    """Check a password against the account, counting the attempt for throttling.

    Used by the login page and, for the logged-in person's own account only,
    by signing and the password change. An address may have an account in
    several organizations: logging in tries each, and the password decides.
    The attempt is added to the request's transaction; the caller commits.
    """
    db = context.db()
    if throttle.is_throttled(db, email=email, remote_addr=request.remote_addr, limits=_limits()):
        return Check.THROTTLED, None
    # The slow hash check holds no lock; then the count is read again and the
    # attempt recorded in one short write. Guesses made in parallel cannot pass
    # the limit unseen: past it, the answer is "throttled", right or wrong.
    if current_user.is_authenticated:
        mine = db.get(User, current_user.id)
        candidates = [mine] if mine is not None else []
    else:
        candidates = accounts.users_with_email(db, email)
    row = next((c for c in candidates if verify_password(c.password_hash, password)), None)
    if not candidates:
        verify_password(None, password)  # as long as for a known address
    good = row is not None and row.active
    context.begin_writing()
    throttle.serialize(db, email=email)
    if throttle.is_throttled(db, email=email, remote_addr=request.remote_addr, limits=_limits()):
        return Check.THROTTLED, None
    throttle.record_attempt(db, email=email, remote_addr=request.remote_addr, succeeded=good)
    if not good:
        # A refusal is put down to the account when the address names only one.
        return Check.WRONG, row or (candidates[0] if len(candidates) == 1 else None)
    assert row is not None
    if needs_rehash(row.password_hash):
        row.password_hash = hash_password(password)
    return Check.OK, row


@login_manager.user_loader
def load_user(user_id: str) -> context.SessionUser | None:
    if not user_id.isdigit():
        return None
    row = context.db().get(User, int(user_id))
    if row is None or not row.active:
        return None
    organization = context.db().get(Organization, row.organization_id)
    return context.SessionUser(
        id=row.id,
        name=row.name,
        email=row.email,
        role=row.role,
        organization_id=row.organization_id,
        organization_name=organization.name if organization else "",
        credentials=row.credentials,
        npi=row.npi,
    )


def safe_next(target: str | None) -> str | None:
    """A same-site path to go back to after login, or None (no open redirect)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def session_limits() -> accounts.SessionLimits:
    config = current_app.config
    return accounts.SessionLimits(
        idle=dt.timedelta(minutes=int(config["PRIORAUTH_IDLE_MINUTES"])),
        absolute=dt.timedelta(hours=float(config["PRIORAUTH_SESSION_MAX_HOURS"])),
    )


def _write(change: Callable[[Session], object]) -> None:
    """Make a small change in a transaction of its own, committed now.

    A writing request already holds SQLite's write lock through its own session,
    so it uses that one; a reading request opens a short writer.
    """
    if context.writing():
        db = context.db()
        change(db)
        db.commit()
        return
    with context.short_write() as db:
        change(db)


def begin(who: context.SessionUser) -> None:
    """Log a person in: a fresh cookie and a new session row (the caller commits)."""
    # Nothing from before (a planted CSRF token) survives a login.
    session.clear()
    login_user(who)
    session.permanent = True
    session[TOKEN_KEY] = accounts.start_session(context.db(), who.id, session_limits())
    session[LAST_SEEN_KEY] = int(time.time())


def end_here(reason: str) -> None:
    """End this browser's session row, then its cookie (the caller commits the row)."""
    token = session.get(TOKEN_KEY)
    if isinstance(token, str):
        accounts.end_session(context.db(), token, reason)
    logout_user()
    session.clear()


def enforce_session() -> Any:
    """End a session that was ended elsewhere, or idle or older than its limits.

    The signed cookie alone cannot be taken back: a copy would work until it
    expires. So the cookie carries a token whose row the server checks on every
    request (logout, a password change and "sign out everywhere" end the row),
    and the idle limit (HIPAA automatic logoff, PRIORAUTH_IDLE_MINUTES) and the
    absolute limit (PRIORAUTH_SESSION_MAX_HOURS) are kept on that row.
    """
    if request.endpoint in (None, "static") or not current_user.is_authenticated:
        return None
    if g.get(API_TOKEN_KEY) is not None:
        return None
    limits = session_limits()
    now = int(time.time())
    last_seen = session.get(LAST_SEEN_KEY)
    cookie_fresh = (
        isinstance(last_seen, int) and 0 <= now - last_seen <= limits.idle.total_seconds()
    )
    token = session.get(TOKEN_KEY)
    state, row = accounts.SessionState.UNKNOWN, None
    if isinstance(token, str):
        state, row = accounts.check_session(context.db(), token, current_user.id, limits)
    if state is accounts.SessionState.LIVE and cookie_fresh:
        session[LAST_SEEN_KEY] = now
        if row is not None and accounts.needs_touch(row, limits):
            _write(lambda db: accounts.touch_session(db, str(token)))
        return None

    if state is accounts.SessionState.EXPIRED:
        context.audit("session.expired", "ok")
        message = SESSION_EXPIRED.format(hours=plain_hours(limits.absolute))
    elif state in (accounts.SessionState.LIVE, accounts.SessionState.IDLE):
        context.audit("session.timeout", "ok")
        message = IDLE_LOGOUT.format(minutes=int(limits.idle.total_seconds() // 60))
    else:
        context.audit("session.ended", "refused", detail=state.value)
        message = SESSION_ENDED
    if row is not None and row.ended_at is None:
        _write(lambda db: accounts.end_session(db, str(token), "timeout"))
    logout_user()
    session.clear()
    flash(message, "info")
    target = safe_next(request.full_path.rstrip("?")) if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target))


def plain_hours(span: dt.timedelta) -> str:
    hours = span.total_seconds() / 3600
    return str(int(hours)) if hours == int(hours) else f"{hours:g}"
