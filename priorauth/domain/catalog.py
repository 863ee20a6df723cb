"""Products as the rest of the domain sees them: what a vial holds, how it bills, how it runs.

Facts come from forms/products.toml, never from here; this module only says
their shape. Which rate ladder applies is matched on indication ids, so an
indication named ``itp_adult`` finds a schedule written for ``itp``.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .subcutaneous import QuantityLimit, RampUp, ScConversion, ScSites


class Route(StrEnum):
    IV = "iv"
    SC = "sc"


class Excipient(StrEnum):
    """What a product is stabilized with, as far as the safety checks need to know."""

    PROLINE = "proline"
    GLYCINE = "glycine"
    MALTOSE = "maltose"
    SORBITOL = "sorbitol"
    SUCROSE = "sucrose"
    POLYSORBATE_80 = "polysorbate_80"
    HYALURONIDASE = "hyaluronidase"


SUGARS = frozenset({Excipient.MALTOSE, Excipient.SORBITOL, Excipient.SUCROSE})


class Condition(StrEnum):
    """Patient conditions that a product's label or a payer treats as a contraindication."""

    HYPERPROLINEMIA = "hyperprolinemia"
    HEREDITARY_FRUCTOSE_INTOLERANCE = "hereditary_fructose_intolerance"
    HYALURONIDASE_HYPERSENSITIVITY = "hyaluronidase_hypersensitivity"


CONDITION_LABELS = {
    Condition.HYPERPROLINEMIA: "hyperprolinemia",
    Condition.HEREDITARY_FRUCTOSE_INTOLERANCE: "hereditary fructose intolerance",
    Condition.HYALURONIDASE_HYPERSENSITIVITY: "hypersensitivity to hyaluronidase",
}


class RiskKind(StrEnum):
    RENAL = "renal"
    THROMBOSIS = "thrombosis"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def indication_matches(tag: str, indication_id: str) -> bool:
    """True when a tag names the indication or its family (itp matches itp_adult)."""
    return indication_id == tag or indication_id.startswith(tag + "_")


class Contraindication(Frozen):
    condition: Condition
    source: str
    unverified: bool = False


