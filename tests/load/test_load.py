"""A bounded load test against a live server: 20 clients for 30 s, no server error (issue 16).

Each client is one person at the clinic: logs in, creates a case, starts a draft, then
until the time is up opens the case page, saves the draft's first step, renders the
letter (its preview, or the PDF stored and opened), and every fourth round logs out and
in again. Runs on SQLite and, with PRIORAUTH_TEST_DATABASE_URL set, on PostgreSQL.
It prints the median and 95th percentile of every kind of request (run with -s to see
them) and fails on any 5xx answer or connection error.
"""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterator

import pytest
from live_http import EXAMPLES, Client, Reply, live_app, serving

from priorauth.store.seed import DEMO_ACCOUNTS
from priorauth.web.intake import formdata_for_case

CLIENTS = 20
SECONDS = 30
_DRAFT = re.compile(r"/drafts/(\d+)/")
_VERSION = re.compile(r'name="draft_version" value="(\d+)"')


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    app = live_app(database_url)
    with serving(app) as base_url:
        yield base_url
    app.extensions["priorauth"].engine.dispose()


def _first_step_values() -> list[tuple[str, str]]:
    data = json.loads((EXAMPLES / "cidp-initial-qualifies.json").read_text(encoding="utf-8"))
    formdata = formdata_for_case(data.get("case", data))
    prefixes = ("patient-", "coverage-", "prescriber-")
    return [(k, v) for k, v in formdata.items(multi=True) if k.startswith(prefixes)]


class Person:
    """One client's session and what it measured."""

    def __init__(self, base_url: str, email: str, password: str) -> None:
        self.client = Client(base_url)
        self.email, self.password = email, password
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.failures: list[str] = []

    def _note(self, kind: str, reply: Reply, expected: tuple[int, ...]) -> Reply:
        self.timings[kind].append(reply.seconds)
        if reply.status >= 500 or reply.status not in expected:
            self.failures.append(f"{kind}: {reply.status}")
        return reply

    def log_in(self) -> None:
        token = self.client.csrf("/login")
        reply = self.client.request(
            "POST",
            "/login",
            f"email={self.email}&password={self.password}&csrf_token={token}".encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        self._note("login", reply, (302, 303))

    def log_out(self) -> None:
        self._note("logout", self.client.post("/logout", {}, "/"), (302, 303))

    def setup(self) -> tuple[int, int]:
        self.log_in()
        case_id = self.client.create_cidp_case()
        started = self.client.post("/cases/start", [*_first_step_values(), ("action", "save")])
        self._note("draft save", started, (303,))
        match = _DRAFT.search(started.location)
        assert match, started.location
        return case_id, int(match.group(1))

    def round(self, number: int, case_id: int, draft_id: int) -> None:
        self._note("case page", self.client.get(f"/cases/{case_id}"), (200,))
        step = f"/drafts/{draft_id}/patient"
        page = self.client.get(step)
        version = _VERSION.search(page.text)
        fields = [*_first_step_values(), ("action", "save")]
        if version:
            fields.append(("draft_version", version.group(1)))
        self._note("draft save", self.client.post(step, fields), (303, 409))
        if number % 2:
            self._note("letter render", self.client.get(f"/cases/{case_id}/letter/preview"), (200,))
        else:
            stored = self.client.post(
                f"/cases/{case_id}/letter.pdf", {}, f"/cases/{case_id}/letter"
            )
            self._note("letter pdf", stored, (303,))
            if stored.status == 303:
                self._note("letter pdf", self.client.get(stored.location), (200,))
        if number % 4 == 3:
            self.log_out()
            self.log_in()

    def run(self, until: float) -> None:
        try:
            case_id, draft_id = self.setup()
            number = 0
            while time.monotonic() < until:
                self.round(number, case_id, draft_id)
                number += 1
        except Exception as error:  # a dropped connection or a page without its form
            self.failures.append(f"{type(error).__name__}: {error}"[:300])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def test_twenty_clients_for_thirty_seconds_get_no_server_error(
    server: str, database_url: str
) -> None:
    account = next(a for a in DEMO_ACCOUNTS if a.role == "billing")
    people = [Person(server, account.email, account.password) for _ in range(CLIENTS)]
    until = time.monotonic() + SECONDS
    threads = [threading.Thread(target=p.run, args=(until,)) for p in people]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 300)
    elapsed = time.monotonic() - started
    timings: dict[str, list[float]] = defaultdict(list)
    for person in people:
        for kind, values in person.timings.items():
            timings[kind] += values
    every = [value for values in timings.values() for value in values]
    backend = database_url.split(":", 1)[0]
    lines = [
        f"load test on {backend}: {CLIENTS} clients, {elapsed:.1f} s, {len(every)} requests, "
        f"p50 {statistics.median(every) * 1000:.0f} ms, "
        f"p95 {_percentile(every, 0.95) * 1000:.0f} ms"
    ]
    for kind, values in sorted(timings.items()):
        lines.append(
            f"  {kind:<14} n={len(values):<5} p50 {statistics.median(values) * 1000:7.0f} ms"
            f"  p95 {_percentile(values, 0.95) * 1000:7.0f} ms"
            f"  max {max(values) * 1000:7.0f} ms"
        )
    print("\n" + "\n".join(lines))
    failures = [f for person in people for f in person.failures]
    assert not failures, failures[:20]
    assert not any(thread.is_alive() for thread in threads)
    assert len(timings["letter render"]) + len(timings["letter pdf"]) >= CLIENTS
