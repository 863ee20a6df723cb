"""With a policy change in effect, the queue reads the same few statements for 20 or 120 cases.

The sweep evaluates stale cases in batches (``store.rechecks.SWEEP_BATCH`` per
request); once it has passed over every case, the queue page with its "Policy
changed: re-check" section costs a constant number of statements, however many
cases the change touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker
from test_policy_recheck import STRICTER, _forms_with_reference, _put_in_effect
from web_helpers import TODAY, create_case, log_in_demo, page_text

from priorauth.paths import forms_dir
from priorauth.store import rechecks, synthetic
from priorauth.store.models import CaseRecord, PolicyRecheck


def _statements_of_queue(client: FlaskClient) -> tuple[int, str]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(Engine, "before_cursor_execute", count)
    try:
        page = client.get("/")
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert page.status_code == 200
    return len(seen), page_text(page.text)


def test_the_recheck_section_costs_the_same_for_20_and_120_cases(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    log_in_demo(client, "billing")
    library_v2 = _forms_with_reference(tmp_path, version="2", extra=STRICTER)
    counts: dict[int, int] = {}
    listed_by_size: dict[int, int] = {}
    for size in (20, 120):
        # Version 1 in effect while the cases are made: each is ready under it, and
        # not ready under the stricter version 2.
        _put_in_effect(app, forms_dir())
        template = create_case(client)
        with sessions() as session:
            have = session.scalar(select(func.count(CaseRecord.id))) or 0
            record = session.get(CaseRecord, template)
            assert record is not None
            synthetic.clone_cases(session, record, size - have, today=TODAY)
            session.commit()
        _put_in_effect(app, library_v2)
        # Let the sweep pass over every case (a batch per request), then one to settle.
        for _ in range(size // rechecks.SWEEP_BATCH + 2):
            client.get("/")
        counts[size], text = _statements_of_queue(client)
        assert "Policy changed: re-check" in text
        with sessions() as session:
            listed = session.scalar(
                select(func.count(PolicyRecheck.id)).where(PolicyRecheck.cleared_at.is_(None))
            )
        listed_by_size[size] = listed or 0
    # The clones vary in state (some closed, some approved far from renewal): not all
    # are listed, but many more at 120 than at 20, for the same statements.
    assert listed_by_size[120] > 3 * listed_by_size[20] > 0, listed_by_size
    assert counts[20] == counts[120], counts
