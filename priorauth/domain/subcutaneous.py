"""Subcutaneous immune globulin: the switch from IV, the ramp-up, the sites, the payer limits.

Facts come from forms/products.toml (sources in
../shared/reference/ivig-products-billing.md §1.2, §1.3); this module gives
their shape and the arithmetic:

- Switching from IV: weekly SC dose = previous IV dose (g) × the label's factor
  ÷ weeks between IV doses (1.37 for Hizentra in PI, DailyMed Apr 2023; 1.37 for
  Gammagard Liquid SC, gammagard.com). Every two weeks is twice the weekly dose.
- Sites: the volume is spread over as many sites as the label's volume per site
  needs, all infused at once at the label's rate per site, so the time is the
  volume of one site over the rate per site.
- HyQvia's ramp-up: fractions of the target dose on given weeks (label example
  for a 4-week target: 7.5, 15, 22.5 and 30 g in weeks 1, 2, 4 and 7).
- Payer quantity limits for SCIG (policy PH-90059, 08/01/2024): grams per week
  and billing units per 28 days.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .quantities import plain_number, round_volume_ml

MINUTES_PER_HOUR = Decimal(60)
DAYS_PER_28 = Decimal(28)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScConversion(_Frozen):
    """The label's factor from an IV dose to the weekly SC dose, for some indications."""

    factor: Decimal = Field(gt=0, le=3)
    indications: tuple[str, ...] = Field(min_length=1)
    source: str
    unverified: bool = False


class SiteBand(_Frozen):
    """Volume and rate per site for patients from a weight up."""

    min_weight_kg: Decimal = Field(default=Decimal(0), ge=0)
    ml_per_site: Decimal = Field(gt=0)
    ml_per_h_per_site: Decimal = Field(gt=0)


class ScSites(_Frozen):
    """How the label spreads a subcutaneous dose over sites."""

    bands: tuple[SiteBand, ...] = Field(min_length=1)
    max_sites: int = Field(ge=1, le=12)
    max_ml_per_day: Decimal | None = Field(default=None, gt=0)
    source: str
    unverified: bool = False
    note: str = ""

    def band(self, weight_kg: Decimal) -> SiteBand:
        """The band for a weight: the one with the highest floor at or below it."""
        fitting = [b for b in self.bands if weight_kg >= b.min_weight_kg]
        if not fitting:
            return min(self.bands, key=lambda b: b.min_weight_kg)
        return max(fitting, key=lambda b: b.min_weight_kg)


class RampStep(_Frozen):
    week: int = Field(ge=1, le=52)
    fraction: Decimal = Field(gt=0, le=1)


class RampUp(_Frozen):
    """A label's ramp-up to the target dose, written for one target interval."""

    interval_weeks: Decimal = Field(gt=0)
    steps: tuple[RampStep, ...] = Field(min_length=1)
    source: str
    unverified: bool = False

    @model_validator(mode="after")
    def _ends_at_target(self) -> RampUp:
        if self.steps[-1].fraction != 1:
            raise ValueError("a ramp-up ends at the full target dose (fraction 1)")
        return self


class QuantityLimit(_Frozen):
    """A payer's SCIG quantity limit for a product (per week, per 28 days)."""

    indications: tuple[str, ...] = ()
    g_per_week: Decimal | None = Field(default=None, gt=0)
    units_per_28_days: int | None = Field(default=None, gt=0)
    source: str
    unverified: bool = False


class SitePlan(_Frozen):
    """One subcutaneous infusion day spread over sites."""

    sites: int
    ml_per_site: Decimal
    ml_per_h_per_site: Decimal
    minutes: Decimal
    label_ml_per_site: Decimal
    over_max_sites: bool
    over_max_ml_per_day: bool
    unverified: bool

    @property
    def ml_per_site_shown(self) -> Decimal:
        """The volume per site as every page writes it (0.1 mL)."""
        return round_volume_ml(self.ml_per_site)


class RampDose(_Frozen):
    week: int
    dose_g: Decimal


def weekly_from_iv(iv_dose_g: Decimal, iv_interval_weeks: Decimal, factor: Decimal) -> Decimal:
    """Weekly SC dose from the previous IV dose: IV dose × factor ÷ weeks between IV doses."""
    return iv_dose_g * factor / iv_interval_weeks


def plan_sites(volume_ml: Decimal, weight_kg: Decimal, sites: ScSites) -> SitePlan:
    """Spread one day's volume over the label's sites; the time is one site's volume at its rate."""
    band = sites.band(weight_kg)
    needed = max(1, int((volume_ml / band.ml_per_site).to_integral_value(rounding=ROUND_CEILING)))
    used = min(needed, sites.max_sites)
    per_site = volume_ml / used
    return SitePlan(
        sites=used,
        ml_per_site=per_site,
        ml_per_h_per_site=band.ml_per_h_per_site,
        minutes=per_site / band.ml_per_h_per_site * MINUTES_PER_HOUR,
        label_ml_per_site=band.ml_per_site,
        over_max_sites=needed > sites.max_sites,
        over_max_ml_per_day=sites.max_ml_per_day is not None and volume_ml > sites.max_ml_per_day,
        unverified=sites.unverified,
    )


def ramp_up_doses(target_course_g: Decimal, ramp: RampUp) -> tuple[RampDose, ...]:
    """The ramp-up's doses for a target course dose (grams per target interval)."""
    return tuple(
        RampDose(week=step.week, dose_g=target_course_g * step.fraction) for step in ramp.steps
    )


def per_28_days(amount: Decimal, interval_weeks: Decimal) -> Decimal:
    """An amount given every interval, counted over 28 days."""
    return amount * DAYS_PER_28 / (interval_weeks * 7)


def describe_limit(limit: QuantityLimit) -> str:
    parts = []
    if limit.g_per_week is not None:
        parts.append(f"{plain_number(limit.g_per_week)} g per week")
    if limit.units_per_28_days is not None:
        parts.append(f"{limit.units_per_28_days} billing units per 28 days")
    return " and ".join(parts)
