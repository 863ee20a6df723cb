"""The cost summary and the price importer, through the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

from pypdf import PdfReader

from priorauth.cli import main
from priorauth.paths import forms_dir
from tests.rules.test_prices import CMS_CSV

EXAMPLE = Path(__file__).parents[2] / "examples" / "cidp-initial-qualifies.json"


def _text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_render_cost_summary_for_a_chosen_product_and_site(tmp_path: Path) -> None:
    out = tmp_path / "cost.pdf"
    status = main(
        [
            "render",
            str(EXAMPLE),
            "--document",
            "cost-summary",
            "--product",
            "gamunex_c",
            "--site",
            "home",
            "-o",
            str(out),
        ]
    )
    assert status == 0
    text = _text(out)
    assert "Gamunex-C" in text and "J1561" in text
    assert "Home infusion" in text
    assert "ILLUSTRATIVE" in text.upper()
    assert "160 g per course" in text


def test_render_cost_summary_rejects_an_unknown_product(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    status = main(
        [
            "render",
            str(EXAMPLE),
            "--document",
            "cost-summary",
            "--product",
            "nope",
            "-o",
            str(tmp_path / "x.pdf"),
        ]
    )
    assert status == 2
    assert "unknown product 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_prices_import_writes_a_table_that_forms_check_loads(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    shutil.copytree(forms_dir(), forms)
    csv = tmp_path / "asp.csv"
    csv.write_text(CMS_CSV, encoding="utf-8")
    assert main(["--forms", str(forms), "prices", "import", str(csv)]) == 0
    written = sorted(p.name for p in (forms / "prices").glob("*.toml"))
    assert len(written) == 2, written
    assert main(["forms", "check", str(forms)]) == 0


def test_prices_import_of_a_bad_file_exits_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "bad.csv"
    csv.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["prices", "import", str(csv), "-o", str(tmp_path / "t.toml")]) == 2
    err = capsys.readouterr().err
    assert "cannot be imported" in err and "Traceback" not in err
