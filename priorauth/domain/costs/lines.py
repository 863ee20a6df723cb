"""Cost lines: the drug, waste and administration codes of a day, priced from a table."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from ..case import SiteOfCare
from ..catalog import Frozen, Product
from ..quantities import round_money
from ..vials import VialPlan, billed_lines
from .codes import CodedService, LineKind
from .prices import PriceTable


class CostLine(Frozen):
    kind: LineKind
    code: str
    modifier: str = ""
    description: str
    units: int
    unit_price: Decimal | None
    amount: Decimal | None
    price_source: str
    price_date: str
    illustrative: bool
    note: str = ""
    unverified: bool = False

    @property
    def priced(self) -> bool:
        return self.amount is not None


def _price_fields(table: PriceTable | None) -> tuple[str, str, bool]:
    if table is None:
        return "no price table", "", False
    return table.name, table.effective_text(), table.illustrative


def drug_cost_lines(
    product: Product, plan: VialPlan, table: PriceTable | None
) -> tuple[CostLine, ...]:
    """The drug and waste lines of one infusion, priced per billing unit."""
    source, date, illustrative = _price_fields(table)
    price = table.drug(product.hcpcs) if table else None
    note = ""
    unit_price: Decimal | None = None
    if price is None:
        note = f"no price for {product.hcpcs} in the price table"
    elif price.billing_unit_mg is not None and price.billing_unit_mg != product.billing_unit_mg:
        note = (
            f"the price table bills {product.hcpcs} per {price.billing_unit_mg} mg, the catalog "
            f"per {product.billing_unit_mg} mg: not priced until they agree"
        )
    else:
        unit_price = price.price_per_unit
    unverified_code = product.is_unverified("hcpcs") or product.is_unverified("billing_unit_mg")
    lines = []
    for billed in billed_lines(plan, product.hcpcs):
        kind = LineKind.WASTE if billed.discarded else LineKind.DRUG
        what = "discarded" if billed.discarded else "given"
        lines.append(
            CostLine(
                kind=kind,
                code=billed.hcpcs,
                modifier=billed.modifier.value if billed.modifier else "",
                description=f"{product.name}, {what}, {product.billing_unit_mg} mg units",
                units=billed.units,
                unit_price=unit_price,
                amount=None if unit_price is None else round_money(unit_price * billed.units),
                price_source=source,
                price_date=date,
                illustrative=illustrative,
                note="; ".join(n for n in (billed.note, note) if n),
                unverified=billed.unverified or unverified_code,
            )
        )
    return tuple(lines)


def service_cost_line(coded: CodedService, table: PriceTable | None, site: SiteOfCare) -> CostLine:
    """Price one administration or per-diem code at a site."""
    source, date, illustrative = _price_fields(table)
    price = table.service(coded.code, site) if table else None
    if price is not None and price.source:
        source, date = price.source, price.source_date or date
    if price is not None and price.illustrative is not None:
        illustrative = price.illustrative
    missing = "" if price else f"no price for {coded.code} in the price table"
    return CostLine(
        kind=coded.kind,
        code=coded.code,
        description=coded.description,
        units=coded.units,
        unit_price=price.price_per_unit if price else None,
        amount=round_money(price.price_per_unit * coded.units) if price else None,
        price_source=source,
        price_date=date,
        illustrative=illustrative,
        note="; ".join(n for n in (coded.note, missing) if n),
        unverified=coded.unverified,
    )


def sum_amounts(lines: Iterable[CostLine], kinds: Iterable[LineKind] | None = None) -> Decimal:
    wanted = set(kinds) if kinds is not None else set(LineKind)
    return sum(
        (line.amount for line in lines if line.kind in wanted and line.amount is not None),
        Decimal(0),
    )


def merge_lines(lines: Iterable[CostLine]) -> tuple[CostLine, ...]:
    """Add up lines that bill the same code, modifier and price (a course's days)."""
    merged: dict[tuple[str, str, LineKind, Decimal | None], CostLine] = {}
    for line in lines:
        key = (line.code, line.modifier, line.kind, line.unit_price)
        held = merged.get(key)
        if held is None:
            merged[key] = line
            continue
        amount = None if held.amount is None or line.amount is None else held.amount + line.amount
        notes = held.note if line.note in held.note else f"{held.note}; {line.note}".strip("; ")
        merged[key] = held.model_copy(
            update={
                "units": held.units + line.units,
                "amount": amount,
                "note": notes,
                "unverified": held.unverified or line.unverified,
            }
        )
    return tuple(merged.values())
