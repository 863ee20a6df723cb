"""`priorauth serve` runs gunicorn with a worker count for the machine; /healthz answers.

One test starts the real server (a subprocess, two workers) and talks HTTP to it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from priorauth.cli.console import CommandError
from priorauth.cli.server import MAX_WORKERS, default_workers, worker_count
from priorauth.store.seed import DEMO_ACCOUNTS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from raw_http import call, log_in, post_form

PRIORAUTH = Path(sys.executable).parent / "priorauth"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    if not database_url.startswith("sqlite"):
        pytest.skip("one database is enough to show the server starts")
    port = _free_port()
    env = {
        **os.environ,
        "PRIORAUTH_DATABASE_URL": database_url,
        "PRIORAUTH_INSTANCE_PATH": str(tmp_path / "instance"),
        "PRIORAUTH_SECRET_KEY": "serve-test-secret-not-for-production",
    }
    process = subprocess.Popen(
        [str(PRIORAUTH), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if call(base, "GET", "/healthz").status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"the server did not start:\n{output[-3000:]}")
            time.sleep(0.3)
        yield base, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_runs_gunicorn_with_the_workers_asked_for(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    base, process = served
    health = call(base, "GET", "/healthz")
    assert health.status == 200 and json.loads(health.body) == {"status": "ok"}
    assert health.headers["Cache-Control"] == "no-store"
    # Not testing, not debug: cookies are Secure, so HSTS is sent.
    assert "max-age=31536000" in health.headers["Strict-Transport-Security"]
    assert "gunicorn" in health.headers.get("Server", "")
    time.sleep(1)  # the second worker may still be booting
    assert len(_children(process.pid)) == 2
    # A session ended in one worker is ended in every worker.
    account = next(a for a in DEMO_ACCOUNTS if a.role == "billing")
    cookie = log_in(base, account.email, account.password)
    assert all(call(base, "GET", "/", cookie=cookie).status == 200 for _ in range(6))
    copied = cookie
    assert post_form(base, "/logout", cookie).status == 302
    assert all(call(base, "GET", "/", cookie=copied).status == 302 for _ in range(6))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    output = process.stdout.read() if process.stdout else ""
    assert "with 2 gunicorn workers" in output


def test_the_worker_count_suits_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    cores = len(os.sched_getaffinity(0))
    assert default_workers() == max(2, min(2 * cores + 1, MAX_WORKERS))
    args: Any = type("Args", (), {"workers": None})()
    monkeypatch.setenv("PRIORAUTH_WORKERS", "3")
    assert worker_count(args) == 3
    args.workers = 4
    assert worker_count(args) == 4
    args.workers = None
    monkeypatch.setenv("PRIORAUTH_WORKERS", "many")
    with pytest.raises(CommandError, match="PRIORAUTH_WORKERS"):
        worker_count(args)


def test_healthz_needs_no_login_and_says_nothing_else(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_healthz_answers_503_when_the_database_does_not(tmp_path: Path) -> None:
    from priorauth.web import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "health-test-secret",
            "PRIORAUTH_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"
            "?connect_timeout=2",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "database unavailable"}
