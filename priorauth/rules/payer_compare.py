"""Payers side by side: how each payer profile differs from the reference for an indication.

For one indication, every shipped payer profile is read against the guideline
reference profile and the indication's own definition: the dosing weight and
rounding, the authorization periods, preferred and excluded products, the
site-of-care rules and the criteria the payer changes. Each difference carries
the payer's source and date as the profile states them, and whether that
source was confirmed. The page and ``priorauth payers compare`` only print it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from priorauth.domain.catalog import Product
from priorauth.domain.dosing import DosingWeightPolicy

from .library import Library
from .loader import apply_override
from .schema import AuthorizationPeriods, IndicationDefinition, PayerProfile

REFERENCE = "reference"
# Notes about where the infusion is given. A payer note has no topic of its own,
# so site-of-care rules are the notes that speak of the site or of home infusion.
_SITE_WORDS = ("site of care", "site-of-care", "site of service", "home infusion", "at home")

TOPICS = (
    "Dosing weight",
    "Dose rounding",
    "Authorization periods",
    "Preferred products",
    "Excluded products",
    "Site of care",
    "Criteria changed",
)


@dataclass(frozen=True)
class Difference:
    topic: str
    reference: str
    payer: str
    source: str
    date: str
    unverified: bool
    # False: the payer says what the reference says (shown for completeness).
    differs: bool = True


@dataclass(frozen=True)
class PayerColumn:
    payer_id: str
    name: str
    as_of: str
    # One row or more per topic, in the order of TOPICS.
    rows: tuple[Difference, ...]

    @property
    def differences(self) -> tuple[Difference, ...]:
        return tuple(row for row in self.rows if row.differs)

    @property
    def same(self) -> tuple[str, ...]:
        return tuple(row.topic for row in self.rows if not row.differs)


@dataclass(frozen=True)
class PayerComparison:
    indication_id: str
    indication_name: str
    reference_name: str
    payers: tuple[PayerColumn, ...]


def _periods_text(initial: int | None, continuation: int | None) -> str:
    def months(value: int | None) -> str:
        return f"{value} months" if value is not None else "not set"

    return f"initial {months(initial)}, continuation {months(continuation)}"


def _effective_periods(
    periods: AuthorizationPeriods, payer: PayerProfile
) -> tuple[int | None, int | None]:
    """The periods a request would ask for: the indication's, capped by the payer's."""

    def capped(own: int | None, cap: int | None) -> int | None:
        if cap is None or (own is not None and own <= cap):
            return own
        return cap

    return (
        capped(periods.initial_months, payer.authorization_initial_months),
        capped(periods.continuation_months, payer.authorization_continuation_months),
    )


def _names(ids: tuple[str, ...], products: Mapping[str, Product]) -> str:
    if not ids:
        return "none"
    return ", ".join(products[i].name if i in products else i for i in ids)


def _weight(payer: PayerProfile, reference: PayerProfile) -> list[Difference]:
    found = []
    mine, theirs = payer.dosing_weight, reference.dosing_weight
    if _weight_rule(mine) != _weight_rule(theirs):
        found.append(
            Difference(
                "Dosing weight",
                theirs.describe(),
                mine.describe(),
                payer.dosing_weight_source or "not given",
                payer.as_of,
                payer.dosing_weight_unverified,
            )
        )
    if mine.rounding != theirs.rounding:
        found.append(
            Difference(
                "Dose rounding",
                f"Dose {theirs.rounding.describe()}.",
                f"Dose {mine.rounding.describe()}.",
                mine.rounding.source or payer.dosing_weight_source or "not given",
                payer.as_of,
                mine.rounding.unverified or payer.dosing_weight_unverified,
            )
        )
    return found


def _weight_rule(policy: DosingWeightPolicy) -> dict[str, Any]:
    return policy.model_dump(exclude={"rounding", "exemptions_source"})


def _periods(
    definition: IndicationDefinition, payer: PayerProfile, reference: PayerProfile
) -> list[Difference]:
    periods = definition.authorization
    mine = _effective_periods(periods, payer)
    theirs = _effective_periods(periods, reference)
    if mine == theirs:
        return []
    return [
        Difference(
            "Authorization periods",
            _periods_text(*theirs),
            _periods_text(*mine),
            payer.authorization_source or "not given",
            payer.as_of,
            payer.authorization_unverified,
        )
    ]


def _products(
    payer: PayerProfile, reference: PayerProfile, products: Mapping[str, Product]
) -> list[Difference]:
    found = []
    for topic, key in (
        ("Preferred products", "preferred_products"),
        ("Excluded products", "excluded_products"),
    ):
        mine, theirs = getattr(payer, key), getattr(reference, key)
        if set(mine) != set(theirs):
            found.append(
                Difference(
                    topic,
                    _names(theirs, products),
                    _names(mine, products),
                    payer.products_source or "not given",
                    payer.as_of,
                    False,
                )
            )
    return found


def _site(payer: PayerProfile) -> list[Difference]:
    found = [
        Difference(
            "Site of care",
            "no site-of-care rule",
            note.text,
            note.source,
            note.as_of,
            note.unverified,
        )
        for note in payer.notes
        if any(word in note.text.lower() for word in _SITE_WORDS)
    ]
    if payer.home_infusion_codes:
        found.append(
            Difference(
                "Site of care",
                "no list of diagnoses for home infusion",
                f"Home infusion paid only for {len(payer.home_infusion_codes)} diagnoses "
                f"(e.g. {', '.join(payer.home_infusion_codes[:4])})",
                payer.home_infusion_source or "not given",
                payer.as_of,
                False,
            )
        )
    return found


def _criteria(definition: IndicationDefinition, payer: PayerProfile) -> list[Difference]:
    found = []
    for override in payer.overrides:
        if override.indication != definition.id:
            continue
        target = next((c for c in definition.all_criteria() if c.id == override.criterion), None)
        if target is None:
            continue
        changed = apply_override(target, override.set)
        before = {key: getattr(target, key) for key in override.set}
        after = {key: getattr(changed, key) for key in override.set}
        found.append(
            Difference(
                "Criteria changed",
                f"{target.title}: {_fields(before)}",
                f"{changed.title}: {_fields(after)}",
                override.source,
                override.as_of,
                override.unverified,
            )
        )
    return found


def _fields(values: Mapping[str, Any]) -> str:
    def show(value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, (tuple, list)):
            return ", ".join(str(v) for v in value) or "none"
        return str(value)

    return "; ".join(f"{key.replace('_', ' ')} {show(value)}" for key, value in values.items())


def _reference_says(
    definition: IndicationDefinition, reference: PayerProfile, products: Mapping[str, Product]
) -> dict[str, Difference]:
    """For each topic, the row of a payer that says what the reference says."""
    policy = reference.dosing_weight
    texts = {
        "Dosing weight": policy.describe(),
        "Dose rounding": f"Dose {policy.rounding.describe()}.",
        "Authorization periods": _periods_text(
            *_effective_periods(definition.authorization, reference)
        ),
        "Preferred products": _names(reference.preferred_products, products),
        "Excluded products": _names(reference.excluded_products, products),
        "Site of care": "no site-of-care rule",
        "Criteria changed": "none changed",
    }
    return {
        topic: Difference(topic, text, text, "", "", False, differs=False)
        for topic, text in texts.items()
    }


def compare_payers(library: Library, indication_id: str) -> PayerComparison:
    """Every payer profile's differences from the reference for one indication."""
    definition = library.indications[indication_id]
    reference = library.payers[REFERENCE]
    columns = []
    for payer in sorted(library.payers.values(), key=lambda p: p.name.lower()):
        if payer.id == REFERENCE:
            continue
        differences = [
            *_weight(payer, reference),
            *_periods(definition, payer, reference),
            *_products(payer, reference, library.products),
            *_site(payer),
            *_criteria(definition, payer),
        ]
        same = _reference_says(definition, reference, library.products)
        rows = [
            row
            for topic in TOPICS
            for row in ([d for d in differences if d.topic == topic] or [same[topic]])
        ]
        columns.append(
            PayerColumn(payer_id=payer.id, name=payer.name, as_of=payer.as_of, rows=tuple(rows))
        )
    return PayerComparison(
        indication_id=definition.id,
        indication_name=definition.name,
        reference_name=reference.name,
        payers=tuple(columns),
    )
