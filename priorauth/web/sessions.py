"""Who is logged in: the login manager, throttled password checks, the idle timeout.

Shared by the login pages (``auth``), signing (which asks for the password
again) and the permission checks every request goes through.
"""

from __future__ import annotations

import datetime as dt
import time
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user

from priorauth.store import throttle
from priorauth.store.models import Organization, User
from priorauth.store.passwords import hash_password, needs_rehash, verify_password
from priorauth.store.repository import find_user_by_email

from . import context

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Log in to continue."
login_manager.login_message_category = "info"
# Ties the session to the browser that logged in; a copied cookie is refused.
login_manager.session_protection = "strong"

# Shown whether or not the account exists: the count is kept for what was typed.
THROTTLED = (
    "Too many attempts that did not match. For the account's safety, wait 15 minutes "
    "and try again, or ask your administrator."
)
IDLE_LOGOUT = "You were logged out after {minutes} minutes without activity. Log in to continue."
LAST_SEEN_KEY = "_last_seen"


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

    Used by the login page and by signing (which asks for the password again).
    The attempt is added to the request's transaction; the caller commits.
    """
    db = context.db()
    if throttle.is_throttled(db, email=email, remote_addr=request.remote_addr, limits=_limits()):
        return Check.THROTTLED, None
    # The slow hash check holds no lock; then the count is read again and the
    # attempt recorded in one short write. Guesses made in parallel cannot pass
    # the limit unseen: past it, the answer is "throttled", right or wrong.
    row = find_user_by_email(db, email)
    ok = verify_password(row.password_hash if row else None, password)
    good = row is not None and ok and row.active
    context.begin_writing()
    if throttle.is_throttled(db, email=email, remote_addr=request.remote_addr, limits=_limits()):
        return Check.THROTTLED, None
    throttle.record_attempt(db, email=email, remote_addr=request.remote_addr, succeeded=good)
    if not good:
        return Check.WRONG, row
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


def enforce_idle_timeout() -> Any:
    """Log out a session idle for longer than PRIORAUTH_IDLE_MINUTES (HIPAA automatic logoff).

    The cookie's own expiry is not enough: a copied cookie would still work until
    it expires. The last request's time travels in the signed session and is
    checked on every request.
    """
    if request.endpoint in (None, "static") or not current_user.is_authenticated:
        return None
    minutes = int(current_app.config["PRIORAUTH_IDLE_MINUTES"])
    now = int(time.time())
    last_seen = session.get(LAST_SEEN_KEY)
    if isinstance(last_seen, int) and 0 <= now - last_seen <= minutes * 60:
        session[LAST_SEEN_KEY] = now
        return None
    context.audit("session.timeout", "ok")
    logout_user()
    session.clear()
    flash(IDLE_LOGOUT.format(minutes=minutes), "info")
    target = safe_next(request.full_path.rstrip("?")) if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target))
