"""The patient's safety facts as the clinic records them: None means not recorded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field, field_validator

from .model import Model, Text


class DatedValue(Model):
    """A measured value with the date it was measured."""

    value: Decimal
    date: dt.date

    @field_validator("value")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < 0:
            raise ValueError("enter a number of zero or more")
        return value


class SafetyFacts(Model):
    """What the safety checks need to know about the patient; None means not recorded.

    These change the product, the rate or the site (low-IgA and sugar-free products,
    the label's lower rate for patients at risk); the rules turn them into flags.
    """

    iga_deficient: bool | None = None
    anti_iga_antibodies: bool | None = None
    egfr: DatedValue | None = Field(default=None, description="mL/min/1.73 m²")
    creatinine: DatedValue | None = Field(default=None, description="mg/dL")
    renal_impairment: bool | None = Field(default=None, description="known kidney disease")
    diabetes: bool | None = None
    thrombosis_risk_factors: list[Text] = Field(
        default_factory=list,
        max_length=12,
        description="as the clinic records them, e.g. prior DVT, estrogen use",
    )
    heart_failure_or_fluid_restriction: bool | None = None
    hyperprolinemia: bool | None = None
    hereditary_fructose_intolerance: bool | None = None
    hyaluronidase_hypersensitivity: bool | None = None

    @field_validator("egfr")
    @classmethod
    def _plausible_egfr(cls, value: DatedValue | None) -> DatedValue | None:
        if value is not None and value.value > 200:
            raise ValueError("an eGFR above 200 mL/min/1.73 m² is unlikely; check the number")
        return value

    @field_validator("creatinine")
    @classmethod
    def _plausible_creatinine(cls, value: DatedValue | None) -> DatedValue | None:
        if value is not None and value.value > 30:
            raise ValueError("a creatinine above 30 mg/dL is unlikely; check the unit (mg/dL)")
        return value
