"""Price tables: load them from forms/prices/, import CMS and clinic CSV files, write TOML.

Each table is one TOML file under ``forms/prices/`` with its source, the date
the source was read or published, and the dates (or quarter) it applies to.

Two importers turn a CSV into a table:
- the CMS quarterly ASP payment-limit file ("ASP Pricing File", section 508
  CSV): title lines, then a header row with HCPCS code, short descriptor, HCPCS
  code dosage (the billing unit), payment limit, then AWP-based limits,
  clotting factor and notes (ivig-products-billing.md §3). Limits already
  include the 6 % (42 CFR 414.904).
- a clinic's contracted rates, one row per code:
  ``code, description, billing_unit_mg, rate, site`` where ``rate`` is money
  (``52.10``) or relative to ASP (``ASP+8%``, ``106% ASP``); ASP itself is the
  CMS payment limit ÷ 1.06, so relative rates need an ASP table to work from.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tomllib
from collections.abc import Collection, Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from priorauth.domain.case import SiteOfCare
from priorauth.domain.costs import (
    DrugPrice,
    PriceKind,
    PriceTable,
    ServicePrice,
    quarter_dates,
)
from priorauth.domain.quantities import round_unit_price
from priorauth.paths import forms_dir

from .loader import DefinitionError

# 42 CFR 414.904(a): the Part B payment limit is 106 % of ASP.
ASP_PAYMENT_FACTOR = Decimal("1.06")
CMS_ASP_SOURCE = "CMS quarterly ASP Pricing File (Medicare Part B drug payment limits)"

_MONTH_QUARTER = {"january": 1, "april": 2, "july": 3, "october": 4}
_TITLE_QUARTER = re.compile(r"\b(january|april|july|october)\s+(\d{4})\b", re.IGNORECASE)
_DOSAGE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(mg|g|gm|mcg)\b", re.IGNORECASE)
_RELATIVE_PLUS = re.compile(r"^asp\s*\+\s*([0-9]*\.?[0-9]+)\s*%$", re.IGNORECASE)
_RELATIVE_PERCENT = re.compile(r"^([0-9]*\.?[0-9]+)\s*%\s*(?:of\s*)?asp$", re.IGNORECASE)
_HCPCS = re.compile(r"^[A-Z][0-9]{4}$")
_SERVICE = re.compile(r"^[A-Z0-9]{5}$")


class PriceImportError(ValueError):
    """A CSV cannot be imported; each problem names its row and column."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --------------------------------------------------------------------------- loading


def load_price_tables(root: Path | None = None) -> dict[str, PriceTable]:
    """Load every table under forms/prices/; raise DefinitionError listing all problems."""
    folder = (Path(root) if root is not None else forms_dir()) / "prices"
    tables: dict[str, PriceTable] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            problems.append(f"{path} → not valid TOML: {error}")
            continue
        label = f"price table {data.get('id', path.stem)}"
        try:
            table = PriceTable.model_validate(data)
        except ValidationError as error:
            for item in error.errors():
                problems.append(f"{path} → {label} → {_where(data, item['loc'])}: {_hint(item)}")
            continue
        if table.id != path.stem:
            problems.append(f"{path} → {label} → id: must match the file name {path.stem!r}")
        elif table.id in tables:
            problems.append(f"{path} → {label} → id: used by another price table")
        else:
            tables[table.id] = table
    if problems:
        raise DefinitionError(problems)
    return tables


def _where(data: Any, loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            item = node[step]
            code = item.get("hcpcs") or item.get("code") if isinstance(item, dict) else None
            parts[-1] = f"{parts[-1]}[{step}]" + (f" ({code})" if code else "")
            node = item
            continue
        parts.append(str(step))
        node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts) or "(whole table)"


