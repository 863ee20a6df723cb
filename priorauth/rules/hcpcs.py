"""The catalog's own table of HCPCS Level II codes (forms/hcpcs.toml), and its check.

No maintained package ships the HCPCS Level II file, so the codes the catalog
bills are kept in one table with the source and year each was read from. Every
product's code must be in it, counted in the same billing unit, and marked
unverified on the product when the table has no CMS source for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from priorauth.domain.catalog import Product

from .loader import read_toml, validate_model

HCPCS_FILE = "hcpcs.toml"


class HcpcsCode(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[A-V][0-9]{4}$")
    descriptor: str
    # None where the payer sets the unit (an unclassified code).
    unit_mg: int | None = Field(default=None, gt=0)
    year: int | None = Field(default=None, ge=1983, le=2100)
    source: str = Field(default="", description="when not the table's own source")
    unverified: bool = False
    note: str = ""


class HcpcsTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int
    as_of: str
    source: str
    codes: tuple[HcpcsCode, ...] = Field(min_length=1)

    def get(self, code: str) -> HcpcsCode | None:
        return next((c for c in self.codes if c.code == code), None)

    def source_of(self, entry: HcpcsCode) -> str:
        return entry.source or self.source


def load_hcpcs_table(root: Path, problems: list[str]) -> HcpcsTable | None:
    """The table, or None (with the reason in problems) when the file is unusable."""
    path = root / HCPCS_FILE
    data = read_toml(path, problems)
    if data is None:
        return None
    table: HcpcsTable | None = validate_model(HcpcsTable, path, "HCPCS table", data, problems)
    if table is None:
        return None
    seen: set[str] = set()
    for entry in table.codes:
        if entry.code in seen:
            problems.append(f"{path} → HCPCS table → codes ({entry.code}): listed twice")
        seen.add(entry.code)
        if entry.year is None and not entry.unverified:
            problems.append(
                f"{path} → HCPCS table → codes ({entry.code}) → year: the year of the "
                "source is required unless the code is marked unverified"
            )
    return table


def check_products(path: Path, table: HcpcsTable, products: Mapping[str, Product]) -> list[str]:
    """Each product's code against the table: listed, same unit, same certainty."""
    problems = []
    for product in products.values():
        crumb = f"{path} → product {product.id} → hcpcs ({product.hcpcs})"
        entry = table.get(product.hcpcs)
        if entry is None:
            problems.append(f"{crumb}: not in the HCPCS table {HCPCS_FILE}; add it with its source")
            continue
        if entry.unit_mg is not None and entry.unit_mg != product.billing_unit_mg:
            problems.append(
                f"{crumb} → billing_unit_mg: {product.billing_unit_mg} mg, but the HCPCS "
                f"table counts {product.hcpcs} in {entry.unit_mg} mg units"
            )
        if entry.unverified and not product.is_unverified("hcpcs"):
            problems.append(
                f"{crumb} → unverified: the HCPCS table has no source for {product.hcpcs}; "
                "list 'hcpcs' in the product's unverified fields"
            )
    return problems
