"""A live server in a thread and a plain HTTP client with cookies and CSRF, for tests that
must go through real sockets (uploads, sessions, load), not Flask's test client."""

from __future__ import annotations

import datetime as dt
import html
import http.client
import io
import json
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask
from PIL import Image
from werkzeug.serving import make_server

from priorauth.web import create_app
from priorauth.web.intake import formdata_for_case

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TODAY = dt.date(2026, 11, 20)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def live_app(database_url: str, **overrides: Any) -> Flask:
    """The app as a clinic runs it (CSRF on), on the given database."""
    config: dict[str, Any] = {
        "SECRET_KEY": "live-http-tests-only-not-a-real-key",
        "PRIORAUTH_DATABASE_URL": database_url,
        "PRIORAUTH_TODAY": TODAY,
        "SESSION_COOKIE_SECURE": False,
    }
    config.update(overrides)
    return create_app(config)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and a free port, one thread per request; yield its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


@dataclass
class Client:
    """One person's browser, as far as HTTP goes: cookies, CSRF tokens, forms, files."""

    base_url: str
    timeout_s: float = 120.0
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Reply:
        parts = urlsplit(self.base_url)
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=self.timeout_s
        )
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body or None, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookie_value = rest.split(";", 1)[0]
                if cookie_value and "expires=thu, 01 jan 1970" not in value.lower():
                    self.cookies[name] = cookie_value
                else:
                    self.cookies.pop(name, None)
        return Reply(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            data,
            time.perf_counter() - started,
        )

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def csrf(self, path: str) -> str:
        page = self.get(path)
        match = _CSRF.search(page.text)
        assert match, f"no CSRF token on {path} ({page.status})"
        return html.unescape(match.group(1))

    def post(
        self, path: str, fields: Sequence[tuple[str, str]] | dict[str, str], token_from: str = ""
    ) -> Reply:
        items = list(fields.items()) if isinstance(fields, dict) else list(fields)
        items.append(("csrf_token", self.csrf(token_from or path)))
        return self.request(
            "POST",
            path,
            urlencode(items).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def upload(
        self,
        path: str,
        fields: dict[str, str],
        filename: str,
        content_type: str,
        data: bytes,
        token_from: str,
    ) -> Reply:
        boundary = f"----live-http-{uuid.uuid4().hex}"
        chunks: list[bytes] = []
        for name, value in [*fields.items(), ("csrf_token", self.csrf(token_from))]:
            chunks.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        chunks += [data, f"\r\n--{boundary}--\r\n".encode()]
        return self.request(
            "POST",
            path,
            b"".join(chunks),
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

    def log_in(self, email: str, password: str) -> None:
        reply = self.post("/login", {"email": email, "password": password})
        assert reply.status in (302, 303), (reply.status, reply.text[:500])

    def create_cidp_case(self) -> int:
        """Create the example CIDP case through the one-page form; its id."""
        data = json.loads((EXAMPLES / "cidp-initial-qualifies.json").read_text(encoding="utf-8"))
        formdata = formdata_for_case(data.get("case", data))
        path = "/cases/new/cidp"
        reply = self.post(path, list(formdata.items(multi=True)))
        match = re.fullmatch(r"/cases/(\d+)", urlsplit(reply.location).path)
        assert reply.status == 303 and match, (reply.status, reply.text[:800])
        return int(match.group(1))


def page_text(body: str) -> str:
    """The visible text of a page, tags removed and entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def noise_jpeg(target_bytes: int, seed: int = 7) -> bytes:
    """A photo-like JPEG (noise does not compress) of about ``target_bytes``."""
    rng = random.Random(seed)
    side = 400
    sample = io.BytesIO()
    Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3)).save(
        sample, "JPEG", quality=92
    )
    per_pixel = len(sample.getvalue()) / side**2
    side = int((target_bytes / per_pixel) ** 0.5)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3)).save(
        out, "JPEG", quality=92
    )
    return out.getvalue()
