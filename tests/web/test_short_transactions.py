"""A request that only reads takes no write lock, whatever its method (issue 16: every POST
took SQLite's write lock from its user lookup on, so a render held up even the readiness
check)."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from live_http import Client, live_app, serving
from sqlalchemy import make_url, update
from web_helpers import cidp_formdata, create_case, log_in_demo, page_text

from priorauth.store.db import make_engine
from priorauth.store.models import CaseRecord
from priorauth.store.seed import DEMO_ACCOUNTS
from priorauth.web import letters


def test_a_post_that_only_reads_does_not_wait_for_the_write_lock(
    client: FlaskClient, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    log_in_demo(client)
    holder = sqlite3.connect(str(make_url(database_url).database), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another request in the middle of a write
        started = time.perf_counter()
        response = client.post("/intake/cidp/readiness", data=cidp_formdata())
        took_s = time.perf_counter() - started
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert response.status_code == 200
    # The busy timeout is 10 s: a POST that took the lock would have waited it out.
    assert took_s < 5, took_s


def test_a_letter_is_not_kept_when_the_case_changed_while_it_rendered(
    client: FlaskClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_in_demo(client)
    case_id = create_case(client)
    real_render = getattr(letters, "render_letter")  # noqa: B009 - not re-exported

    def render_while_someone_edits(*args: Any, **kwargs: Any) -> Any:
        # Another person saves the case while the letter renders (outside any transaction).
        engine = make_engine(database_url)
        with engine.begin() as connection:
            connection.execute(
                update(CaseRecord)
                .where(CaseRecord.id == case_id)
                .values(content_version=CaseRecord.content_version + 1)
            )
        engine.dispose()
        return real_render(*args, **kwargs)

    monkeypatch.setattr(letters, "render_letter", render_while_someone_edits)
    response = client.post(f"/cases/{case_id}/letter.pdf")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cases/{case_id}"
    page = client.get(f"/cases/{case_id}")
    assert "changed while this document was being prepared" in page_text(page.text)
    assert f"/cases/{case_id}/documents/" not in page.text


def test_parallel_wrong_guesses_cannot_pass_the_limit(database_url: str) -> None:
    """The hash check runs with no lock held, yet the count stays exact (over real HTTP)."""
    app = live_app(database_url)
    account = next(a for a in DEMO_ACCOUNTS if a.role == "advocate")
    statuses: list[int] = []
    with serving(app) as base_url:
        clients = [Client(base_url) for _ in range(12)]
        tokens = [c.csrf("/login") for c in clients]
        barrier = threading.Barrier(len(clients))

        def guess(client: Client, token: str) -> None:
            body = urlencode(
                {"email": account.email, "password": "wrong-guess-123", "csrf_token": token}
            )
            barrier.wait()
            reply = client.request(
                "POST",
                "/login",
                body.encode(),
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            statuses.append(reply.status)

        threads = [
            threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        right = Client(base_url)
        last = right.post("/login", {"email": account.email, "password": account.password})
    app.extensions["priorauth"].engine.dispose()
    limit = app.config["PRIORAUTH_LOGIN_MAX_FAILURES_ACCOUNT"]
    assert sorted(set(statuses)) <= [401, 429], statuses
    assert statuses.count(401) == limit, statuses
    assert last.status == 429  # throttled now, even with the right password
