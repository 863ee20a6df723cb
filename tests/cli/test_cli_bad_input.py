"""Bad input: a clear message on stderr naming the field, exit status 2, never a traceback."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from priorauth.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
GOOD_CASE: dict[str, Any] = json.loads(
    (REPO_ROOT / "examples" / "cidp-initial-qualifies.json").read_text(encoding="utf-8")
)
AS_OF = ["--as-of", "2026-11-20"]


def write_case(folder: Path, change: Callable[[dict[str, Any]], Any] | None = None) -> Path:
    data = copy.deepcopy(GOOD_CASE)
    if change is not None:
        change(data)
    path = folder / "case.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def assert_bad_input(status: int, out: str, err: str, *needles: str) -> None:
    assert status == 2, err
    assert out == "", "nothing on stdout when the input is bad"
    assert err.startswith("priorauth: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    assert_bad_input(*run(["assess", str(missing)], capsys), f"{missing}: no such file")


def test_a_folder_instead_of_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert_bad_input(*run(["assess", str(tmp_path)], capsys), "is a folder")


def test_invalid_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text('{"patient": {"first_name": "A",}\n', encoding="utf-8")
    assert_bad_input(*run(["assess", str(path)], capsys), "not valid JSON", "line 1, column")


def test_not_utf8(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_bytes(b'{"patient": "\xff\xfe"}')
    assert_bad_input(*run(["assess", str(path)], capsys), "not UTF-8")


def test_json_that_is_not_an_object(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text("[1, 2, 3]", encoding="utf-8")
    assert_bad_input(*run(["assess", str(path)], capsys), "one JSON object")


def _set(*keys: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (_set("measurements", "weight", value=0), ["measurements.weight:", "more than zero"]),
        (_set("measurements", "weight", value=-70), ["measurements.weight:", "more than zero"]),
        (
            _set("measurements", "weight", value=700),
            ["measurements.weight:", "outside"],
        ),  # 700 lb is possible; 700 kg is not, so switch the unit
        (_set("measurements", "weight", value="abc"), ["measurements.weight:", "decimal"]),
        (
            _set("prior_therapies", 0, "end", value="2026-05-01"),
            ["prior_therapies.0.end:", "ends before it starts"],
        ),
        (
            _set("prior_therapies", 0, "start", value="2027-01-01"),
            ["prior_therapies.0.start:", "future"],
        ),
        (_set("prescriber", "npi", value="1234567890"), ["prescriber.npi:", "check digit"]),
        (_set("icd10_codes", value=["61.81"]), ["icd10_codes:", "not an ICD-10-CM code"]),
        (_set("site_of_care", value="moon"), ["site_of_care:"]),
    ],
    ids=[
        "weight-0",
        "weight-negative",
        "weight-700-kg",
        "weight-abc",
        "therapy-ends-before-start",
        "therapy-starts-in-future",
        "npi-check-digit",
        "icd10-format",
        "site-of-care",
    ],
)
def test_validation_error_names_the_field(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None],
    needles: list[str],
) -> None:
    def apply(data: dict[str, Any]) -> None:
        data["measurements"]["weight_unit"] = "kg"
        change(data)

    path = write_case(tmp_path, apply)
    status, out, err = run(["assess", str(path), *AS_OF], capsys)
    assert_bad_input(status, out, err, "not a valid case", *needles)


def test_unknown_indication(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_case(tmp_path, _set("indication_id", value="cidpp"))
    status, out, err = run(["assess", str(path), *AS_OF], capsys)
    assert_bad_input(status, out, err, "indication_id: unknown indication 'cidpp'", "known: ")


def test_unknown_product(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_case(tmp_path, _set("regimen", "product_id", value="privigenn"))
    status, out, err = run(["assess", str(path), *AS_OF], capsys)
    assert_bad_input(status, out, err, "regimen.product_id: unknown product 'privigenn'")


def test_unknown_payer_profile(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_case(tmp_path, _set("coverage", "payer_profile", value="nobody"))
    status, out, err = run(["assess", str(path), *AS_OF], capsys)
    assert_bad_input(status, out, err, "coverage.payer_profile: unknown payer profile 'nobody'")


def test_code_of_another_indication_is_assessed_but_not_rendered(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_case(tmp_path, _set("icd10_codes", value=["D83.9"]))
    status, out, err = run(["assess", str(path), *AS_OF], capsys)
    assert status == 0
    assert json.loads(out)["verdict"] == "not_ready"
    assert "warning: icd10_codes.0: D83.9 is not a code for" in err

    pdf = tmp_path / "letter.pdf"
    status, out, err = run(["render", str(path), "-o", str(pdf), *AS_OF], capsys)
    assert_bad_input(status, out, err, "icd10_codes.0: D83.9 is not a code for")
    assert not pdf.exists()


def test_missing_height_when_the_policy_needs_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def no_height(data: dict[str, Any]) -> None:
        del data["measurements"]["height"]

    path = write_case(tmp_path, no_height)
    status, out, err = run(
        ["render", str(path), "--html", str(tmp_path / "x.html"), *AS_OF], capsys
    )
    assert_bad_input(status, out, err, "measurements.height: height is needed")


def test_wrapper_errors_name_the_field_inside_case(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = copy.deepcopy(GOOD_CASE)
    data["measurements"]["weight"] = 0
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"description": "x", "as_of": "2026-11-20", "case": data}))
    assert_bad_input(*run(["assess", str(path)], capsys), "case.measurements.weight:")


@pytest.mark.parametrize(
    ("wrapper", "needle"),
    [
        ({"as_of": "20 Nov 2026"}, "as_of: '20 Nov 2026' is not a date"),
        ({"expected": {}}, "expected: unknown key beside 'case'"),
    ],
)
def test_bad_wrapper(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, wrapper: dict[str, Any], needle: str
) -> None:
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({**wrapper, "case": GOOD_CASE}), encoding="utf-8")
    assert_bad_input(*run(["assess", str(path)], capsys), needle)


def test_render_needs_somewhere_to_write(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_case(tmp_path)
    assert_bad_input(*run(["render", str(path)], capsys), "give -o OUT.pdf, --html OUT.html")


def test_render_into_a_missing_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("priorauth.documents", reason="priorauth.documents is not available yet")
    path = write_case(tmp_path)
    target = tmp_path / "missing" / "letter.html"
    status, _out, err = run(["render", str(path), "--html", str(target), *AS_OF], capsys)
    assert status == 2
    assert f"{target}: cannot be written" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["assess", "x.json", "--as-of", "yesterday"],
        ["render", "x.json", "--document", "brochure"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_options_exit_2_with_usage(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "usage: priorauth" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        (json.dumps({**GOOD_CASE, "indication_id": "nope"}), "indication_id: unknown indication"),
    ],
    ids=["missing", "invalid-json", "unknown-indication"],
)
def test_real_process_exits_2_without_traceback(
    tmp_path: Path, content: str | None, needle: str
) -> None:
    path = tmp_path / "case.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "priorauth", "assess", str(path), *AS_OF],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert needle in completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stdout == ""
