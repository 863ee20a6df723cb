"""Units and rounding: every conversion and every rounding of a dose or a sum of money.

Doses and money are Decimal. Each is rounded in exactly one named function here,
so a reviewer who asks "how was 164.4 g arrived at?" finds one answer.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

# Exact by definition (international yard and pound agreement, 1959).
KG_PER_LB = Decimal("0.45359237")
CM_PER_IN = Decimal("2.54")

DOSE_DISPLAY_STEP_G = Decimal("0.1")
WEIGHT_DISPLAY_STEP_KG = Decimal("0.1")


def plain_number(value: Decimal) -> str:
    """Write a Decimal without trailing zeros or exponent: 160.0 → 160, 0.500 → 0.5.

    The one way a number is written in evidence, messages and documents.
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def lb_to_kg(weight_lb: Decimal) -> Decimal:
    return weight_lb * KG_PER_LB


INCHES_PER_FOOT = Decimal(12)


def feet_inches_to_in(feet: Decimal | None, inches: Decimal | None) -> Decimal:
    """A height typed as feet and inches, in inches; a blank part counts as zero."""
    return (feet or Decimal(0)) * INCHES_PER_FOOT + (inches or Decimal(0))


def in_to_cm(height_in: Decimal) -> Decimal:
    return height_in * CM_PER_IN


def cm_to_in(height_cm: Decimal) -> Decimal:
    return height_cm / CM_PER_IN


def round_weight_kg(weight_kg: Decimal) -> Decimal:
    """Round a body weight for display and for dosing (0.1 kg, half up)."""
    return weight_kg.quantize(WEIGHT_DISPLAY_STEP_KG, rounding=ROUND_HALF_UP)


def dose_step_g(dose_g: Decimal) -> Decimal:
    """The precision a dose is given to: 0.1 g, finer for the small doses of infants.

    A fixed 0.1 g would turn a newborn's 0.04 g push into nothing; three
    significant digits keep every dose within 1 % of what was computed.
    """
    if dose_g >= 10:
        return DOSE_DISPLAY_STEP_G
    if dose_g >= 1:
        return Decimal("0.01")
    return Decimal("0.001")


def round_dose_g(dose_g: Decimal, step_g: Decimal | None = None) -> Decimal:
    """Round a dose in grams: to the payer's step when it has one, else to its precision.

    Half up, so that a dose exactly between two steps is not cut below what was
    prescribed. A payer step (Ontario rounds the total dose to the nearest 5 g)
    comes from the payer profile, never from here.
    """
    step = step_g if step_g is not None and step_g > 0 else dose_step_g(dose_g)
    steps = (dose_g / step).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return steps * step


def ceil_units(amount: Decimal, unit: Decimal) -> int:
    """Whole billing units that cover an amount (round up, never bill a fraction)."""
    return int((amount / unit).to_integral_value(rounding=ROUND_CEILING))


def round_money(amount: Decimal) -> Decimal:
    """Round money to the cent, half up."""
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- Added for issue 4 (vials, infusion, costs): more named roundings, additive only. ---

RATE_DISPLAY_STEP_ML_PER_H = Decimal("0.1")
VOLUME_DISPLAY_STEP_ML = Decimal("0.1")


def split_dose_g(total_g: Decimal, days: int) -> tuple[Decimal, ...]:
    """Split a course dose into infusion-day doses that add up to the course exactly.

    Each day's dose is given to its precision (``dose_step_g``); the first days
    take the extra steps, so no day differs from another by more than one step
    and the course total is never lost to rounding.
    """
    if days < 1:
        raise ValueError("a course has at least one infusion day")
    step = dose_step_g(total_g / days)
    steps = int((total_g / step).to_integral_value(rounding=ROUND_HALF_UP))
    base, extra = divmod(steps, days)
    return tuple((Decimal(base + (1 if day < extra else 0)) * step) for day in range(days))


def floor_units(amount: Decimal, unit: Decimal) -> int:
    """Whole billing units inside an amount (round down: wasted drug is never over-billed)."""
    return int((amount / unit).to_integral_value(rounding=ROUND_FLOOR))


def round_rate_ml_per_h(rate_ml_per_h: Decimal) -> Decimal:
    """Round a pump rate to what an infusion pump is set to (0.1 mL/h, half up)."""
    return rate_ml_per_h.quantize(RATE_DISPLAY_STEP_ML_PER_H, rounding=ROUND_HALF_UP)


def round_volume_ml(volume_ml: Decimal) -> Decimal:
    """Round a volume for display (0.1 mL, half up)."""
    return volume_ml.quantize(VOLUME_DISPLAY_STEP_ML, rounding=ROUND_HALF_UP)


def round_minutes(minutes: Decimal) -> int:
    """Round a duration to whole minutes, half up: infusion time is coded in whole minutes."""
    return int(minutes.to_integral_value(rounding=ROUND_HALF_UP))


def round_percent(value: Decimal) -> Decimal:
    """Round a percentage for display (0.1, half up)."""
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def round_unit_price(amount: Decimal) -> Decimal:
    """Round a price per billing unit to a tenth of a cent, as CMS publishes payment limits."""
    return amount.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
