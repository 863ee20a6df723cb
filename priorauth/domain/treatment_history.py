"""What the patient was treated with before: therapies tried, and classes never given.

A therapy class never given is recorded with its reason instead of invented
dates; whether it counts toward a payer's step therapy is the rules' question.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from pydantic import ValidationInfo, field_validator

from .facts import THERAPY_CLASSES
from .model import EARLIEST_DATE, LongText, Model, RequiredText, Text, validation_today

THERAPY_CLASS_IDS = frozenset(key for key, _ in THERAPY_CLASSES)


class TherapyOutcome(StrEnum):
    INADEQUATE_RESPONSE = "inadequate_response"
    INTOLERANCE = "intolerance"
    CONTRAINDICATED = "contraindicated"
    # The course a continuation renews: given, not failed. Its response is what the
    # continuation's current measures show, so none is written here (never guessed).
    CURRENT_COURSE = "current_course"
    # An immune globulin course whose response the person has recorded (a renewal's
    # course once its measures are in): a course that responded is never a failure.
    # A course with no response is an inadequate response (a failed trial).
    RESPONDED = "responded"
    PARTIAL_RESPONSE = "partial_response"


OUTCOME_LABELS = {
    TherapyOutcome.INADEQUATE_RESPONSE: "Inadequate response",
    TherapyOutcome.INTOLERANCE: "Intolerance",
    TherapyOutcome.CONTRAINDICATED: "Contraindicated",
    TherapyOutcome.CURRENT_COURSE: (
        "Current course, renewed by this request (response: see the current measures)"
    ),
    TherapyOutcome.RESPONDED: "Responded",
    TherapyOutcome.PARTIAL_RESPONSE: "Partial response",
}

# The outcomes that make a therapy a failed trial (step therapy counts only these).
FAILED_OUTCOMES = frozenset(
    {
        TherapyOutcome.INADEQUATE_RESPONSE,
        TherapyOutcome.INTOLERANCE,
        TherapyOutcome.CONTRAINDICATED,
    }
)


class PriorTherapy(Model):
    agent: RequiredText
    therapy_class: str
    start: dt.date
    end: dt.date | None = None
    dose: Text = ""
    outcome: TherapyOutcome
    note: LongText = ""

    @field_validator("therapy_class")
    @classmethod
    def _known_class(cls, value: str) -> str:
        if value not in THERAPY_CLASS_IDS:
            raise ValueError(f"unknown therapy class {value!r}")
        return value

    @field_validator("start")
    @classmethod
    def _started(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        if value > validation_today(info):
            raise ValueError("a prior therapy cannot start in the future")
        if value < EARLIEST_DATE:
            raise ValueError("start date is before 1900")
        return value

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("start")
        if value is not None and start is not None and value < start:
            raise ValueError("the therapy ends before it starts")
        return value

    def duration_weeks(self, as_of: dt.date) -> Decimal:
        end = self.end or as_of
        return Decimal((end - self.start).days) / Decimal(7)


class NeverTriedReason(StrEnum):
    CONTRAINDICATED = "contraindicated"
    NOT_TOLERATED = "not_tolerated"
    DECLINED = "declined"
    NOT_TRIED = "not_tried"


NEVER_TRIED_LABELS = {
    NeverTriedReason.CONTRAINDICATED: "Contraindicated",
    NeverTriedReason.NOT_TOLERATED: "Not tolerated (not given)",
    NeverTriedReason.DECLINED: "Declined by the patient",
    NeverTriedReason.NOT_TRIED: "Not tried",
}


class NeverTried(Model):
    """A therapy class the patient has not been given, with the reason: no dates to invent."""

    therapy_class: str
    reason: NeverTriedReason
    note: LongText = ""

    @field_validator("therapy_class")
    @classmethod
    def _known_class(cls, value: str) -> str:
        if value not in THERAPY_CLASS_IDS:
            raise ValueError(f"unknown therapy class {value!r}")
        return value
