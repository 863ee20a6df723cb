"""Without Pango: the commands that need no PDF still run, the others say why they cannot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "forms" / "indications" / "cidp" / "examples" / "initial-monophasic.json"


@pytest.fixture
def no_pango(tmp_path: Path) -> dict[str, str]:
    """An environment whose `import weasyprint` fails as it does when Pango is missing."""
    fake = tmp_path / "fake" / "weasyprint"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        "raise OSError(\"cannot load library 'libpango-1.0-0'\")\n", encoding="utf-8"
    )
    return {
        **os.environ,
        "PYTHONPATH": str(fake.parent),
        "PRIORAUTH_INSTANCE_PATH": str(tmp_path / "instance"),
    }


def _priorauth(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "priorauth", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_imports_no_pdf_or_web_library() -> None:
    probe = (
        "import json, sys, priorauth.cli\n"
        "print(json.dumps(sorted(m for m in ('weasyprint', 'flask') if m in sys.modules)))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(completed.stdout) == []


def test_assess_and_forms_check_run_without_pango(no_pango: dict[str, str]) -> None:
    assessed = _priorauth(no_pango, "assess", str(EXAMPLE))
    assert assessed.returncode == 0, assessed.stderr
    assert json.loads(assessed.stdout)["indication_id"] == "cidp"
    assert _priorauth(no_pango, "forms", "check").returncode == 0


@pytest.mark.parametrize(
    ("args", "headline"),
    [
        (("render", str(EXAMPLE), "--html", "out.html"), "cannot render documents here"),
        (("serve", "--port", "1"), "cannot start the web application here"),
        (("db", "upgrade"), "cannot start the web application here"),
    ],
)
def test_commands_that_need_pango_say_so(
    no_pango: dict[str, str], args: tuple[str, ...], headline: str, tmp_path: Path
) -> None:
    in_tmp = [str(tmp_path / arg) if arg.endswith(".html") else arg for arg in args]
    completed = _priorauth(no_pango, *in_tmp)
    assert completed.returncode == 1
    assert f"priorauth: error: {headline}: cannot load library 'libpango-1.0-0'" in completed.stderr
    assert "scripts/ensure-system-deps.sh" in completed.stderr
    assert "Traceback" not in completed.stderr
