"""The regimen a case asks for: product, dose, schedule, and how the infusion is to run.

Regimens as people order them: a series of courses at an interval, or one course
alone (no interval: Kawasaki disease, Guillain-Barré syndrome); a loading course
before maintenance; a subcutaneous course of one or two weeks given in one to
seven infusion days (weekly, every two weeks, or "daily push"); the IV regimen a
switch to subcutaneous starts from; and the patient's own infusion plan (the
premedication and the rate the patient tolerates). Whether a regimen is within
an indication's limits is the rules' question.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from .model import EARLIEST_DATE, Model, Text

# A subcutaneous course is one or two weeks (weekly or every two weeks); HyQvia's
# facilitated course runs longer and the product catalog says so.
MAX_SC_DAYS_PER_COURSE = 7


class LoadingDose(Model):
    """A loading course given once before the maintenance courses (e.g. CIDP 2 g/kg)."""

    dose_g_per_kg: Decimal = Field(gt=0, le=Decimal("5"), description="for the loading course")
    days: int = Field(ge=1, le=10, description="infusion days of the loading course")


class IvSwitch(Model):
    """The IV regimen a subcutaneous regimen replaces: the label's conversion starts from it."""

    iv_dose_g: Decimal = Field(gt=0, le=Decimal("500"), description="grams per IV course")
    iv_interval_weeks: Decimal = Field(gt=0, le=Decimal("8"), description="weeks between courses")


class Regimen(Model):
    product_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
    phase: str | None = None
    dose_g_per_kg: Decimal = Field(gt=0, le=Decimal("5"), description="per course")
    days_per_course: int = Field(ge=1, le=10)
    courses_requested: int | None = Field(default=None, ge=1, le=52)
    months_requested: int | None = Field(default=None, ge=1, le=24, validate_default=True)
    # None: one course, no repeat (the letter says "one course", never "every 4 weeks").
    interval_weeks: Decimal | None = Field(
        default=None, gt=0, le=Decimal("52"), validate_default=True
    )
    start_date: dt.date
    loading: LoadingDose | None = None
    switch_from_iv: IvSwitch | None = None
    premedication: Text = Field(default="", description="as ordered, e.g. acetaminophen 650 mg")
    tolerated_rate_mg_per_kg_per_min: Decimal | None = Field(
        default=None,
        gt=0,
        le=Decimal("20"),
        description="the fastest rate this patient has tolerated; the plan never exceeds it",
    )

    @field_validator("months_requested")
    @classmethod
    def _duration_given(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and info.data.get("courses_requested") is None:
            raise ValueError("give the number of courses or of months requested")
        return value

    @field_validator("interval_weeks")
    @classmethod
    def _interval_unless_one_course(
        cls, value: Decimal | None, info: ValidationInfo
    ) -> Decimal | None:
        if value is None and info.data.get("courses_requested") != 1:
            raise ValueError(
                "give the weeks between courses, or request one course (courses requested: 1)"
            )
        return value

    @field_validator("start_date")
    @classmethod
    def _plausible_start(cls, value: dt.date) -> dt.date:
        if value < EARLIEST_DATE:
            raise ValueError("start date is before 1900")
        return value

    @property
    def single_course(self) -> bool:
        """One course, not repeated: no interval is given."""
        return self.interval_weeks is None
