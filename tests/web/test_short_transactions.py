"""A request that only reads takes no write lock, whatever its method (issue 16: every POST
took SQLite's write lock from its user lookup on, so a render held up even the readiness
check)."""

from __future__ import annotations

import sqlite3
import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import make_url
from web_helpers import cidp_formdata, log_in_demo


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
