"""Vials and billing units: which vials to open for a dose, and how the claim counts them.

Rules (sources in ../shared/reference/ivig-products-billing.md):
- Bill the smallest vial combination that supplies the dose with the least
  waste (Noridian JD DME, Aug 2011; Noridian JE "Drug Wastage – JW and JZ").
- Units = dose ÷ billing unit, rounded up for the dose given and down for the
  waste, so the total never exceeds what was opened (NGS Medicare FAQ, §2).
- Discarded units go on their own line with the JW modifier; when nothing is
  discarded the drug line carries JZ (required from July 1, 2023; claims without
  either rejected from Oct 1, 2023 — Noridian JE; CGS, Dec 18, 2023). These are
  Medicare rules; other payers may differ.
- A payer may round the dose to the nearest vial within a tolerance, commonly
  10 % (payment policy MP.001.001, May 10, 2024; Priority Health, Jul 25, 2022;
  HOPA 2017), or to the nearest 5 g (Ontario IGUM). Which one applies is the
  payer's policy, passed in as a VialRounding, never assumed here.

The vial search is exact: a dynamic programme over the grid of vial sizes finds
every total that whole vials can make, so "least waste, then fewest vials" is
proven rather than guessed by a greedy pass.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from math import gcd

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .catalog import Product
from .quantities import ceil_units, floor_units, plain_number, round_dose_g

MG_PER_G = Decimal(1000)
# Bounds the search table: about 2,000 g in 0.05 g steps, beyond any real infusion.
MAX_GRID_STEPS = 40_000

# Exceptions that payment policy MP.001.001 (May 10, 2024) lists to its 10 % rounding.
ROUNDING_EXCEPTIONS = (
    "patient under 18",
    "prior poor response to a rounded-down dose",
    "clinically unstable",
    "laboratory evidence of a sub-optimal response",
)


class RoundingRule(StrEnum):
    NONE = "none"
    NEAREST_VIAL = "nearest_vial"
    NEAREST_STEP = "nearest_step"


class VialRounding(BaseModel):
    """A payer's dose-rounding policy, as its profile states it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: RoundingRule = RoundingRule.NONE
    # Policies round only within 10 % of the prescribed dose (MP.001.001; Priority
    # Health 2022; HOPA 2017): the default for every rule.
    tolerance_percent: Decimal = Field(default=Decimal("10"), gt=0, le=50)
    step_g: Decimal | None = Field(default=None, gt=0)
    down_only: bool = Field(default=False, description="never round a dose up to a vial")
    source: str = ""
    unverified: bool = False

    @model_validator(mode="after")
    def _parameters(self) -> VialRounding:
        if self.rule is RoundingRule.NEAREST_STEP and self.step_g is None:
            raise ValueError("rounding to the nearest step needs step_g")
        return self

    def describe(self) -> str:
        if self.rule is RoundingRule.NEAREST_VIAL:
            way = "down to a whole vial" if self.down_only else "to the nearest whole vial"
            return f"rounded {way} within {self.tolerance_percent}%"
        if self.rule is RoundingRule.NEAREST_STEP:
            return f"rounded to the nearest {self.step_g} g within {self.tolerance_percent}%"
        return "not rounded"


NO_ROUNDING = VialRounding()


class VialCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    size_g: Decimal
    count: int


class Modifier(StrEnum):
    JW = "JW"
    JZ = "JZ"


class BilledLine(BaseModel):
    """One drug line of a claim: the code, its modifier, and the units."""

    model_config = ConfigDict(frozen=True)

    hcpcs: str
    modifier: Modifier | None
    units: int
    discarded: bool
    note: str = ""
    unverified: bool = False


class VialPlan(BaseModel):
    """The vials opened for one infusion, and how the claim counts them."""

    model_config = ConfigDict(frozen=True)

    prescribed_g: Decimal
    dose_g: Decimal = Field(description="what is given, after any payer rounding")
    rounding_note: str
    vials: tuple[VialCount, ...]
    opened_g: Decimal
    waste_g: Decimal
    billing_unit_mg: int
    units_administered: int
    units_discarded: int

    @property
    def vial_count(self) -> int:
        return sum(v.count for v in self.vials)

    @property
    def units_billed(self) -> int:
        return self.units_administered + self.units_discarded

    def describe(self) -> str:
        return " + ".join(f"{v.count} × {plain_number(v.size_g)} g" for v in self.vials)


