"""The cost summary and the price importer, through the command line."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from price_samples import CMS_CSV, CONTRACT_CSV
from pypdf import PdfReader

from priorauth.cli import main
from priorauth.paths import forms_dir
from priorauth.rules.prices import load_price_tables

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


def test_asp_plus_n_percent_contract_works_after_the_cms_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 14: "ASP + 8 %" failed with "import the CMS file first" even after importing it.
    forms = tmp_path / "forms"
    shutil.copytree(forms_dir(), forms)
    asp_csv = tmp_path / "asp.csv"
    asp_csv.write_text(CMS_CSV, encoding="utf-8")
    contract_csv = tmp_path / "contract.csv"
    contract_csv.write_text(CONTRACT_CSV, encoding="utf-8")
    contract = [
        "--forms", str(forms), "prices", "import", str(contract_csv), "--format", "contracted",
        "--table-id", "acme_2026", "--name", "Acme contract", "--payer-profile", "aetna",
        "--effective-from", "2026-01-01", "--source", "Acme fee schedule 2026",
    ]  # fmt: skip
    # Before the CMS import the relative rate cannot be worked out: said, nothing written.
    assert main(contract) == 2
    assert "import the CMS file first" in capsys.readouterr().err
    assert main(["--forms", str(forms), "prices", "import", str(asp_csv)]) == 0
    assert main(contract) == 0
    capsys.readouterr()
    tables = load_price_tables(forms)
    # ASP = 58.10 / 1.06 = 54.811…; + 8 % = 59.196 per 500 mg unit.
    price = tables["acme_2026"].drug("J1561")
    assert price is not None and price.price_per_unit == Decimal("59.196")
    assert main(["forms", "check", str(forms)]) == 0
