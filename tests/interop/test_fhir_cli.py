"""`priorauth fhir import | export | questionnaire` from the command line."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir_helpers import REPO_ROOT, read_example
from pypdf import PdfReader

from priorauth.cli import main
from priorauth.domain.case import Case
from priorauth.interop.response import prefill_response
from priorauth.rules.library import Library

CIDP_CASE = REPO_ROOT / "examples" / "cidp-initial-qualifies.json"
PID_BUNDLE = REPO_ROOT / "examples" / "fhir" / "pid-initial-record.json"


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_import_prints_the_draft_and_what_was_ignored(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(["fhir", "import", str(PID_BUNDLE)], capsys)
    assert status == 0
    printed = json.loads(out)
    assert printed["case"]["indication_id"] == "pid"
    assert printed["case"]["measurements"]["weight_unit"] == "lb"
    assert {i["item"] for i in printed["ignored"]} >= {
        "Observation/vitd-1",
        "Observation/wt-pid-old",
    }
    assert printed["missing"] == ["site_of_care", "request_type", "regimen"]
    assert "ignored Observation/vitd-1" in err


def test_import_case_only_and_payer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "draft.json"
    args = ["fhir", "import", str(PID_BUNDLE), "--case-only", "--payer", "uhc", "-o", str(target)]
    status, _, _ = _run(args, capsys)
    assert status == 0
    draft = json.loads(target.read_text(encoding="utf-8"))
    assert draft["coverage"]["payer_profile"] == "uhc"
    assert "from_record" not in draft


def test_import_reads_a_questionnaire_response(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, library: Library
) -> None:
    data, as_of = read_example(CIDP_CASE)
    case = Case.model_validate(data, context={"today": as_of})
    response = tmp_path / "response.json"
    response.write_text(json.dumps(prefill_response(library, case)), encoding="utf-8")
    status, out, _ = _run(["fhir", "import", str(response), "--case-only"], capsys)
    assert status == 0
    assert Case.model_validate(json.loads(out), context={"today": as_of}) == case


def _pas(out: str) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(out)
    Bundle.model_validate(bundle)
    return bundle


def _letter(bundle: dict[str, Any]) -> bytes:
    document = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DocumentReference"
    )
    return base64.b64decode(document["content"][0]["attachment"]["data"])


def test_export_attaches_the_rendered_letter(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(["fhir", "export", str(CIDP_CASE), "--as-of", "2026-11-20"], capsys)
    assert status == 0
    bundle = _pas(out)
    claim = bundle["entry"][0]["resource"]
    assert claim["use"] == "preauthorization"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(_letter(bundle))).pages)
    assert "Avery Testpatient" in text
    assert "Privigen" in text


def test_export_attaches_a_given_letter_or_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(b"%PDF-1.7\n% stands in for a signed letter\n")
    args = ["fhir", "export", str(CIDP_CASE), "--as-of", "2026-11-20", "--letter", str(signed)]
    status, out, _ = _run(args, capsys)
    assert status == 0
    assert _letter(_pas(out)) == signed.read_bytes()
    status, out, _ = _run(["fhir", "export", str(CIDP_CASE), "--no-letter"], capsys)
    assert status == 0
    assert "DocumentReference" not in out


def test_questionnaire_for_a_payer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "q.json"
    status, _, _ = _run(
        ["fhir", "questionnaire", "pid", "--payer", "aetna", "-o", str(target)], capsys
    )
    assert status == 0
    questionnaire = json.loads(target.read_text(encoding="utf-8"))
    Questionnaire.model_validate(questionnaire)
    assert questionnaire["url"].endswith("ivig-pid-aetna")


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        ("{not json", ["fhir", "import"], "not valid JSON: "),
        ('{"resourceType": "Patient"}', ["fhir", "import"], "not a FHIR Bundle"),
        (
            '{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": '
            '{"resourceType": "Patient", "birthDate": "soon"}}]}',
            ["fhir", "import"],
            "entry.0.resource.birthDate",
        ),
        ("not a pdf", ["fhir", "export", str(CIDP_CASE), "--letter"], "not a PDF file"),
    ],
)
def test_bad_input_is_a_message_with_exit_status_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: str,
    args: list[str],
    expected: str,
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    status, _, err = _run([*args, str(bad)], capsys)
    assert status == 2
    assert expected in err
    assert "Traceback" not in err


def test_unknown_indication_and_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _run(["fhir", "questionnaire", "nope"], capsys)
    assert status == 2 and "unknown indication 'nope'" in err
    status, _, err = _run(["fhir", "import", "/nonexistent/bundle.json"], capsys)
    assert status == 2 and "no such file" in err
