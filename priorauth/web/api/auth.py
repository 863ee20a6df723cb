"""Who calls the API: a personal API token in ``Authorization: Bearer``, never a cookie.

The API takes no cookie in and sets none: ``without_cookies`` removes both for
every path under /api/ before Flask sees the request, so a browser's session
cannot act on the API (and so the API needs no CSRF token: a cross-site page
cannot make the browser add a bearer token). The token is checked by the login
manager's request loader, so the usual permission checks (``permissions``) see
the token's user as they see a logged-in one.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from typing import Any

from flask import Request, current_app, g, request

from priorauth.store import throttle, tokens
from priorauth.store.repository import Actor, record_event

from .. import context, sessions
from .errors import AUTH_RESULT_KEY

API_PATH = "/api/"
# Failed token checks, counted like failed passwords (store/throttle.py), per token
# prefix and per address.
FAILURE_LIMITS = throttle.Limits(
    account_failures=10, address_failures=30, window=dt.timedelta(minutes=15)
)


def is_api_path(path: str) -> bool:
    return path.startswith(API_PATH) or path == API_PATH.rstrip("/")


def without_cookies(wsgi_app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware: no Cookie reaches an API view, no Set-Cookie leaves one."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not is_api_path(environ.get("PATH_INFO", "")):
            return wsgi_app(environ, start_response)
        environ.pop("HTTP_COOKIE", None)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if k.lower() != "set-cookie"]
            return start_response(status, kept, exc_info)

        return wsgi_app(environ, start)

    return middleware


RATE_SETTING = "PRIORAUTH_API_REQUESTS_PER_MINUTE"
DEFAULT_REQUESTS_PER_MINUTE = 120


def _rate_limit() -> tokens.RateLimit:
    """Requests per token per minute: the app's setting, else the environment's, else 120."""
    configured = current_app.config.get(RATE_SETTING) or os.environ.get(RATE_SETTING, "")
    try:
        requests = int(configured) if configured else DEFAULT_REQUESTS_PER_MINUTE
    except ValueError:
        requests = DEFAULT_REQUESTS_PER_MINUTE
    return tokens.RateLimit(requests=max(1, requests), window=dt.timedelta(minutes=1))


def _bearer(req: Request) -> str | None:
    scheme, _, text = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not text.strip():
        return None
    return text.strip()


def load_from_bearer(req: Request) -> context.SessionUser | None:
    """The token's user for an API request (the login manager's request loader)."""
    if not is_api_path(req.path):
        return None
    text = _bearer(req)
    if text is None:
        g.setdefault(AUTH_RESULT_KEY, "missing")
        return None
    parsed = tokens.parse(text)
    key = f"api-token:{parsed[0] if parsed else 'malformed'}"
    address = req.remote_addr
    # Its own short transaction, before the request's session opens: on SQLite a
    # writing request holds the write lock from its first statement.
    with context.short_write() as db:
        if throttle.is_throttled(db, email=key, remote_addr=address, limits=FAILURE_LIMITS):
            g.setdefault(AUTH_RESULT_KEY, "throttled")
            return None
        result = tokens.authenticate(db, text, _rate_limit())
        if result.check is not tokens.Check.OK:
            if result.check is not tokens.Check.RATE_LIMITED:
                throttle.record_attempt(db, email=key, remote_addr=address, succeeded=False)
            record_event(
                db,
                Actor(result.user_id, result.organization_id, None, address),
                "api.authenticate",
                "refused",
                detail=f"{result.check.value} token {parsed[0] if parsed else 'malformed'}",
            )
            g.setdefault(AUTH_RESULT_KEY, result.check.value)
            return None
    user = sessions.load_user(str(result.user_id))
    if user is None:
        g.setdefault(AUTH_RESULT_KEY, "inactive")
        return None
    setattr(g, sessions.API_TOKEN_KEY, result.token_id)
    return user


def current_token_id() -> int | None:
    return g.get(sessions.API_TOKEN_KEY)


def is_api_request() -> bool:
    return is_api_path(request.path)