def _hint(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key; remove it or check the spelling"
    if error["type"] == "missing":
        return "required key is missing"
    return str(error["msg"]).removeprefix("Value error, ")


# --------------------------------------------------------------------------- writing


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # Money stays a string: a TOML float would round-trip through binary.
        return json.dumps(format(value, "f"))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def price_table_to_toml(table: PriceTable, header: str = "") -> str:
    """Write a table as a forms/prices/ TOML file that load_price_tables reads back unchanged."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    data = table.model_dump(exclude_defaults=False)
    for key in PriceTable.model_fields:
        if key in ("drugs", "services"):
            continue
        value = data[key]
        if value is None or value in ((), []):
            continue
        if isinstance(value, str) and not value and key not in ("source",):
            continue
        lines.append(f"{key} = {_toml_value(value)}")
    for section, items in (("drugs", table.drugs), ("services", table.services)):
        for item in items:
            lines.append("")
            lines.append(f"[[{section}]]")
            for key, value in item.model_dump().items():
                if value is None or value in ((), [], ""):
                    continue
                lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- CSV helpers


def _read_rows(source: Path | str | bytes) -> list[list[str]]:
    if isinstance(source, Path):
        raw = source.read_bytes()
    elif isinstance(source, bytes):
        raw = source
    else:
        raw = source.encode("utf-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # CMS publishes its CSV files in Latin-1.
        text = raw.decode("latin-1")
    return [row for row in csv.reader(io.StringIO(text))]


def _norm(cell: str) -> str:
    return re.sub(r"\s+", " ", cell.strip().lower())


def _money(cell: str) -> Decimal | None:
    text = cell.strip().replace("$", "").replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def _dosage_mg(cell: str) -> int | None:
    match = _DOSAGE.match(cell)
    if match is None:
        return None
    amount, unit = Decimal(match[1]), match[2].lower()
    mg = {"mg": amount, "g": amount * 1000, "gm": amount * 1000, "mcg": amount / 1000}[unit]
    return int(mg) if mg == mg.to_integral_value() and mg > 0 else None


# --------------------------------------------------------------------------- CMS ASP file


def detect_quarter(title: str) -> str | None:
    """The quarter a CMS file applies to, from a title such as 'January 2026 ASP Pricing File'."""
    match = _TITLE_QUARTER.search(title)
    if match is None:
        return None
    return f"{match[2]}Q{_MONTH_QUARTER[match[1].lower()]}"


def import_cms_asp_csv(
    source: Path | str | bytes,
    *,
    quarter: str | None = None,
    codes: Collection[str] | None = None,
    source_name: str = "",
    source_date: str = "",
) -> PriceTable:
    """Read a CMS quarterly ASP payment-limit CSV into a price table for its quarter."""
    rows = _read_rows(source)
    header_index = next(
        (
            index
            for index, row in enumerate(rows)
            if row and _norm(row[0]).startswith("hcpcs") and len(row) >= 4
        ),
        None,
    )
    if header_index is None:
        raise PriceImportError(
            ["no header row found: the CMS file's table starts with a 'HCPCS Code' column"]
        )
    header = [_norm(cell) for cell in rows[header_index]]

    def column(*names: str, exclude: str = "") -> int | None:
        for index, name in enumerate(header):
            if any(n in name for n in names) and not (exclude and exclude in name):
                return index
        return None

    code_col = 0
    dosage_col = column("dosage")
    limit_col = next((i for i, name in enumerate(header) if name == "payment limit"), None)
    desc_col = column("description", "descriptor")
    problems = []
    if dosage_col is None:
        problems.append("no 'HCPCS Code Dosage' column in the header row")
    if limit_col is None:
        problems.append("no 'Payment Limit' column in the header row")
    title = " ".join(" ".join(row) for row in rows[:header_index])
    name_hint = source.name if isinstance(source, Path) else source_name
    found_quarter = quarter or detect_quarter(title) or detect_quarter(name_hint)
    if found_quarter is None:
        problems.append(
            "cannot tell which quarter this file applies to: give the quarter (e.g. 2026Q1)"
        )
    if problems:
        raise PriceImportError(problems)
    assert dosage_col is not None and limit_col is not None and found_quarter is not None

    wanted = {c.upper() for c in codes} if codes is not None else None
    drugs: dict[str, DrugPrice] = {}
    for number, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if len(row) <= max(limit_col, dosage_col):
            continue
        code = row[code_col].strip().upper()
        if not _HCPCS.match(code) or (wanted is not None and code not in wanted):
            continue
        limit = _money(row[limit_col])
        if limit is None:
            if row[limit_col].strip():
                problems.append(
                    f"row {number} ({code}) → payment limit: {row[limit_col]!r} is not an amount"
                )
            continue
        if code in drugs:
            problems.append(f"row {number} ({code}) → listed twice")
            continue
        drugs[code] = DrugPrice(
            hcpcs=code,
            billing_unit_mg=_dosage_mg(row[dosage_col]),
            price_per_unit=limit,
            description=row[desc_col].strip() if desc_col is not None else "",
        )
    if problems:
        raise PriceImportError(problems)
    if not drugs:
        raise PriceImportError(["no rows with a payment limit for the codes asked for"])
    first, last = quarter_dates(found_quarter)
    label = f"{found_quarter[:4]} Q{found_quarter[-1]}"
    return PriceTable(
        id=f"cms_asp_{found_quarter.lower()}",
        name=f"Medicare Part B ASP payment limits, {label}",
        kind=PriceKind.ASP_PAYMENT_LIMIT,
        source=f"{CMS_ASP_SOURCE}{': ' + name_hint if name_hint else ''}",
        source_date=source_date or first.isoformat(),
        effective_quarter=found_quarter,
        effective_from=first,
        effective_to=last,
        drugs=tuple(drugs[code] for code in sorted(drugs)),
        note="Limits are 106 % of ASP per billing unit (42 CFR 414.904), based on sales two "
        "quarters earlier.",
    )


# --------------------------------------------------------------------------- contracted rates


def _relative_rate(cell: str) -> Decimal | None:
    """The multiple of ASP a rate such as 'ASP+8%' or '106% ASP' stands for."""
    text = cell.strip()
    plus = _RELATIVE_PLUS.match(text)
    if plus:
        return 1 + Decimal(plus[1]) / 100
    percent = _RELATIVE_PERCENT.match(text)
    if percent:
        return Decimal(percent[1]) / 100
    return None


def import_contracted_csv(
    source: Path | str | bytes,
    *,
    table_id: str,
    name: str,
    payer_profile: str | None,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
    source_name: str,
    source_date: str,
    asp: PriceTable | None = None,
) -> PriceTable:
    """Read a clinic's contracted rates (code, description, billing_unit_mg, rate, site)."""
    rows = [row for row in _read_rows(source) if any(cell.strip() for cell in row)]
    if not rows:
        raise PriceImportError(["the file is empty"])
    header = [_norm(cell) for cell in rows[0]]
    missing = [col for col in ("code", "rate") if col not in header]
    if missing:
        raise PriceImportError(
            [
                f"header row needs the columns code and rate (also: description, "
                f"billing_unit_mg, site); missing {', '.join(missing)}"
            ]
        )

    def cell(row: list[str], column: str) -> str:
        if column not in header:
            return ""
        index = header.index(column)
        return row[index].strip() if index < len(row) else ""

    problems: list[str] = []
    drugs: list[DrugPrice] = []
    services: list[ServicePrice] = []
    for number, row in enumerate(rows[1:], start=2):
        code = cell(row, "code").upper()
        where = f"row {number} ({code or 'no code'})"
        rate_text = cell(row, "rate")
        rate = _money(rate_text)
        if rate is None:
            multiple = _relative_rate(rate_text)
            if multiple is None:
                problems.append(f"{where} → rate: {rate_text!r} is not an amount or 'ASP+N%'")
                continue
            base = asp.drug(code) if asp is not None else None
            if base is None:
                problems.append(
                    f"{where} → rate: {rate_text!r} is relative to ASP, but no ASP payment "
                    f"limit for {code} was given; import the CMS file first"
                )
                continue
            rate = round_unit_price(base.price_per_unit / ASP_PAYMENT_FACTOR * multiple)
        unit_text = cell(row, "billing_unit_mg")
        unit_mg = int(unit_text) if unit_text.isdigit() and int(unit_text) > 0 else None
        if unit_text and unit_mg is None:
            problems.append(f"{where} → billing_unit_mg: {unit_text!r} is not a whole number")
            continue
        site_text = cell(row, "site")
        sites: tuple[SiteOfCare, ...] = ()
        if site_text:
            try:
                sites = (SiteOfCare(site_text),)
            except ValueError:
                known = ", ".join(s.value for s in SiteOfCare)
                problems.append(f"{where} → site: {site_text!r} is not one of {known}")
                continue
        description = cell(row, "description")
        if code.startswith("J") and _HCPCS.match(code):
            if sites:
                problems.append(f"{where} → site: drug rates apply at every site")
                continue
            drugs.append(
                DrugPrice(
                    hcpcs=code,
                    billing_unit_mg=unit_mg,
                    price_per_unit=rate,
                    description=description,
                )
            )
        elif _SERVICE.match(code):
            services.append(
                ServicePrice(code=code, price_per_unit=rate, description=description, sites=sites)
            )
        else:
            problems.append(f"{where} → code: not a HCPCS or CPT code")
    if problems:
        raise PriceImportError(problems)
    try:
        return PriceTable(
            id=table_id,
            name=name,
            kind=PriceKind.CONTRACTED,
            source=source_name,
            source_date=source_date,
            effective_from=effective_from,
            effective_to=effective_to,
            payer_profile=payer_profile,
            drugs=tuple(drugs),
            services=tuple(services),
            note="Rates given relative to ASP were converted with ASP = payment limit ÷ 1.06."
            if asp is not None
            else "",
        )
    except ValidationError as error:
        raise PriceImportError([_hint(item) for item in error.errors()]) from error


def tables_in_effect(tables: Iterable[PriceTable], on: dt.date) -> list[PriceTable]:
    """The tables that apply on a date, newest first."""
    return sorted(
        (t for t in tables if t.in_effect(on)), key=lambda t: t.effective_from, reverse=True
    )
