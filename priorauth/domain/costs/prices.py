"""Price tables: what a billing unit costs, where the figure comes from, when it applies.

Medicare Part B pays the lesser of the charge or 106 % of ASP per billing unit
(42 CFR 414.904); CMS publishes the limits each quarter with a two-quarter lag.
No current limit is in the notes, so the shipped demo table is illustrative and
marked so wherever a figure from it appears
(../shared/reference/ivig-products-billing.md §2–§3).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum

from pydantic import Field, model_validator

from ..case import PlanType, SiteOfCare
from ..catalog import Frozen

SCHEMA_VERSION = 1

ILLUSTRATIVE_MARK = "ILLUSTRATIVE PRICES — not current payment rates"


class PriceKind(StrEnum):
    ASP_PAYMENT_LIMIT = "asp_payment_limit"
    CONTRACTED = "contracted"
    ILLUSTRATIVE = "illustrative"


PRICE_KIND_LABELS = {
    PriceKind.ASP_PAYMENT_LIMIT: "Medicare Part B ASP payment limit",
    PriceKind.CONTRACTED: "Contracted rate",
    PriceKind.ILLUSTRATIVE: "Illustrative price",
}

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def quarter_dates(quarter: str) -> tuple[dt.date, dt.date]:
    """First and last day of a calendar quarter written 2026Q1."""
    match = _QUARTER.match(quarter)
    if match is None:
        raise ValueError(f"{quarter!r} is not a quarter; write it like 2026Q1")
    year, number = int(match[1]), int(match[2])
    first_month = 3 * (number - 1) + 1
    last_month = first_month + 2
    return (
        dt.date(year, first_month, 1),
        dt.date(year, last_month, calendar.monthrange(year, last_month)[1]),
    )


def quarter_label(quarter: str) -> str:
    match = _QUARTER.match(quarter)
    return f"{match[1]} Q{match[2]}" if match else quarter


class DrugPrice(Frozen):
    hcpcs: str = Field(pattern=r"^[A-Z][0-9]{4}$")
    billing_unit_mg: int | None = Field(default=None, gt=0)
    price_per_unit: Decimal = Field(ge=0)
    description: str = ""


class ServicePrice(Frozen):
    code: str = Field(pattern=r"^[A-Z0-9]{5}$")
    price_per_unit: Decimal = Field(ge=0)
    description: str = ""
    unit: str = ""
    sites: tuple[SiteOfCare, ...] = Field(default=(), description="empty: every site")
    source: str = Field(default="", description="when this figure has its own source")
    source_date: str = ""
    illustrative: bool | None = None


class PriceTable(Frozen):
    """Prices per billing unit, with where they come from and when they apply."""

    schema_version: int = SCHEMA_VERSION
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    kind: PriceKind
    illustrative: bool = False
    source: str
    source_date: str = Field(description="when the source published or was read, YYYY-MM-DD")
    effective_quarter: str = ""
    effective_from: dt.date
    effective_to: dt.date | None = None
    payer_profile: str | None = None
    plan_types: tuple[PlanType, ...] = ()
    drugs: tuple[DrugPrice, ...] = ()
    services: tuple[ServicePrice, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> PriceTable:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version} is not {SCHEMA_VERSION}")
        if self.kind is PriceKind.ILLUSTRATIVE and not self.illustrative:
            raise ValueError("an illustrative table must say illustrative = true")
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        if self.effective_quarter:
            first, last = quarter_dates(self.effective_quarter)
            if self.effective_from != first:
                raise ValueError(
                    f"effective_from {self.effective_from} is not the first day of "
                    f"{self.effective_quarter} ({first})"
                )
            if self.effective_to is not None and self.effective_to != last:
                raise ValueError(f"effective_to is not the last day of {self.effective_quarter}")
        codes = [d.hcpcs for d in self.drugs]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"drug code listed twice: {', '.join(twice)}")
        return self

    def in_effect(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def drug(self, hcpcs: str) -> DrugPrice | None:
        return next((d for d in self.drugs if d.hcpcs == hcpcs), None)

    def service(self, code: str, site: SiteOfCare) -> ServicePrice | None:
        matches = [s for s in self.services if s.code == code]
        return next((s for s in matches if site in s.sites), None) or next(
            (s for s in matches if not s.sites), None
        )

    def effective_text(self) -> str:
        quarter = f"{quarter_label(self.effective_quarter)}, " if self.effective_quarter else ""
        if self.effective_to is None:
            return f"{quarter}in effect from {self.effective_from.isoformat()} until replaced"
        return f"{quarter}{self.effective_from.isoformat()} to {self.effective_to.isoformat()}"


def select_price_table(
    tables: Iterable[PriceTable],
    on: dt.date,
    payer_profile: str | None = None,
    plan_type: PlanType | None = None,
) -> PriceTable | None:
    """Pick the prices for a date: the payer's contract, then CMS ASP limits, then the demo."""
    in_effect = [t for t in tables if t.in_effect(on)]

    def fits(table: PriceTable) -> bool:
        return not table.plan_types or plan_type is None or plan_type in table.plan_types

    def newest(candidates: list[PriceTable]) -> PriceTable | None:
        return max(candidates, key=lambda t: (t.effective_from, t.id)) if candidates else None

    contracted = [
        t
        for t in in_effect
        if t.kind is PriceKind.CONTRACTED and t.payer_profile == payer_profile and fits(t)
    ]
    asp = [t for t in in_effect if t.kind is PriceKind.ASP_PAYMENT_LIMIT]
    demo = [t for t in in_effect if t.kind is PriceKind.ILLUSTRATIVE]
    return newest(contracted) or newest(asp) or newest(demo)
