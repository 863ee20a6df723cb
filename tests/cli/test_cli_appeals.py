"""`priorauth render --document appeal|exception|peer-to-peer|packet|pdfa` on case files."""

from __future__ import annotations

import json
import shutil
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from priorauth.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
APPEALS = sorted(EXAMPLES.glob("appeal-*.json"))


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(pdf)).pages)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("path", APPEALS, ids=[p.stem for p in APPEALS])
def test_render_an_appeal_for_each_example(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "appeal.pdf"
    html = tmp_path / "appeal.html"
    status, out, err = run(
        ["render", str(path), "--document", "appeal", "-o", str(target), "--html", str(html)],
        capsys,
    )
    assert status == 0, err
    assert f"wrote {target}" in out
    data = json.loads(path.read_text(encoding="utf-8"))
    text = _text(target.read_bytes())
    assert data["denial"]["payer_reference"] in text
    assert "Draft: not ready" not in text
    assert "<style>" in html.read_text(encoding="utf-8")


def test_render_a_packet_with_the_examples_attachments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = EXAMPLES / "appeal-missing-information.json"
    target = tmp_path / "packet.pdf"
    status, _, err = run(["render", str(path), "--document", "packet", "-o", str(target)], capsys)
    assert status == 0, err
    reader = PdfReader(target)
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        assert f"Packet page {number} of {total}" in " ".join(page.extract_text().split())
    text = _text(target.read_bytes())
    assert "Attachment 3: Vaccine titres" in text
    assert "required enclosures attached" not in text  # the checklist stays with staff


def test_render_pdfa_carries_the_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / "appeal-dose-above-policy.json"
    target = tmp_path / "appeal.pdf"
    status, _, err = run(["render", str(path), "--document", "pdfa", "-o", str(target)], capsys)
    assert status == 0, err
    record = json.loads(PdfReader(target).attachments["case-record.json"][0])
    case = json.loads(path.read_text(encoding="utf-8"))["case"]
    assert record["case"]["patient"] == case["patient"]
    assert record["denial"]["payer_reference"] == "DN-2026-0063"


def test_render_peer_to_peer_and_exception(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p2p = tmp_path / "p2p.pdf"
    path = EXAMPLES / "appeal-site-of-care.json"
    status, _, err = run(
        ["render", str(path), "--document", "peer-to-peer", "-o", str(p2p)], capsys
    )
    assert status == 0, err
    assert "Objections to expect".upper() in _text(p2p.read_bytes())
    exception = tmp_path / "exception.pdf"
    status, _, err = run(
        ["render", str(path), "--document", "exception", "-o", str(exception)], capsys
    )
    assert status == 0, err
    assert "A SITE OF CARE THE PLAN DOES NOT PREFER" in _text(exception.read_bytes())


def _copy_example(tmp_path: Path, name: str, **changes: Any) -> Path:
    data = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    data.update(changes)
    target = tmp_path / name
    target.write_text(json.dumps(data), encoding="utf-8")
    if (EXAMPLES / "attachments").is_dir():
        shutil.copytree(EXAMPLES / "attachments", tmp_path / "attachments", dirs_exist_ok=True)
    return target


@pytest.mark.parametrize(
    ("name", "document", "changes", "needle"),
    [
        (
            "cidp-initial-qualifies.json",
            "appeal",
            {},
            "an appeal needs the denial",
        ),
        (
            "appeal-step-therapy.json",
            "appeal",
            {
                "denial": {
                    "date": "2026-11-02",
                    "payer_reference": "X",
                    "reasons": [{"category": "too_costly"}],
                }
            },
            "denial.reasons.0.category:",
        ),
        (
            "appeal-criteria-not-met.json",
            "appeal",
            {
                "denial": {
                    "date": "2026-11-02",
                    "payer_reference": "X",
                    "reasons": [{"category": "criteria_not_met", "criteria": ["igg"]}],
                }
            },
            "CIDP has no criterion 'igg'",
        ),
        (
            "appeal-missing-information.json",
            "packet",
            {"attachments": [{"path": "attachments/vaccine-titres.png", "enclosure": "x"}]},
            "there is no enclosure 'x'",
        ),
        (
            "appeal-missing-information.json",
            "packet",
            {"attachments": ["attachments/nowhere.pdf"]},
            "nowhere.pdf: No such file or directory",
        ),
        (
            "appeal-missing-information.json",
            "packet",
            {"attachments": ["README.md"]},
            "only PDF, PNG and JPEG files can be attached, not 'md'",
        ),
        (
            "appeal-dose-above-policy.json",
            "exception",
            {},
            "nothing in this request is outside standard policy",
        ),
        (
            "appeal-site-of-care.json",
            "appeal",
            {"justification": {"site_of_care": ["other"]}},
            "justification: site_of_care_details: explain the 'other' ground",
        ),
    ],
)
def test_bad_input_exits_2_with_a_plain_message(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    document: str,
    changes: dict[str, Any],
    needle: str,
) -> None:
    path = _copy_example(tmp_path, name, **changes)
    if name == "cidp-initial-qualifies.json":
        path.write_text((EXAMPLES / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "README.md").write_text("# not a pdf", encoding="utf-8")
    status, _, err = run(
        ["render", str(path), "--document", document, "-o", str(tmp_path / "out.pdf")], capsys
    )
    assert status == 2
    assert needle in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out.pdf").exists()


def test_a_mislabeled_attachment_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy_example(tmp_path, "appeal-missing-information.json")
    png = (tmp_path / "attachments" / "vaccine-titres.png").read_bytes()
    (tmp_path / "attachments" / "scan.pdf").write_bytes(png)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["attachments"] = ["attachments/scan.pdf"]
    path.write_text(json.dumps(data), encoding="utf-8")
    status, _, err = run(
        ["render", str(path), "--document", "packet", "-o", str(tmp_path / "p.pdf")], capsys
    )
    assert status == 2
    assert "scan.pdf: declared as a PDF, but the contents are a PNG image" in err


def test_a_packet_has_no_single_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(
        [
            "render",
            str(EXAMPLES / "appeal-site-of-care.json"),
            "--document",
            "packet",
            "--html",
            str(tmp_path / "p.html"),
        ],
        capsys,
    )
    assert status == 2
    assert "a packet has no single HTML" in err


def test_assess_reads_a_wrapper_with_a_denial(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["assess", str(EXAMPLES / "appeal-site-of-care.json")], capsys)
    assert status == 0, err
    assert json.loads(out)["verdict"] == "ready_with_warnings"
