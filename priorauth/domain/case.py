"""The case: everything a prior-authorization request says about one patient.

Validation here is about the case itself (a date in the future, an NPI whose
check digit fails, a weight no person has). Whether the case meets a payer's
criteria is the rules layer's question, not this module's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from .facts import ANSWERABLE_KINDS, FACTS, SPECIALTIES, FactKind
from .identifiers import PHONE_MESSAGE, is_icd10_cm, is_phone_number, is_valid_npi, normalise_icd10
from .model import EARLIEST_DATE, LongText, Model, RequiredText, Text, validation_today
from .plan_terms import PlanTerms
from .quantities import in_to_cm, lb_to_kg
from .regimen import Regimen
from .safety_facts import SafetyFacts
from .treatment_history import (
    NeverTried,
    PriorTherapy,
)

# Plausibility limits: outside them a typing slip is far likelier than a patient.
MIN_WEIGHT_KG = Decimal("0.4")  # smallest neonates treated for alloimmune thrombocytopenia
MAX_WEIGHT_KG = Decimal("400")
MIN_HEIGHT_CM = Decimal("25")
MAX_HEIGHT_CM = Decimal("250")


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


class PlanType(StrEnum):
    COMMERCIAL = "commercial"
    MEDICARE = "medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    MEDICAID = "medicaid"
    OTHER = "other"


class SiteOfCare(StrEnum):
    HOSPITAL_OUTPATIENT = "hospital_outpatient"
    INFUSION_CENTER = "infusion_center"
    PHYSICIAN_OFFICE = "physician_office"
    HOME = "home"
    # A hospital stay: Guillain-Barré syndrome, Kawasaki disease, myasthenic crisis.
    INPATIENT = "inpatient"


class RequestType(StrEnum):
    INITIAL = "initial"
    CONTINUATION = "continuation"


class WeightUnit(StrEnum):
    KG = "kg"
    LB = "lb"


class HeightUnit(StrEnum):
    CM = "cm"
    IN = "in"


SITE_LABELS = {
    SiteOfCare.HOSPITAL_OUTPATIENT: "Hospital outpatient infusion",
    SiteOfCare.INFUSION_CENTER: "Free-standing infusion center",
    SiteOfCare.PHYSICIAN_OFFICE: "Physician office",
    SiteOfCare.HOME: "Home infusion",
    SiteOfCare.INPATIENT: "Inpatient (hospital stay)",
}
PLAN_LABELS = {
    PlanType.COMMERCIAL: "Commercial",
    PlanType.MEDICARE: "Medicare Part B",
    PlanType.MEDICARE_ADVANTAGE: "Medicare Advantage",
    PlanType.MEDICAID: "Medicaid",
    PlanType.OTHER: "Other",
}
_SPECIALTY_IDS = {key for key, _ in SPECIALTIES}


class Patient(Model):
    first_name: RequiredText
    last_name: RequiredText
    date_of_birth: dt.date
    sex: Sex

    @field_validator("date_of_birth")
    @classmethod
    def _born_in_the_past(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        if value > validation_today(info):
            raise ValueError("date of birth is in the future")
        if value < EARLIEST_DATE:
            raise ValueError("date of birth is before 1900")
        return value

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_years(self, on: dt.date) -> int:
        before_birthday = (on.month, on.day) < (self.date_of_birth.month, self.date_of_birth.day)
        return on.year - self.date_of_birth.year - int(before_birthday)


class Coverage(Model):
    payer_name: RequiredText
    payer_profile: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]+$")] = "reference"
    plan_type: PlanType
    member_id: RequiredText
    group_number: Text = ""
    # The patient's cost sharing this plan year; None until staff enter it.
    plan_terms: PlanTerms | None = None


class Prescriber(Model):
    name: RequiredText
    credentials: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)
    ]
    npi: str
    specialty: str
    phone: Text = ""
    fax: Text = ""
    practice_name: Text = ""
    practice_address: Text = ""

    @field_validator("phone", "fax")
    @classmethod
    def _dialable(cls, value: str) -> str:
        if value and not is_phone_number(value):
            raise ValueError(PHONE_MESSAGE)
        return value

    @field_validator("npi", mode="before")
    @classmethod
    def _npi_checks(cls, value: Any) -> str:
        npi = str(value).strip().replace(" ", "").replace("-", "")
        if len(npi) != 10 or not npi.isdigit():
            raise ValueError("an NPI is exactly 10 digits")
        if not is_valid_npi(npi):
            raise ValueError("this NPI's check digit is wrong; check for a typing slip")
        return npi

    @field_validator("specialty")
    @classmethod
    def _known_specialty(cls, value: str) -> str:
        if value not in _SPECIALTY_IDS:
            raise ValueError(f"unknown specialty {value!r}")
        return value


class Measurements(Model):
    # Units come before their values so that each value's check knows its unit
    # and reports its error on the value's own field.
    weight_unit: WeightUnit = WeightUnit.KG
    weight: Decimal = Field(description="body weight, in weight_unit")
    height_unit: HeightUnit = HeightUnit.CM
    height: Decimal | None = Field(default=None, description="height, in height_unit")
    measured_on: dt.date
    pregnant: bool = False
    pre_pregnancy_weight: Decimal | None = Field(
        default=None, description="in weight_unit; dosing in pregnancy uses it (Ontario IGUM)"
    )

    @field_validator("weight", "pre_pregnancy_weight")
    @classmethod
    def _plausible_weight(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if value is None:
            return None
        if not value.is_finite():
            raise ValueError("enter a number")
        unit = info.data.get("weight_unit", WeightUnit.KG)
        kg = lb_to_kg(value) if unit is WeightUnit.LB else value
        if kg <= 0:
            raise ValueError("weight must be more than zero")
        if kg < MIN_WEIGHT_KG or kg > MAX_WEIGHT_KG:
            raise ValueError(
                f"a weight of {value} {unit} is outside {MIN_WEIGHT_KG}–{MAX_WEIGHT_KG} kg; "
                "check the number and the unit"
            )
        return value

    @field_validator("height")
    @classmethod
    def _plausible_height(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if value is None:
            return None
        if not value.is_finite():
            raise ValueError("enter a number")
        unit = info.data.get("height_unit", HeightUnit.CM)
        cm = in_to_cm(value) if unit is HeightUnit.IN else value
        if cm <= 0:
            raise ValueError("height must be more than zero")
        if cm < MIN_HEIGHT_CM or cm > MAX_HEIGHT_CM:
            raise ValueError(
                f"a height of {value} {unit} is outside {MIN_HEIGHT_CM}–{MAX_HEIGHT_CM} cm; "
                "check the number and the unit"
            )
        return value

    @field_validator("measured_on")
    @classmethod
    def _measured_in_the_past(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        if value > validation_today(info):
            raise ValueError("the measurement date is in the future")
        return value

    @property
    def weight_kg(self) -> Decimal:
        return lb_to_kg(self.weight) if self.weight_unit is WeightUnit.LB else self.weight

    @property
    def height_cm(self) -> Decimal | None:
        if self.height is None:
            return None
        return in_to_cm(self.height) if self.height_unit is HeightUnit.IN else self.height

    @property
    def pre_pregnancy_weight_kg(self) -> Decimal | None:
        raw = self.pre_pregnancy_weight
        if raw is None:
            return None
        return lb_to_kg(raw) if self.weight_unit is WeightUnit.LB else raw


class LabResult(Model):
    value: Decimal
    unit: str = ""
    date: dt.date

    @field_validator("value")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("enter a number")
        return value


class Score(Model):
    value: Decimal
    date: dt.date | None = None


AnswerValue = list[LabResult] | Score | Decimal | bool | str | dt.date


class Case(Model):
    """One prior-authorization request for IVIG."""

    schema_version: int = 1
    patient: Patient
    coverage: Coverage
    prescriber: Prescriber
    site_of_care: SiteOfCare
    request_type: RequestType
    indication_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
    icd10_codes: list[str] = Field(min_length=1, max_length=12)
    measurements: Measurements
    answers: dict[str, Any] = Field(default_factory=dict)
    prior_therapies: list[PriorTherapy] = Field(default_factory=list, max_length=60)
    never_tried: list[NeverTried] = Field(default_factory=list, max_length=20)
    safety: SafetyFacts = SafetyFacts()
    regimen: Regimen
    clinical_summary: LongText = ""

    @field_validator("icd10_codes")
    @classmethod
    def _codes_well_formed(cls, codes: list[str]) -> list[str]:
        cleaned = []
        for code in codes:
            normal = normalise_icd10(code)
            if not is_icd10_cm(normal):
                raise ValueError(f"{code!r} is not an ICD-10-CM code (e.g. G61.81)")
            if normal not in cleaned:
                cleaned.append(normal)
        return cleaned

    @field_validator("answers", mode="before")
    @classmethod
    def _answers_typed(cls, answers: Any) -> dict[str, Any]:
        if not isinstance(answers, dict):
            raise ValueError("answers must be a mapping of fact name to value")
        return {name: parse_answer(name, value) for name, value in answers.items()}

    @field_validator("measurements")
    @classmethod
    def _pregnancy_for_female_patients(
        cls, value: Measurements, info: ValidationInfo
    ) -> Measurements:
        patient = info.data.get("patient")
        if patient is not None and patient.sex is Sex.MALE and value.pregnant:
            raise ValueError("pregnancy is recorded for a male patient; check the sex")
        return value

    @field_validator("never_tried")
    @classmethod
    def _tried_or_never(cls, items: list[NeverTried], info: ValidationInfo) -> list[NeverTried]:
        tried = {therapy.therapy_class for therapy in info.data.get("prior_therapies", [])}
        both = sorted({item.therapy_class for item in items} & tried)
        if both:
            raise ValueError(
                f"{', '.join(both)} is listed both as tried and as never tried; keep one"
            )
        return items

    def answer(self, name: str) -> Any:
        return self.answers.get(name)


def parse_answer(name: str, value: Any) -> Any:
    """Check one answer against its fact's type and return the typed value."""
    fact = FACTS.get(name)
    if fact is None or fact.kind not in ANSWERABLE_KINDS:
        raise ValueError(f"{name!r} is not a known fact")
    if value is None:
        return None
    kind = fact.kind
    if kind is FactKind.LAB:
        items = value if isinstance(value, list) else [value]
        results = [r if isinstance(r, LabResult) else LabResult.model_validate(r) for r in items]
        for result in results:
            _check_range(fact.label, result.value, fact.minimum, fact.maximum)
        return [r.model_copy(update={"unit": fact.unit}) for r in results]
    if kind is FactKind.SCORE:
        score = (
            value
            if isinstance(value, Score)
            else Score.model_validate(value if isinstance(value, dict) else {"value": value})
        )
        _check_range(fact.label, score.value, fact.minimum, fact.maximum)
        return score
    if kind is FactKind.NUMBER:
        if isinstance(value, bool):
            raise ValueError(f"{fact.label}: enter a number")
        try:
            number = Decimal(str(value))
        except ArithmeticError:  # decimal.InvalidOperation is not a ValueError
            raise ValueError(f"{fact.label}: enter a number") from None
        _check_range(fact.label, number, fact.minimum, fact.maximum)
        return number
    if kind is FactKind.FLAG:
        if not isinstance(value, bool):
            raise ValueError(f"{fact.label}: answer yes or no")
        return value
    if kind is FactKind.CHOICE:
        allowed = {key for key, _ in fact.choices}
        if value not in allowed:
            raise ValueError(f"{fact.label}: choose one of {', '.join(sorted(allowed))}")
        return value
    if kind is FactKind.DATE:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    raise ValueError(f"{name!r} cannot be answered")


def _check_range(label: str, value: Decimal, minimum: float | None, maximum: float | None) -> None:
    if not value.is_finite():
        raise ValueError(f"{label}: enter a number")
    if minimum is not None and value < Decimal(str(minimum)):
        raise ValueError(f"{label}: {value} is below {minimum}")
    if maximum is not None and value > Decimal(str(maximum)):
        raise ValueError(f"{label}: {value} is above {maximum}; check the unit")