class RateSchedule(Frozen):
    """A label's titration ladder: rates in mg IgG per kg per minute, and how long each runs.

    ``steps_mg_per_kg_per_min`` lists every rate before the maximum, starting with
    the start rate; when a source gives only a fixed increment, leave it empty and
    give ``increment_mg_per_kg_per_min``. The maximum runs until the dose is in.
    """

    indications: tuple[str, ...] = ()
    default: bool = Field(
        default=False, description="used, marked so, for an indication no schedule names"
    )
    start_mg_per_kg_per_min: Decimal = Field(gt=0)
    start_minutes: int = Field(gt=0, le=120)
    steps_mg_per_kg_per_min: tuple[Decimal, ...] = ()
    increment_mg_per_kg_per_min: Decimal | None = Field(default=None, gt=0)
    step_minutes: int = Field(gt=0, le=120)
    max_mg_per_kg_per_min: Decimal = Field(gt=0)
    at_risk_max_mg_per_kg_per_min: Decimal | None = Field(default=None, gt=0)
    at_risk_kinds: tuple[RiskKind, ...] = (RiskKind.RENAL, RiskKind.THROMBOSIS)
    source: str
    # Field names of this schedule that no source confirmed.
    unverified: tuple[str, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _ladder_consistent(self) -> RateSchedule:
        if self.start_mg_per_kg_per_min > self.max_mg_per_kg_per_min:
            raise ValueError("the start rate is above the maximum rate")
        steps = self.steps_mg_per_kg_per_min
        if steps:
            if steps[0] != self.start_mg_per_kg_per_min:
                raise ValueError("steps_mg_per_kg_per_min must begin with the start rate")
            if any(b <= a for a, b in pairwise(steps)):
                raise ValueError("steps_mg_per_kg_per_min must increase")
            if steps[-1] >= self.max_mg_per_kg_per_min:
                raise ValueError("every step must be below the maximum rate")
        elif (
            self.increment_mg_per_kg_per_min is None
            and self.start_mg_per_kg_per_min < self.max_mg_per_kg_per_min
        ):
            raise ValueError(
                "give steps_mg_per_kg_per_min or increment_mg_per_kg_per_min: "
                "the ladder between the start and the maximum rate"
            )
        if (
            self.at_risk_max_mg_per_kg_per_min is not None
            and self.at_risk_max_mg_per_kg_per_min > self.max_mg_per_kg_per_min
        ):
            raise ValueError("the at-risk maximum is above the ordinary maximum")
        unknown = [name for name in self.unverified if name not in type(self).model_fields]
        if unknown:
            raise ValueError(f"unverified names unknown fields: {', '.join(unknown)}")
        return self

    def ladder_mg_per_kg_per_min(self) -> tuple[Decimal, ...]:
        """Every rate below the maximum, in order, starting with the start rate."""
        if self.steps_mg_per_kg_per_min:
            return self.steps_mg_per_kg_per_min
        rates: list[Decimal] = []
        rate = self.start_mg_per_kg_per_min
        while rate < self.max_mg_per_kg_per_min:
            rates.append(rate)
            if self.increment_mg_per_kg_per_min is None:
                break
            rate += self.increment_mg_per_kg_per_min
        return tuple(rates)

    def applies_to(self, indication_id: str) -> bool:
        return any(indication_matches(tag, indication_id) for tag in self.indications)

    def is_unverified(self, field: str) -> bool:
        return field in self.unverified


class Product(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    manufacturer: str
    route: Route
    concentration_percent: Decimal = Field(gt=0, le=30)
    vial_sizes_g: tuple[Decimal, ...] = Field(min_length=1)
    hcpcs: str
    hcpcs_descriptor: str = ""
    billing_unit_mg: int = Field(gt=0)
    labeled_indications: tuple[str, ...] = ()
    max_g_per_kg_per_day: Decimal | None = None
    iga_content: str = ""
    # The labeled IgA figure in mcg/mL (average or maximum: iga_content says which).
    iga_mcg_per_ml: Decimal | None = Field(default=None, ge=0)
    stabilizer: str = ""
    contains_sugar: str = ""
    excipients: tuple[Excipient, ...] = ()
    contraindications: tuple[Contraindication, ...] = ()
    rate_schedules: tuple[RateSchedule, ...] = ()
    # An IV product the label also allows under the skin, for these indications
    # (Gammagard Liquid and Gamunex-C in PI); an SC product needs none.
    subcutaneous_for: tuple[str, ...] = ()
    sc_conversion: tuple[ScConversion, ...] = ()
    sc_sites: ScSites | None = None
    # Weeks an SC course may span (weekly or every two weeks unless the label says more).
    sc_intervals_weeks: tuple[Decimal, ...] = (Decimal(1), Decimal(2))
    ramp_up: RampUp | None = None
    sc_quantity_limits: tuple[QuantityLimit, ...] = ()
    storage: str = ""
    discontinued: bool = False
    # Field names whose values no source confirmed: the app shows them marked.
    unverified: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Product:
        unknown = [name for name in self.unverified if name not in type(self).model_fields]
        if unknown:
            raise ValueError(f"unverified names unknown fields: {', '.join(unknown)}")
        if any(size <= 0 for size in self.vial_sizes_g):
            raise ValueError("every vial size must be more than 0 g")
        if len(set(self.vial_sizes_g)) != len(self.vial_sizes_g):
            raise ValueError("a vial size is listed twice")
        defaults = [s for s in self.rate_schedules if s.default]
        if len(defaults) > 1:
            raise ValueError("only one rate schedule can be the default")
        return self

    def is_unverified(self, field: str) -> bool:
        return field in self.unverified

    @property
    def concentration_mg_per_ml(self) -> Decimal:
        # 10 % w/v is 10 g per 100 mL, i.e. 100 mg/mL.
        return self.concentration_percent * 10

    @property
    def sugars(self) -> tuple[Excipient, ...]:
        return tuple(e for e in self.excipients if e in SUGARS)

    def given_by(self, route: Route, indication_id: str) -> bool:
        """Whether the label gives the product by a route (some IV products also SC)."""
        if route == self.route:
            return True
        return route == Route.SC and any(
            indication_matches(tag, indication_id) for tag in self.subcutaneous_for
        )

    def conversion_for(self, indication_id: str) -> ScConversion | None:
        return next(
            (
                c
                for c in self.sc_conversion
                if any(indication_matches(tag, indication_id) for tag in c.indications)
            ),
            None,
        )

    def quantity_limit(self, indication_id: str) -> QuantityLimit | None:
        """The SCIG quantity limit for the indication, or the one that names none."""
        for limit in self.sc_quantity_limits:
            if any(indication_matches(tag, indication_id) for tag in limit.indications):
                return limit
        return next((q for q in self.sc_quantity_limits if not q.indications), None)

    def labeled_for(self, indication_id: str) -> bool:
        return any(indication_matches(tag, indication_id) for tag in self.labeled_indications)

    def rate_schedule(self, indication_id: str) -> tuple[RateSchedule | None, bool]:
        """The ladder for an indication, and whether it is only the product's default."""
        for schedule in self.rate_schedules:
            if schedule.applies_to(indication_id):
                return schedule, False
        default = next((s for s in self.rate_schedules if s.default), None)
        return default, default is not None
