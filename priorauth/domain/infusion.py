"""The infusion plan: pump rates per step, how long each runs, total time and volume.

Method (../shared/reference/ivig-products-billing.md §6, as manufacturers'
calculators and pharmot/multipurpose-calculator do it):
1. Volume (mL) = dose (g) × 1000 / concentration (mg/mL).
2. Walk the label's titration ladder. A rate in mg/kg/min becomes a pump rate
   in mL/h = rate / concentration × weight (kg) × 60 (Octagam 10 % dosing page).
   Each step runs its minutes; the maximum runs until the volume is in; the
   plan stops early if the volume runs out mid-step.
3. Pre- and post-infusion time is not infusion time and is not counted.

For a patient at risk of renal failure or thrombosis, the label's lower maximum
caps every step, and so does the fastest rate the patient is known to tolerate.
Pump rates use the weight the dose was computed on, so a patient dosed on
adjusted weight is never run faster per kilogram than that.

A subcutaneous infusion is spread over sites at the label's volume and rate per
site (subcutaneous.plan_sites); its time is one site's volume at that rate.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from .catalog import Product, RateSchedule, RiskKind, Route
from .quantities import plain_number, round_minutes, round_rate_ml_per_h, round_volume_ml
from .subcutaneous import SitePlan, plan_sites

MINUTES_PER_HOUR = Decimal(60)
MG_PER_G = Decimal(1000)

RISK_LABELS = {RiskKind.RENAL: "renal failure", RiskKind.THROMBOSIS: "thrombosis"}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class LadderStep(Frozen):
    """One rung of a ladder: a rate and how long it runs (None: until the dose is in)."""

    rate_mg_per_kg_per_min: Decimal
    minutes: int | None


class InfusionStep(Frozen):
    rate_mg_per_kg_per_min: Decimal
    rate_ml_per_h: Decimal
    minutes: Decimal
    volume_ml: Decimal
    is_final: bool

    @property
    def pump_rate_ml_per_h(self) -> Decimal:
        return round_rate_ml_per_h(self.rate_ml_per_h)

    @property
    def minutes_rounded(self) -> int:
        return round_minutes(self.minutes)

    @property
    def volume_ml_rounded(self) -> Decimal:
        return round_volume_ml(self.volume_ml)


class InfusionPlan(Frozen):
    """How one infusion day runs, or why it cannot be planned from the catalog."""

    product_id: str
    product_name: str
    indication_id: str
    weight_kg: Decimal
    dose_g: Decimal
    concentration_mg_per_ml: Decimal
    volume_ml: Decimal
    steps: tuple[InfusionStep, ...] = ()
    total_minutes: Decimal | None = None
    max_rate_mg_per_kg_per_min: Decimal | None = None
    at_risk_cap_applied: bool = False
    schedule_source: str = ""
    schedule_is_default: bool = False
    unverified_fields: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    route: Route = Route.IV
    # Subcutaneous: how the day's volume is spread over sites.
    sites: SitePlan | None = None
    # The patient's tolerated rate capped the ladder (below the label's maximum).
    tolerated_rate_applied: bool = False
    premedication: str = ""

    @property
    def available(self) -> bool:
        return self.total_minutes is not None

    @property
    def total_minutes_rounded(self) -> int | None:
        return None if self.total_minutes is None else round_minutes(self.total_minutes)

    @property
    def volume_ml_rounded(self) -> Decimal:
        return round_volume_ml(self.volume_ml)

    @property
    def unverified(self) -> bool:
        return bool(self.unverified_fields) or self.schedule_is_default

    def duration_text(self) -> str:
        minutes = self.total_minutes_rounded
        if minutes is None:
            return "not known"
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def volume_ml(dose_g: Decimal, concentration_mg_per_ml: Decimal) -> Decimal:
    """Volume of a dose at a concentration."""
    return dose_g * MG_PER_G / concentration_mg_per_ml


def pump_rate_ml_per_h(
    rate_mg_per_kg_per_min: Decimal, weight_kg: Decimal, concentration_mg_per_ml: Decimal
) -> Decimal:
    """Pump rate for a rate in mg/kg/min (unrounded; round only for display)."""
    return rate_mg_per_kg_per_min / concentration_mg_per_ml * weight_kg * MINUTES_PER_HOUR


def ladder(
    schedule: RateSchedule, cap_mg_per_kg_per_min: Decimal | None = None
) -> list[LadderStep]:
    """The rungs of a schedule, capped at a lower maximum when one applies."""
    top = schedule.max_mg_per_kg_per_min
    if cap_mg_per_kg_per_min is not None:
        top = min(top, cap_mg_per_kg_per_min)
    rungs: list[LadderStep] = []
    for index, rate in enumerate(schedule.ladder_mg_per_kg_per_min()):
        if rate >= top:
            break
        minutes = schedule.start_minutes if index == 0 else schedule.step_minutes
        rungs.append(LadderStep(rate_mg_per_kg_per_min=rate, minutes=minutes))
    rungs.append(LadderStep(rate_mg_per_kg_per_min=top, minutes=None))
    return rungs


def run_ladder(
    rungs: Sequence[LadderStep],
    weight_kg: Decimal,
    total_volume_ml: Decimal,
    concentration_mg_per_ml: Decimal,
) -> tuple[InfusionStep, ...]:
    """Walk the rungs until the volume is in; the last rung runs as long as it takes."""
    steps: list[InfusionStep] = []
    remaining = total_volume_ml
    for index, rung in enumerate(rungs):
        if remaining <= 0:
            break
        rate = pump_rate_ml_per_h(rung.rate_mg_per_kg_per_min, weight_kg, concentration_mg_per_ml)
        last = index == len(rungs) - 1
        full = None if rung.minutes is None else rate * Decimal(rung.minutes) / MINUTES_PER_HOUR
        if last or full is None or full >= remaining:
            minutes = remaining / rate * MINUTES_PER_HOUR
            steps.append(
                InfusionStep(
                    rate_mg_per_kg_per_min=rung.rate_mg_per_kg_per_min,
                    rate_ml_per_h=rate,
                    minutes=minutes,
                    volume_ml=remaining,
                    is_final=True,
                )
            )
            break
        steps.append(
            InfusionStep(
                rate_mg_per_kg_per_min=rung.rate_mg_per_kg_per_min,
                rate_ml_per_h=rate,
                minutes=Decimal(rung.minutes or 0),
                volume_ml=full,
                is_final=False,
            )
        )
        remaining -= full
    return tuple(steps)


def _plan_subcutaneous(product: Product, weight_kg: Decimal, base: InfusionPlan) -> InfusionPlan:
    rule = product.sc_sites
    if rule is None:
        return base.model_copy(
            update={
                "unverified_fields": ("sc_sites",),
                "notes": (
                    f"Subcutaneous: the reference notes give no volume or rate per site for "
                    f"{product.name}; take the sites and the rate from the current label.",
                ),
            }
        )
    volume = base.volume_ml
    sites = plan_sites(volume, weight_kg, rule)
    notes = [
        f"Subcutaneous over {sites.sites} site{'s' if sites.sites != 1 else ''} at once: "
        f"{plain_number(round_volume_ml(sites.ml_per_site))} mL per site at "
        f"{plain_number(sites.ml_per_h_per_site)} mL/h per site ({rule.source})."
    ]
    if sites.over_max_sites:
        notes.append(
            f"The volume needs more than the label's {rule.max_sites} sites at "
            f"{plain_number(sites.label_ml_per_site)} mL per site: split the course over more "
            "infusion days."
        )
    if sites.over_max_ml_per_day and rule.max_ml_per_day is not None:
        notes.append(
            f"{plain_number(round_volume_ml(volume))} mL is more than the label's "
            f"{plain_number(rule.max_ml_per_day)} mL per day: split the course over more days."
        )
    if rule.note:
        notes.append(rule.note)
    return base.model_copy(
        update={
            "sites": sites,
            "total_minutes": sites.minutes,
            "schedule_source": rule.source,
            "unverified_fields": ("sc_sites",) if rule.unverified else (),
            "notes": tuple(notes),
        }
    )


def plan_infusion(
    product: Product,
    indication_id: str,
    weight_kg: Decimal,
    dose_g: Decimal,
    risks: Collection[RiskKind] = (),
    *,
    route: Route | None = None,
    tolerated_rate_mg_per_kg_per_min: Decimal | None = None,
    premedication: str = "",
) -> InfusionPlan:
    """Plan one infusion day from the product's ladder (IV) or its sites (SC)."""
    concentration = product.concentration_mg_per_ml
    total_volume = volume_ml(dose_g, concentration)
    given_by = route or product.route
    base = InfusionPlan(
        product_id=product.id,
        product_name=product.name,
        indication_id=indication_id,
        weight_kg=weight_kg,
        dose_g=dose_g,
        concentration_mg_per_ml=concentration,
        volume_ml=total_volume,
        route=given_by,
        premedication=premedication,
    )
    if given_by is Route.SC:
        return _plan_subcutaneous(product, weight_kg, base)
    schedule, is_default = product.rate_schedule(indication_id)
    if schedule is None:
        return base.model_copy(
            update={
                "unverified_fields": ("rate_schedules",),
                "notes": (
                    f"No infusion-rate ladder for {product.name} is in the reference notes; "
                    "take the rates from the current label.",
                ),
            }
        )

    notes: list[str] = []
    if is_default:
        notes.append(
            f"{product.name} has no ladder for this indication in the reference notes; "
            f"shown: its {', '.join(schedule.indications).upper()} ladder. Confirm on the label."
        )
    cap: Decimal | None = None
    patient_risks = set(risks)
    if patient_risks:
        named = " and ".join(RISK_LABELS[r] for r in sorted(patient_risks))
        covered = patient_risks & set(schedule.at_risk_kinds)
        if schedule.at_risk_max_mg_per_kg_per_min is None:
            notes.append(
                f"Patient at risk of {named}: the reference notes give no lower maximum rate "
                f"for {product.name}; confirm the at-risk rate on the label (unverified)."
            )
        elif covered:
            cap = schedule.at_risk_max_mg_per_kg_per_min
            notes.append(
                f"Patient at risk of {named}: rate capped at {plain_number(cap)} mg/kg/min, the "
                "label's maximum for patients at risk."
            )
        else:
            label_kinds = " and ".join(RISK_LABELS[r] for r in schedule.at_risk_kinds)
            notes.append(
                f"Patient at risk of {named}: the label's lower maximum "
                f"({plain_number(schedule.at_risk_max_mg_per_kg_per_min)} mg/kg/min) is stated for "
                f"{label_kinds} risk only; confirm the rate with the prescriber."
            )
    risk_capped = cap is not None
    tolerated = tolerated_rate_mg_per_kg_per_min
    tolerated_applied = False
    if tolerated is not None and tolerated < min(
        cap or schedule.max_mg_per_kg_per_min, schedule.max_mg_per_kg_per_min
    ):
        cap = tolerated
        tolerated_applied = True
        notes.append(
            f"Rate capped at {plain_number(tolerated)} mg/kg/min, the fastest this patient "
            "has tolerated (as ordered)."
        )
    if schedule.note:
        notes.append(schedule.note)

    rungs = ladder(schedule, cap)
    steps = run_ladder(rungs, weight_kg, total_volume, concentration)
    total = sum((step.minutes for step in steps), Decimal(0))
    unverified = tuple(schedule.unverified)
    if product.is_unverified("rate_schedules") and "rate_schedules" not in unverified:
        unverified = (*unverified, "rate_schedules")
    return base.model_copy(
        update={
            "steps": steps,
            "total_minutes": total,
            "max_rate_mg_per_kg_per_min": rungs[-1].rate_mg_per_kg_per_min,
            "at_risk_cap_applied": risk_capped,
            "tolerated_rate_applied": tolerated_applied,
            "schedule_source": schedule.source,
            "schedule_is_default": is_default,
            "unverified_fields": unverified,
            "notes": tuple(notes),
        }
    )
