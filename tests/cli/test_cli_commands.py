"""The other commands: schema, indications, forms check, db upgrade, demo-accounts, serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from priorauth import __version__
from priorauth.cli import main
from priorauth.cli.server import redact
from priorauth.domain.case import Case

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"priorauth {__version__}"


def test_schema_is_the_case_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == json.loads(json.dumps(Case.model_json_schema()))
    assert schema["title"] == "Case"
    assert {"patient", "prescriber", "measurements", "regimen"} <= set(schema["required"])


def test_indications_lists_each_with_its_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["indications"]) == 0
    out = capsys.readouterr().out
    assert "cidp: Chronic inflammatory demyelinating polyneuropathy (CIDP)" in out
    assert "    G61.81   Chronic inflammatory demyelinating polyneuritis" in out
    assert "pid: Primary immunodeficiency" in out
    assert "D83.9" in out


def test_indications_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["indications", "--json"]) == 0
    listed = {item["id"]: item for item in json.loads(capsys.readouterr().out)}
    assert [c["code"] for c in listed["cidp"]["codes"]] == ["G61.81"]
    assert "D83.9" in [c["code"] for c in listed["pid"]["codes"]]


def test_forms_check_on_the_shipped_definitions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forms", "check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: ")
    assert "payer profiles" in out


def test_global_forms_option_points_at_another_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status = main(["--forms", str(tmp_path), "indications"])
    assert status == 1
    err = capsys.readouterr().err
    assert "cannot be loaded" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://app:s3cret@db:5432/pa", "postgresql+psycopg://app:***@db:5432/pa"),
        (
            "postgresql+psycopg://postgres@127.0.0.1/test",
            "postgresql+psycopg://postgres@127.0.0.1/test",
        ),
        ("sqlite:////srv/instance/priorauth.db", "sqlite:////srv/instance/priorauth.db"),
    ],
)
def test_database_passwords_are_never_printed(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_db_upgrade_then_demo_accounts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("priorauth.store.seed", reason="priorauth.store is not available yet")
    url = f"sqlite:///{tmp_path / 'priorauth.db'}"
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert "database is up to date" in capsys.readouterr().out

    assert main(["demo-accounts", "--database-url", url]) == 0
    first = capsys.readouterr().out
    assert first.startswith("DEMO ONLY")
    assert "physician@demo.example" in first and "password:" in first

    # Seeding again changes nothing and shows the same accounts.
    assert main(["demo-accounts", "--database-url", url]) == 0
    assert capsys.readouterr().out == first


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_on_the_port(tmp_path: Path) -> None:
    pytest.importorskip("priorauth.web", reason="priorauth.web is not available yet")
    env = {**os.environ, "PRIORAUTH_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("PRIORAUTH_DATABASE_URL", None)
    command = [sys.executable, "-m", "priorauth"]
    subprocess.run(
        [*command, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120
    )
    port = _free_port()
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(0.2)
        assert status is not None and status < 500
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_facts_lists_the_vocabulary(capsys: pytest.CaptureFixture[str]) -> None:
    from priorauth.domain.facts import FACTS

    assert main(["facts", "--json"]) == 0
    listed = {item["name"]: item for item in json.loads(capsys.readouterr().out)}
    assert set(listed) == set(FACTS)
    assert listed["igg_mg_dl"]["kind"] == "lab" and listed["igg_mg_dl"]["unit"] == "mg/dL"
    assert "progressive" in listed["disease_course"]["choices"]

    assert main(["facts"]) == 0
    assert "demyelination_on_electrodiagnostics" in capsys.readouterr().out
