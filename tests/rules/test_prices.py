"""Price tables: the shipped demo, the CMS ASP importer, the contracted-rate importer, TOML."""

from __future__ import annotations

import datetime as dt
import shutil
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from price_samples import CMS_CSV, CONTRACT_CSV

from priorauth.domain.case import SiteOfCare
from priorauth.domain.costs import DrugPrice, PriceKind, PriceTable, ServicePrice
from priorauth.paths import forms_dir
from priorauth.rules.library import load_library
from priorauth.rules.loader import DefinitionError
from priorauth.rules.prices import (
    PriceImportError,
    detect_quarter,
    import_cms_asp_csv,
    import_contracted_csv,
    load_price_tables,
    price_table_to_toml,
)


def _drug(table: PriceTable, code: str) -> DrugPrice:
    price = table.drug(code)
    assert price is not None, code
    return price


def _service(table: PriceTable, code: str, site: SiteOfCare) -> ServicePrice:
    price = table.service(code, site)
    assert price is not None, code
    return price


def test_shipped_demo_prices_are_illustrative_and_cover_the_catalog() -> None:
    tables = load_price_tables()
    demo = tables["illustrative_demo"]
    assert demo.illustrative
    assert demo.kind is PriceKind.ILLUSTRATIVE
    for product in load_library().products.values():
        price = demo.drug(product.hcpcs)
        assert price is not None, product.hcpcs
        assert price.billing_unit_mg == product.billing_unit_mg


def test_cms_importer_reads_the_quarter_units_and_limits() -> None:
    table = import_cms_asp_csv(CMS_CSV, source_name="January 2026 ASP Pricing File.csv")
    assert table.kind is PriceKind.ASP_PAYMENT_LIMIT
    assert not table.illustrative
    assert table.effective_quarter == "2026Q1"
    assert (table.effective_from, table.effective_to) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
    )
    privigen = table.drug("J1459")
    assert privigen is not None
    assert privigen.price_per_unit == Decimal("61.234")
    assert privigen.billing_unit_mg == 500
    assert _drug(table, "J1559").billing_unit_mg == 100
    assert _drug(table, "J1561").price_per_unit == Decimal("58.10")
    assert _drug(table, "J9999").billing_unit_mg is None
    assert table.drug("J1568") is None  # no limit published


def test_cms_importer_can_keep_only_the_catalog_codes() -> None:
    table = import_cms_asp_csv(CMS_CSV, codes={"J1459", "J1561"})
    assert [d.hcpcs for d in table.drugs] == ["J1459", "J1561"]


def test_cms_importer_reads_latin_1_bytes() -> None:
    raw = CMS_CSV.replace("Inj privigen", "Inj privigén").encode("latin-1")
    table = import_cms_asp_csv(raw)
    assert _drug(table, "J1459").description == "Inj privigén 500 mg"


def test_cms_importer_explains_what_is_wrong() -> None:
    with pytest.raises(PriceImportError, match="no header row"):
        import_cms_asp_csv("a,b\n1,2\n")
    undated = CMS_CSV.replace("January 2026 ", "")
    with pytest.raises(PriceImportError, match="which quarter"):
        import_cms_asp_csv(undated)
    assert import_cms_asp_csv(undated, quarter="2025Q4").effective_from == dt.date(2025, 10, 1)
    bad = CMS_CSV.replace('"61.234"', '"sixty"')
    with pytest.raises(PriceImportError, match=r"row 5 \(J1459\) → payment limit"):
        import_cms_asp_csv(bad)


def test_detect_quarter() -> None:
    assert detect_quarter("October 2025 ASP Pricing File") == "2025Q4"
    assert detect_quarter("july 2024") == "2024Q3"
    assert detect_quarter("March 2024") is None


def test_contracted_rates_with_a_rate_relative_to_asp() -> None:
    asp = import_cms_asp_csv(CMS_CSV)
    table = import_contracted_csv(
        CONTRACT_CSV,
        table_id="acme_2026",
        name="Acme Health contract",
        payer_profile="acme",
        effective_from=dt.date(2026, 1, 1),
        source_name="Acme Health fee schedule 2026",
        source_date="2025-12-15",
        asp=asp,
    )
    assert table.kind is PriceKind.CONTRACTED
    assert _drug(table, "J1459").price_per_unit == Decimal("52.10")
    # ASP = 58.10 / 1.06 = 54.811…; + 8 % = 59.196.
    assert _drug(table, "J1561").price_per_unit == Decimal("59.196")
    assert _service(table, "96365", SiteOfCare.INFUSION_CENTER).price_per_unit == Decimal(180)
    assert _service(table, "96365", SiteOfCare.HOSPITAL_OUTPATIENT).price_per_unit == Decimal(310)


def test_contracted_rates_errors_name_row_and_column() -> None:
    with pytest.raises(PriceImportError) as caught:
        import_contracted_csv(
            CONTRACT_CSV + "J1569,Gammagard,500,lots,\n96366,,,40,garage\n",
            table_id="acme_2026",
            name="Acme",
            payer_profile="acme",
            effective_from=dt.date(2026, 1, 1),
            source_name="Acme",
            source_date="2026-01-01",
        )
    problems = caught.value.problems
    assert any(p.startswith("row 3 (J1561) → rate") and "ASP" in p for p in problems)
    assert any(p.startswith("row 6 (J1569) → rate") for p in problems)
    assert any(p.startswith("row 7 (96366) → site") for p in problems)


def test_toml_round_trip_and_loading_from_a_forms_folder(tmp_path: Path) -> None:
    table = import_cms_asp_csv(CMS_CSV, codes={"J1459", "J1561"})
    text = price_table_to_toml(table, header="Imported for a test")
    assert PriceTable.model_validate(tomllib.loads(text)) == table

    root = tmp_path / "forms"
    shutil.copytree(forms_dir(), root)
    (root / "prices" / f"{table.id}.toml").write_text(text, encoding="utf-8")
    tables = load_price_tables(root)
    assert tables[table.id] == table
    assert "illustrative_demo" in tables


def test_loader_breadcrumbs(tmp_path: Path) -> None:
    root = tmp_path / "forms"
    (root / "prices").mkdir(parents=True)
    (root / "prices" / "broken.toml").write_text(
        'schema_version = 1\nid = "broken"\nname = "B"\nkind = "illustrative"\n'
        'illustrative = true\nsource = "s"\nsource_date = "2026"\neffective_from = 2026-01-01\n'
        '[[drugs]]\nhcpcs = "J1459"\nprice_per_unit = "50"\npirce = 1\n',
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError) as caught:
        load_price_tables(root)
    (problem,) = caught.value.problems
    assert "broken.toml → price table broken → drugs[0] (J1459).pirce: unknown key" in problem
