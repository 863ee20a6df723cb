"""A live server in a thread and a tiny HTTP client that copies cookies by hand.

Sessions are about what a server does with a cookie that travels on its own, so
these tests speak real HTTP (http.client) to a real server socket (werkzeug's
``make_server``), not through Flask's test client.
"""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from flask import Flask
from werkzeug.serving import make_server

COOKIE = "priorauth_session"


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and a free port; yield its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="priorauth-live-http")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@dataclass(frozen=True)
class Reply:
    status: int
    location: str
    cookie: str | None  # the session cookie's new value, when the server set one
    headers: dict[str, str]
    body: str


def call(
    base: str,
    method: str,
    path: str,
    *,
    cookie: str | None = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request, redirects not followed; ``cookie`` is the session cookie's value."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    sent = dict(headers or {})
    body = None
    if cookie is not None:
        sent["Cookie"] = f"{COOKIE}={cookie}"
    if form is not None:
        body = urlencode(form)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        new_cookie = None
        for header in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            if COOKIE in jar:
                new_cookie = jar[COOKIE].value
        return Reply(
            response.status,
            response.headers.get("Location", ""),
            new_cookie,
            {k: v for k, v in response.getheaders()},
            text,
        )
    finally:
        connection.close()


def csrf_token(body: str) -> str:
    """The CSRF token a page's forms carry."""
    marker = 'name="csrf_token" value="'
    return body.split(marker, 1)[1].split('"', 1)[0] if marker in body else ""


def log_in(base: str, email: str, password: str) -> str:
    """Log in as a browser does (the login page's CSRF token first); return the cookie."""
    page = call(base, "GET", "/login")
    form = {"email": email, "password": password, "csrf_token": csrf_token(page.body)}
    reply = call(base, "POST", "/login", cookie=page.cookie, form=form)
    assert reply.status == 302, reply.body[:500]
    assert reply.cookie
    return reply.cookie


def post_form(base: str, path: str, cookie: str, form: dict[str, str] | None = None) -> Reply:
    """POST as a browser does, with the CSRF token of the session's home page."""
    page = call(base, "GET", "/", cookie=cookie)
    # The token lives in the session: send the cookie the page came with.
    return call(
        base,
        "POST",
        path,
        cookie=page.cookie or cookie,
        form={**(form or {}), "csrf_token": csrf_token(page.body)},
    )
