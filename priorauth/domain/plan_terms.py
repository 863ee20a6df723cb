"""The patient's plan terms, as staff enter them from the plan's documents.

Kept on the case (``Coverage.plan_terms``) so the cost summary can work out the
patient's share per infusion, course, authorization period and year. Every
amount is in US dollars for the current plan year; "met" is what the patient
has paid towards it so far this plan year.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, model_validator

from .model import Model, Text

# The largest plan amount staff may enter: beyond any deductible or
# out-of-pocket maximum a US plan sets, so a typo with extra digits is refused.
MAX_PLAN_AMOUNT_USD = Decimal(1_000_000)


def _amount(description: str) -> Decimal:
    return Field(default=Decimal(0), ge=0, le=MAX_PLAN_AMOUNT_USD, description=description)


class PlanTerms(Model):
    """Deductible, coinsurance or copay, and out-of-pocket maximum for the plan year."""

    deductible_usd: Decimal = _amount("the plan year's deductible")
    deductible_met_usd: Decimal = _amount("paid towards the deductible so far this year")
    coinsurance_percent: Decimal | None = Field(default=None, ge=0, le=100)
    copay_per_infusion_usd: Decimal | None = Field(
        default=None, ge=0, le=MAX_PLAN_AMOUNT_USD, description="a fixed amount per infusion day"
    )
    out_of_pocket_max_usd: Decimal | None = Field(default=None, ge=0, le=MAX_PLAN_AMOUNT_USD)
    out_of_pocket_met_usd: Decimal = _amount("paid towards the out-of-pocket maximum so far")
    source: Text = Field(default="", description="where the terms were read, e.g. the plan's SBC")

    @model_validator(mode="after")
    def _consistent(self) -> PlanTerms:
        if (self.coinsurance_percent is None) == (self.copay_per_infusion_usd is None):
            raise ValueError("give either the coinsurance percent or the copay per infusion")
        if self.deductible_met_usd > self.deductible_usd:
            raise ValueError("the deductible met is more than the deductible")
        if (
            self.out_of_pocket_max_usd is not None
            and self.out_of_pocket_met_usd > self.out_of_pocket_max_usd
        ):
            raise ValueError("the out-of-pocket amount met is more than the maximum")
        return self

    @property
    def deductible_remaining_usd(self) -> Decimal:
        return self.deductible_usd - self.deductible_met_usd

    @property
    def out_of_pocket_remaining_usd(self) -> Decimal | None:
        if self.out_of_pocket_max_usd is None:
            return None
        return self.out_of_pocket_max_usd - self.out_of_pocket_met_usd
