"""Units and rounding: every conversion and every rounding of a dose or a sum of money.

Doses and money are Decimal. Each is rounded in exactly one named function here,
so a reviewer who asks "how was 164.4 g arrived at?" finds one answer.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

# Exact by definition (international yard and pound agreement, 1959).
KG_PER_LB = Decimal("0.45359237")
CM_PER_IN = Decimal("2.54")

DOSE_DISPLAY_STEP_G = Decimal("0.1")
WEIGHT_DISPLAY_STEP_KG = Decimal("0.1")


def lb_to_kg(weight_lb: Decimal) -> Decimal:
    return weight_lb * KG_PER_LB


def in_to_cm(height_in: Decimal) -> Decimal:
    return height_in * CM_PER_IN


def cm_to_in(height_cm: Decimal) -> Decimal:
    return height_cm / CM_PER_IN


def round_weight_kg(weight_kg: Decimal) -> Decimal:
    """Round a body weight for display and for dosing (0.1 kg, half up)."""
    return weight_kg.quantize(WEIGHT_DISPLAY_STEP_KG, rounding=ROUND_HALF_UP)


def round_dose_g(dose_g: Decimal, step_g: Decimal | None = None) -> Decimal:
    """Round a dose in grams: to the payer's step when it has one, else to 0.1 g.

    Half up, so that a dose exactly between two steps is not cut below what was
    prescribed. A payer step (Ontario rounds the total dose to the nearest 5 g)
    comes from the payer profile, never from here.
    """
    step = step_g if step_g is not None and step_g > 0 else DOSE_DISPLAY_STEP_G
    steps = (dose_g / step).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return (steps * step).quantize(DOSE_DISPLAY_STEP_G, rounding=ROUND_HALF_UP)


def ceil_units(amount: Decimal, unit: Decimal) -> int:
    """Whole billing units that cover an amount (round up, never bill a fraction)."""
    return int((amount / unit).to_integral_value(rounding=ROUND_CEILING))


def round_money(amount: Decimal) -> Decimal:
    """Round money to the cent, half up."""
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
