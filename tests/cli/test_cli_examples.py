"""`priorauth assess` and `priorauth render` work on every case file in examples/."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import subprocess
import sys
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from priorauth.cli import main
from priorauth.domain.case import Case

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.json"))
IDS = [path.name for path in EXAMPLES]


def _documents_missing() -> str:
    """Why letters cannot be rendered here, or "" when they can."""
    try:
        documents = importlib.import_module("priorauth.documents")
    except ImportError as error:
        return f"priorauth.documents is not available yet: {error}"
    except OSError as error:  # WeasyPrint without Pango
        return f"WeasyPrint cannot load its system libraries: {error}"
    if not hasattr(documents, "render_letter"):
        return "priorauth.documents has no render_letter yet"
    return ""


needs_documents = pytest.mark.skipif(bool(_documents_missing()), reason=_documents_missing())


def _case_of(path: Path) -> tuple[Case, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    wrapper = data if "case" in data else {}
    as_of = dt.date.fromisoformat(wrapper["as_of"]) if wrapper.get("as_of") else dt.date.today()
    return Case.model_validate(wrapper.get("case", data), context={"today": as_of}), wrapper


def test_there_are_qualifying_and_failing_examples_for_both_indications() -> None:
    verdicts: dict[str, set[str]] = {}
    for path in EXAMPLES:
        case, wrapper = _case_of(path)
        verdict = wrapper.get("expect", {}).get("verdict", "ready")
        verdicts.setdefault(case.indication_id, set()).add(verdict)
    for indication in ("cidp", "pid"):
        assert "not_ready" in verdicts[indication], indication
        assert verdicts[indication] & {"ready", "ready_with_warnings"}, indication


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_assess_prints_the_assessment(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["assess", str(path)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assessment = json.loads(out)
    case, wrapper = _case_of(path)
    assert assessment["indication_id"] == case.indication_id
    assert assessment["request_type"] == case.request_type.value
    assert assessment["criteria"], "every example has criteria to show"
    if wrapper.get("as_of"):
        assert assessment["as_of"] == wrapper["as_of"]
    if "expect" in wrapper:
        assert assessment["verdict"] == wrapper["expect"]["verdict"], assessment["verdict_reasons"]
    assert "Traceback" not in err


def test_as_of_option_overrides_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = REPO_ROOT / "examples" / "pid-continuation-improved.json"
    assert main(["assess", str(path), "--as-of", "2027-03-01"]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == "2027-03-01"


def test_console_script_runs_assess() -> None:
    """The installed entry point, not only main(): what a user types."""
    script = Path(sys.executable).with_name("priorauth")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "priorauth"]
    path = REPO_ROOT / "examples" / "cidp-initial-qualifies.json"
    completed = subprocess.run(
        [*command, "assess", str(path), "--as-of", "2026-11-20"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["verdict"] == "ready"


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(BytesIO(pdf))
    text = " ".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", text)


def _grams(value: Decimal) -> str:
    return format(value.normalize(), "f")


@needs_documents
@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_render_writes_a_letter(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf_path, html_path = tmp_path / "letter.pdf", tmp_path / "letter.html"
    status = main(
        ["render", str(path), "--document", "letter", "-o", str(pdf_path), "--html", str(html_path)]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert f"wrote {pdf_path}" in out

    pdf = pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = _pdf_text(pdf)
    case, _ = _case_of(path)
    assert case.patient.full_name in text
    for code in case.icd10_codes:
        assert code in text
    for therapy in case.prior_therapies:
        assert therapy.agent in text

    main(["assess", str(path)])
    dose = json.loads(capsys.readouterr().out)["dose"]["dose"]
    assert f"{_grams(Decimal(str(dose['per_course_g'])))} g" in text

    html = html_path.read_text(encoding="utf-8")
    assert case.patient.last_name in html

    from pypdf import PdfReader

    metadata = PdfReader(BytesIO(pdf)).metadata or {}
    for value in metadata.values():
        assert case.patient.last_name not in str(value), "no patient data in PDF metadata"


@needs_documents
def test_render_html_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    html_path = tmp_path / "letter.html"
    path = REPO_ROOT / "examples" / "pid-initial-qualifies.json"
    assert main(["render", str(path), "--html", str(html_path)]) == 0
    assert html_path.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert not list(tmp_path.glob("*.pdf"))
