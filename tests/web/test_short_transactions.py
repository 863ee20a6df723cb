"""A request that only reads takes no write lock, whatever its method (issue 16: every POST
took SQLite's write lock from its user lookup on, so a render held up even the readiness
check)."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import make_url, update
from web_helpers import cidp_formdata, create_case, log_in_demo, page_text

from priorauth.store.db import make_engine
from priorauth.store.models import CaseRecord
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
