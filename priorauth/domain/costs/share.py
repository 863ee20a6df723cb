"""The patient's share: deductible, coinsurance and the out-of-pocket maximum.

Part B coinsurance of 20 % after the deductible is the general rule, unverified
in the notes; the plan's own figures are inputs here
(../shared/reference/ivig-products-billing.md §3, §7).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from pydantic import Field, model_validator

from ..catalog import Frozen
from ..plan_terms import PlanTerms
from ..quantities import round_money

MEDICARE_PART_B_COINSURANCE_PERCENT = Decimal(20)  # general Part B rule, unverified in notes


class PatientPlan(Frozen):
    """The patient's cost sharing left this plan year, as the share is worked out from."""

    deductible_remaining: Decimal = Field(default=Decimal(0), ge=0)
    coinsurance_percent: Decimal | None = Field(default=None, ge=0, le=100)
    # A fixed amount per infusion day, after the deductible, instead of coinsurance.
    copay_per_infusion: Decimal | None = Field(default=None, ge=0)
    out_of_pocket_max_remaining: Decimal | None = Field(default=None, ge=0)
    source: str = "entered by staff from the patient's plan"
    unverified: bool = False

    @model_validator(mode="after")
    def _one_share(self) -> PatientPlan:
        if (self.coinsurance_percent is None) == (self.copay_per_infusion is None):
            raise ValueError("give either the coinsurance percent or the copay per infusion")
        return self


def plan_from_terms(terms: PlanTerms) -> PatientPlan:
    """The share left this plan year from the terms entered on the case."""
    return PatientPlan(
        deductible_remaining=terms.deductible_remaining_usd,
        coinsurance_percent=terms.coinsurance_percent,
        copay_per_infusion=terms.copay_per_infusion_usd,
        out_of_pocket_max_remaining=terms.out_of_pocket_remaining_usd,
        source=f"plan terms from {terms.source}" if terms.source else "plan terms entered by staff",
    )


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


def shares_in_order(amounts: Sequence[Decimal], plan: PatientPlan) -> tuple[OutOfPocket, ...]:
    """The patient's share of each infusion day in turn, within one plan year.

    The deductible is used up by the first days, then coinsurance (or the copay)
    applies to each day, until the out-of-pocket maximum is reached; after that
    the patient pays nothing more this plan year.
    """
    deductible_left = plan.deductible_remaining
    cap_left = plan.out_of_pocket_max_remaining
    shares = []
    for amount in amounts:
        deductible = min(amount, deductible_left)
        rest = amount - deductible
        if plan.copay_per_infusion is not None:
            cost_share = min(rest, plan.copay_per_infusion) if rest > 0 else Decimal(0)
        else:
            percent = plan.coinsurance_percent or Decimal(0)
            cost_share = round_money(rest * percent / 100)
        patient = deductible + cost_share
        capped = False
        if cap_left is not None and patient >= cap_left:
            capped = patient > cap_left or cap_left == 0
            patient = cap_left
            deductible = min(deductible, patient)
            cost_share = patient - deductible
        deductible_left -= deductible
        if cap_left is not None:
            cap_left -= patient
        shares.append(
            OutOfPocket(
                allowed=round_money(amount),
                deductible=round_money(deductible),
                coinsurance=round_money(cost_share),
                patient_pays=round_money(patient),
                plan_pays=round_money(amount - patient),
                capped=capped,
            )
        )
    return tuple(shares)


def add_shares(shares: Iterable[OutOfPocket]) -> OutOfPocket:
    """Several days' shares as one."""
    items = list(shares)
    return OutOfPocket(
        allowed=sum((s.allowed for s in items), Decimal(0)),
        deductible=sum((s.deductible for s in items), Decimal(0)),
        coinsurance=sum((s.coinsurance for s in items), Decimal(0)),
        patient_pays=sum((s.patient_pays for s in items), Decimal(0)),
        plan_pays=sum((s.plan_pays for s in items), Decimal(0)),
        capped=any(s.capped for s in items),
    )


def estimate_out_of_pocket(allowed: Decimal, plan: PatientPlan) -> OutOfPocket:
    """Deductible first, then coinsurance on the rest, capped at the out-of-pocket maximum."""
    return shares_in_order([allowed], plan)[0]
