"""Benchmark the web app over real HTTP: the dashboard at 10 and 10,000 cases, letters per worker.

    .venv/bin/python bench/web_scale.py [--cases 10000] [--views 40] [--warmup 5]
                                        [--letter-seconds 20] [--rounds 2] [--clients 4]
                                        [--skip-dashboard] [--skip-letters]

(a) The dashboard: two SQLite databases, one with 10 cases and one with 10,000
    (synthetic copies of the CIDP example, inserted in bulk, every workflow
    state in turn), each served by its own live server (werkzeug, threaded) on a
    free port. The billing account's dashboard is fetched from both in turn,
    interleaved so that drift in the machine's load falls on both alike. Reported:
    p50 and p95 of each, and the p50 ratio 10,000 : 10 (target <= 1.5, issue 16).

(b) The letter: gunicorn with one worker, then two (alternating, ``--rounds``
    times each), four clients each posting "make the letter PDF" for a case of its
    own and downloading the PDF it is sent to, for ``--letter-seconds``. Each
    request renders (a case is never asked twice, so no stored letter is reused).
    Reported: letters per second for each, and the ratio two : one (target >= 1.8).
    What the letter gets from a second worker depends on the render running
    outside the write transaction (issue 16); this measures the branch as it is.

Timings are printed, never asserted: not a test. Run by hand or with ``make bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.cookiejar
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from priorauth.domain.case import Case
from priorauth.rules import evaluate, load_library
from priorauth.store import db, repository, seed, synthetic
from priorauth.store.models import CaseRecord, CaseState, User

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cidp-initial-qualifies.json"
# The example's dates are fixed; the servers run as of the day it was written, so
# the stored verdicts are current (as a clinic's are on the day they are saved).
AS_OF = dt.date(2026, 11, 20)
SECRET_KEY = "bench-secret-key-not-for-production"
BILLING = next(a for a in seed.DEMO_ACCOUNTS if a.role == "billing")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the databases ---------------------------------------------------------------------------


def make_database(
    path: Path, cases: int, *, states: tuple[CaseState, ...] = synthetic.STATES
) -> str:
    """A migrated SQLite database with the demo clinic and ``cases`` synthetic cases."""
    url = f"sqlite:///{path}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            seed.seed_demo(session)
            billing = session.scalars(select(User).where(User.email == BILLING.email)).one()
            library = load_library()
            case = Case.model_validate(json.loads(EXAMPLE.read_text()), context={"today": AS_OF})
            template = repository.create_case(
                session,
                organization_id=billing.organization_id,
                user_id=billing.id,
                data=case.model_dump(mode="json"),
                assessment=evaluate(case, library, AS_OF).model_dump(mode="json"),
            )
            session.commit()
            if cases > 1:
                synthetic.clone_cases(session, template, cases - 1, today=AS_OF, states=states)
                session.commit()
    finally:
        engine.dispose()
    return url


def draft_ids(url: str) -> list[int]:
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            query = select(CaseRecord.id).where(CaseRecord.state == CaseState.DRAFT.value)
            return list(session.scalars(query.order_by(CaseRecord.id)))
    finally:
        engine.dispose()


def app_config(url: str) -> dict[str, Any]:
    return {
        "PRIORAUTH_DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "PRIORAUTH_TODAY": AS_OF,
        "SESSION_COOKIE_SECURE": False,
    }


# --- an HTTP client with its own session ----------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


@dataclass
class Client:
    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)
    csrf: str = ""

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(
        self, path: str, data: dict[str, str] | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def log_in(self) -> None:
        _, page, _ = self.request("/login")
        token = CSRF.search(page.decode())
        assert token, "no CSRF token on the login page"
        status, _, _ = self.request(
            "/login",
            {"csrf_token": token.group(1), "email": BILLING.email, "password": BILLING.password},
        )
        assert status in (302, 303), f"login answered {status}"
        status, page, _ = self.request("/")
        assert status == 200, f"dashboard answered {status}"
        found = CSRF.search(page.decode())
        assert found, "no CSRF token on the dashboard"
        self.csrf = found.group(1)


# --- (a) the dashboard ----------------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_request(self, *_args: Any, **_kwargs: Any) -> None:
        """No line per request: the figures are the output."""


@contextlib.contextmanager
def live_server(url: str) -> Iterator[str]:
    """The app on a werkzeug server in a thread, on a free port; yields its address."""
    from priorauth.web import create_app

    app = create_app(app_config(url))
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def bench_dashboard(work: Path, cases: int, views: int, warmup: int) -> float:
    print(f"(a) dashboard: seeding 10 and {cases:,} cases ...", flush=True)
    started = time.perf_counter()
    small = make_database(work / "small.db", 10)
    large = make_database(work / "large.db", cases)
    print(f"    seeded in {time.perf_counter() - started:.1f} s", flush=True)
    timings: dict[str, list[float]] = {"10": [], f"{cases:,}": []}
    with live_server(small) as small_base, live_server(large) as large_base:
        clients = {"10": Client(small_base), f"{cases:,}": Client(large_base)}
        for client in clients.values():
            client.log_in()
        for n in range(warmup + views):
            for label, client in clients.items():
                begun = time.perf_counter()
                status, body, _ = client.request("/")
                took = time.perf_counter() - begun
                assert status == 200 and b"What needs you" in body, status
                if n >= warmup:
                    timings[label].append(took)
    for label, samples in timings.items():
        print(
            f"    {label:>7} cases: p50 {statistics.median(samples) * 1000:7.1f} ms   "
            f"p95 {_percentile(samples, 0.95) * 1000:7.1f} ms   ({len(samples)} views)"
        )
    ratio = statistics.median(timings[f"{cases:,}"]) / statistics.median(timings["10"])
    print(f"    dashboard p50 ratio {cases:,} : 10 cases = {ratio:.2f}  (target <= 1.5)")
    return ratio


# --- (b) the letter under gunicorn ----------------------------------------------------------


@contextlib.contextmanager
def gunicorn(url: str, workers: int, work: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "PRIORAUTH_BENCH_DATABASE_URL": url,
        "PRIORAUTH_BENCH_TODAY": AS_OF.isoformat(),
        "PRIORAUTH_BENCH_SECRET_KEY": SECRET_KEY,
        "PRIORAUTH_INSTANCE_PATH": str(work / "instance"),
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "120",
        "--pythonpath",
        str(ROOT / "bench"),
        "--log-level",
        "warning",
        "gunicorn_app:app",
    ]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/login", timeout=30):
                    break
            except OSError:  # refused, reset or timed out while the workers start
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class LetterRun:
    workers: int
    letters: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.letters / self.seconds if self.seconds else 0.0


def letters_for(
    base: str, workers: int, cases: list[int], clients: int, seconds: float
) -> LetterRun:
    run = LetterRun(workers)
    lock = threading.Lock()
    people = [Client(base) for _ in range(clients)]
    for person in people:
        person.log_in()
    stop = time.monotonic() + seconds

    def work(person: Client) -> None:
        while time.monotonic() < stop:
            with lock:
                if not cases:
                    return
                case_id = cases.pop()
            begun = time.perf_counter()
            status, _, headers = person.request(
                f"/cases/{case_id}/letter.pdf", {"csrf_token": person.csrf}
            )
            ok = status == 303
            if ok:
                location = urllib.parse.urlsplit(headers.get("Location", "")).path
                status, body, _ = person.request(location)
                ok = status == 200 and body.startswith(b"%PDF")
            with lock:
                if ok:
                    run.letters += 1
                    run.latencies.append(time.perf_counter() - begun)
                else:
                    run.errors += 1

    threads = [threading.Thread(target=work, args=(person,)) for person in people]
    begun = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - begun
    return run


def bench_letters(work: Path, seconds: float, rounds: int, clients: int) -> float:
    # Enough draft cases that no case is asked for twice: a stored letter is reused.
    needed = int(rounds * 2 * clients * (seconds + 10) * 2) + 50
    print(f"\n(b) letters: seeding {needed:,} draft cases ...", flush=True)
    url = make_database(work / "letters.db", needed, states=(CaseState.DRAFT,))
    cases = draft_ids(url)
    runs: dict[int, list[LetterRun]] = {1: [], 2: []}
    for round_number in range(rounds):
        for workers in (1, 2) if round_number % 2 == 0 else (2, 1):
            with gunicorn(url, workers, work) as base:
                run = letters_for(base, workers, cases, clients, seconds)
            runs[workers].append(run)
            p50 = statistics.median(run.latencies) if run.latencies else 0.0
            print(
                f"    round {round_number + 1}, {workers} worker{'s' if workers > 1 else ''}: "
                f"{run.letters} letters in {run.seconds:.1f} s = {run.rate:.2f} letters/s   "
                f"p50 {p50:.2f} s   errors {run.errors}",
                flush=True,
            )
    rates = {w: sum(r.letters for r in rs) / sum(r.seconds for r in rs) for w, rs in runs.items()}
    ratio = rates[2] / rates[1] if rates[1] else 0.0
    print(
        f"    {clients} clients: 1 worker {rates[1]:.2f} letters/s, 2 workers {rates[2]:.2f}"
        f" letters/s; ratio 2 : 1 = {ratio:.2f}  (target >= 1.8)"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--views", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--letter-seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--skip-dashboard", action="store_true")
    parser.add_argument("--skip-letters", action="store_true")
    args = parser.parse_args()
    print(
        f"web scale benchmark: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}"
    )
    with tempfile.TemporaryDirectory(prefix="priorauth-bench-") as temporary:
        work = Path(temporary)
        figures = []
        if not args.skip_dashboard:
            ratio = bench_dashboard(work, args.cases, args.views, args.warmup)
            figures.append(f"dashboard p50 ratio {args.cases:,}:10 = {ratio:.2f} (target <= 1.5)")
        if not args.skip_letters:
            ratio = bench_letters(work, args.letter_seconds, args.rounds, args.clients)
            figures.append(f"letter throughput ratio 2:1 workers = {ratio:.2f} (target >= 1.8)")
    print("\nsummary: " + "; ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