def _scale(values: list[Decimal]) -> int:
    """The power of ten that makes every value a whole number."""
    places = 0
    for value in values:
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < 0:
            places = max(places, -exponent)
    return 10**places


class _Grid:
    """Every total whole vials can make, up to a limit, with the fewest vials for each."""

    def __init__(self, vial_sizes_g: tuple[Decimal, ...], up_to_g: Decimal) -> None:
        if not vial_sizes_g or any(size <= 0 for size in vial_sizes_g):
            raise ValueError("a product needs at least one vial size above 0 g")
        # The grid comes from the vial sizes alone, so a dose with many decimals
        # cannot make it finer (and the table larger) than the vials allow.
        self.scale = _scale(list(vial_sizes_g))
        scaled = [int(size * self.scale) for size in vial_sizes_g]
        self.step = 0
        for size in scaled:
            self.step = gcd(self.step, size)
        # Largest first, so that among equally few vials the larger ones are kept.
        self.sizes = sorted({size // self.step for size in scaled}, reverse=True)
        # A least-waste cover never overshoots by a whole largest vial.
        dose_steps = int(self.to_grid(up_to_g).to_integral_value(rounding=ROUND_CEILING))
        self.limit = dose_steps + max(self.sizes)
        if self.limit > MAX_GRID_STEPS:
            raise ValueError(f"{plain_number(up_to_g)} g is far beyond any single infusion")
        self.fewest: list[int | None] = [None] * (self.limit + 1)
        self.last: list[int] = [0] * (self.limit + 1)
        self.fewest[0] = 0
        for total in range(1, self.limit + 1):
            for size in self.sizes:
                before = total - size
                if before < 0 or self.fewest[before] is None:
                    continue
                count = self.fewest[before] + 1  # type: ignore[operator]
                current = self.fewest[total]
                if current is None or count < current:
                    self.fewest[total] = count
                    self.last[total] = size

    def to_grid(self, amount_g: Decimal) -> Decimal:
        return amount_g * self.scale / self.step

    def to_g(self, total: int) -> Decimal:
        return Decimal(total * self.step) / self.scale

    def smallest_at_least(self, amount_g: Decimal) -> int:
        start = max(0, int(self.to_grid(amount_g).to_integral_value(rounding=ROUND_CEILING)))
        for total in range(start, self.limit + 1):
            if self.fewest[total] is not None:
                return total
        raise AssertionError("a cover always exists within one largest vial")

    def largest_at_most(self, amount_g: Decimal) -> int | None:
        top = min(self.limit, int(self.to_grid(amount_g).to_integral_value(rounding=ROUND_FLOOR)))
        for total in range(top, 0, -1):
            if self.fewest[total] is not None:
                return total
        return None

    def vials(self, total: int) -> tuple[VialCount, ...]:
        counts: dict[int, int] = {}
        while total > 0:
            size = self.last[total]
            counts[size] = counts.get(size, 0) + 1
            total -= size
        return tuple(
            VialCount(size_g=self.to_g(size), count=counts[size])
            for size in sorted(counts, reverse=True)
        )


def least_waste_vials(dose_g: Decimal, vial_sizes_g: tuple[Decimal, ...]) -> tuple[VialCount, ...]:
    """The vial combination that covers a dose with the least waste, fewest vials among equals."""
    if dose_g <= 0:
        return ()
    grid = _Grid(vial_sizes_g, dose_g)
    return grid.vials(grid.smallest_at_least(dose_g))


def rounded_dose_g(
    dose_g: Decimal, vial_sizes_g: tuple[Decimal, ...], rounding: VialRounding
) -> tuple[Decimal, str]:
    """Apply a payer's rounding to one infusion's dose; return the dose and what was done."""
    if rounding.rule is RoundingRule.NONE or dose_g <= 0:
        return dose_g, "Dose not rounded."
    mark = " (unverified)" if rounding.unverified else ""
    source = f" ({rounding.source})" if rounding.source else ""
    if rounding.rule is RoundingRule.NEAREST_STEP:
        assert rounding.step_g is not None
        stepped = round_dose_g(dose_g, rounding.step_g)
        if stepped <= 0:
            return dose_g, f"Dose not rounded: {plain_number(dose_g)} g is below half a step."
        if abs(stepped - dose_g) > dose_g * rounding.tolerance_percent / 100:
            return dose_g, (
                f"Dose not rounded: the nearest {plain_number(rounding.step_g)} g step "
                f"({plain_number(stepped)} g) is more than {rounding.tolerance_percent}% from "
                f"{plain_number(round_dose_g(dose_g))} g."
            )
        if stepped == dose_g:
            return dose_g, (
                f"Dose {plain_number(dose_g)} g is already a multiple of "
                f"{plain_number(rounding.step_g)} g{source}{mark}."
            )
        return stepped, (
            f"Dose {plain_number(round_dose_g(dose_g))} g {rounding.describe()}: "
            f"{plain_number(stepped)} g{source}{mark}."
        )
    grid = _Grid(vial_sizes_g, dose_g)
    tolerance_g = dose_g * rounding.tolerance_percent / 100
    candidates = []
    below = grid.largest_at_most(dose_g)
    if below is not None:
        candidates.append(grid.to_g(below))
    candidates.append(grid.to_g(grid.smallest_at_least(dose_g)))
    within = [
        c
        for c in candidates
        if abs(c - dose_g) <= tolerance_g and not (rounding.down_only and c > dose_g)
    ]
    if not within:
        return dose_g, (
            f"Dose not rounded: no whole-vial amount is within {rounding.tolerance_percent}% "
            f"of {plain_number(round_dose_g(dose_g))} g."
        )
    # Nearest wins; on a tie the lower amount, as the policies speak of rounding down.
    chosen = min(within, key=lambda c: (abs(c - dose_g), c))
    if chosen == dose_g:
        return dose_g, (
            f"Dose {plain_number(round_dose_g(dose_g))} g is already a whole number of vials."
        )
    return chosen, (
        f"Dose {plain_number(round_dose_g(dose_g))} g {rounding.describe()}: "
        f"{plain_number(chosen)} g{source}{mark}."
    )


def plan_vials(dose_g: Decimal, product: Product, rounding: VialRounding = NO_ROUNDING) -> VialPlan:
    """Choose the vials for one infusion and count its billed and discarded units."""
    given_g, note = rounded_dose_g(dose_g, product.vial_sizes_g, rounding)
    vials = least_waste_vials(given_g, product.vial_sizes_g)
    opened_g = sum((v.size_g * v.count for v in vials), Decimal(0))
    unit_mg = Decimal(product.billing_unit_mg)
    administered = ceil_units(given_g * MG_PER_G, unit_mg)
    discarded = max(0, floor_units(opened_g * MG_PER_G, unit_mg) - administered)
    return VialPlan(
        prescribed_g=dose_g,
        dose_g=given_g,
        rounding_note=note,
        vials=vials,
        opened_g=opened_g,
        waste_g=opened_g - given_g,
        billing_unit_mg=product.billing_unit_mg,
        units_administered=administered,
        units_discarded=discarded,
    )


def billed_lines(plan: VialPlan, hcpcs: str) -> tuple[BilledLine, ...]:
    """The drug lines of a claim: administered units, then JW for discarded units or JZ for none."""
    if plan.units_discarded > 0:
        return (
            BilledLine(hcpcs=hcpcs, modifier=None, units=plan.units_administered, discarded=False),
            BilledLine(
                hcpcs=hcpcs,
                modifier=Modifier.JW,
                units=plan.units_discarded,
                discarded=True,
                note=f"{plain_number(plan.waste_g)} g left in opened single-dose vials, discarded",
            ),
        )
    if plan.waste_g > 0:
        return (
            BilledLine(
                hcpcs=hcpcs,
                modifier=Modifier.JZ,
                units=plan.units_administered,
                discarded=False,
                note=f"{plain_number(plan.waste_g)} g left over is less than one billing unit, "
                "so no units are billable as waste; whether JZ fits a sub-unit remainder is "
                "unverified: check with the contractor",
                unverified=True,
            ),
        )
    return (
        BilledLine(
            hcpcs=hcpcs, modifier=Modifier.JZ, units=plan.units_administered, discarded=False
        ),
    )
