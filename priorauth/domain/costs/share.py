"""The patient's share: deductible, coinsurance and the out-of-pocket maximum.

Part B coinsurance of 20 % after the deductible is the general rule, unverified
in the notes; the plan's own figures are inputs here
(../shared/reference/ivig-products-billing.md §3, §7).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from ..catalog import Frozen
from ..quantities import round_money

MEDICARE_PART_B_COINSURANCE_PERCENT = Decimal(20)  # general Part B rule, unverified in notes


class PatientPlan(Frozen):
    """The patient's cost sharing, as staff enter it from the plan's documents."""

    deductible_remaining: Decimal = Field(default=Decimal(0), ge=0)
    coinsurance_percent: Decimal = Field(ge=0, le=100)
    out_of_pocket_max_remaining: Decimal | None = Field(default=None, ge=0)
    source: str = "entered by staff from the patient's plan"
    unverified: bool = False


def medicare_part_b_plan(deductible_remaining: Decimal) -> PatientPlan:
    """Part B cost sharing without a supplement: 20 % after the deductible (unverified)."""
    return PatientPlan(
        deductible_remaining=deductible_remaining,
        coinsurance_percent=MEDICARE_PART_B_COINSURANCE_PERCENT,
        source="Medicare Part B: 20 % coinsurance after the deductible (general rule, "
        "unverified in the reference notes); a Medigap plan may pay the remainder",
        unverified=True,
    )


class OutOfPocket(Frozen):
    allowed: Decimal
    deductible: Decimal
    coinsurance: Decimal
    patient_pays: Decimal
    plan_pays: Decimal
    capped: bool


def estimate_out_of_pocket(allowed: Decimal, plan: PatientPlan) -> OutOfPocket:
    """Deductible first, then coinsurance on the rest, capped at the out-of-pocket maximum."""
    deductible = min(allowed, plan.deductible_remaining)
    coinsurance = round_money((allowed - deductible) * plan.coinsurance_percent / 100)
    patient = deductible + coinsurance
    capped = False
    if plan.out_of_pocket_max_remaining is not None and patient > plan.out_of_pocket_max_remaining:
        patient, capped = plan.out_of_pocket_max_remaining, True
        coinsurance = max(Decimal(0), patient - deductible)
        deductible = min(deductible, patient)
    patient = round_money(patient)
    return OutOfPocket(
        allowed=round_money(allowed),
        deductible=round_money(deductible),
        coinsurance=round_money(coinsurance),
        patient_pays=patient,
        plan_pays=round_money(allowed - patient),
        capped=capped,
    )
