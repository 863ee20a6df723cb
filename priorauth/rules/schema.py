"""The shape of a definition file: indications, payer profiles, products.

Every model is frozen and rejects unknown keys, so a misspelt key in a TOML file
is a load error with a breadcrumb, never a silently ignored rule. Criteria are
discriminated by ``kind``; each kind tests facts from the vocabulary in
priorauth.domain.facts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from priorauth.domain.case import RequestType
from priorauth.domain.catalog import Product, Route
from priorauth.domain.dosing import DosingWeightPolicy
from priorauth.domain.facts import FACTS, SPECIALTIES, THERAPY_CLASSES, FactKind
from priorauth.domain.identifiers import is_icd10_cm

SCHEMA_VERSION = 1

Id = Annotated[str, Field(pattern=r"^[a-z0-9_]+$", min_length=1, max_length=60)]
BOTH = (RequestType.INITIAL, RequestType.CONTINUATION)
_SPECIALTIES = {key for key, _ in SPECIALTIES}
_CLASSES = {key for key, _ in THERAPY_CLASSES}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Op(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    def holds(self, left: Decimal, right: Decimal) -> bool:
        return {
            Op.LT: left < right,
            Op.LE: left <= right,
            Op.GT: left > right,
            Op.GE: left >= right,
        }[self]

    @property
    def words(self) -> str:
        return {Op.LT: "below", Op.LE: "at most", Op.GT: "above", Op.GE: "at least"}[self]


def _require_fact(name: str, kinds: set[FactKind]) -> None:
    fact = FACTS.get(name)
    if fact is None:
        raise ValueError(f"unknown fact {name!r}")
    if fact.kind not in kinds:
        wanted = " or ".join(sorted(kind.value for kind in kinds))
        raise ValueError(f"fact {name!r} is a {fact.kind.value}, this criterion needs a {wanted}")


class CitationKind(StrEnum):
    """What a source is, which decides whether and where a letter to a payer cites it."""

    # A payer's own coverage policy: cited only to that payer, and first.
    PAYER_POLICY = "payer_policy"
    # A professional society's guideline, US or international (AAN, ASH, EAN/PNS...).
    NATIONAL_GUIDELINE = "national_guideline"
    # A product's FDA label.
    LABEL = "label"
    # One other country's or province's program or guideline (Australia's NBA, Ontario).
    FOREIGN_PROGRAM = "foreign_program"
    # A trial, a review, a study.
    OTHER = "other"
    # The project's own note (e.g. what an exception request needs): for staff, never a payer.
    PROJECT_NOTE = "project_note"


class Citation(Frozen):
    id: Id
    kind: CitationKind
    payer: str = Field(
        default="",
        pattern=r"^[a-z0-9_-]*$",
        description="payer_policy only: the payer profile's id, or the issuer's when no profile",
    )
    text: str
    note: str = Field(default="", description="how the source was read, for staff")
    date: str
    url: str = ""
    source_ref: str = Field(default="", description="tag in the reference notes, e.g. S25")
    unverified: bool = False

    @model_validator(mode="after")
    def _payer_named(self) -> Citation:
        if (self.kind is CitationKind.PAYER_POLICY) != bool(self.payer):
            raise ValueError("payer: name the payer of a payer_policy, and only of one")
        return self


class CriterionBase(Frozen):
    id: Id
    title: str
    why: str = Field(default="", description="why the payer asks, in plain words")
    required: bool = True
    applies_to: tuple[RequestType, ...] = BOTH
    citations: tuple[Id, ...] = ()
    unverified: bool = False
    note: str = ""

    def facts(self) -> set[str]:
        return set()


class LabCriterion(CriterionBase):
    kind: Literal["lab"]
    fact: str
    op: Op
    value: Decimal
    occasions: int = Field(default=1, ge=1, le=5)
    min_days_apart: int = Field(default=0, ge=0)
    within_days: int | None = Field(default=None, gt=0)

    @field_validator("fact")
    @classmethod
    def _fact_is_lab(cls, value: str) -> str:
        _require_fact(value, {FactKind.LAB})
        return value

    def facts(self) -> set[str]:
        return {self.fact}


class NumberCriterion(CriterionBase):
    kind: Literal["number"]
    fact: str
    op: Op
    value: Decimal

    @field_validator("fact")
    @classmethod
    def _fact_is_number(cls, value: str) -> str:
        _require_fact(value, {FactKind.NUMBER, FactKind.SCORE, FactKind.DERIVED})
        if value == "prescriber_specialty":
            raise ValueError("prescriber_specialty is not a number; use kind = 'specialty'")
        return value

    def facts(self) -> set[str]:
        return {self.fact}


class FlagCriterion(CriterionBase):
    kind: Literal["flag"]
    fact: str
    expected: bool = True

    @field_validator("fact")
    @classmethod
    def _fact_is_flag(cls, value: str) -> str:
        _require_fact(value, {FactKind.FLAG})
        return value

    def facts(self) -> set[str]:
        return {self.fact}


class ChoiceCriterion(CriterionBase):
    kind: Literal["choice"]
    fact: str
    accepted: tuple[str, ...] = Field(min_length=1)

    @field_validator("fact")
    @classmethod
    def _fact_is_choice(cls, value: str) -> str:
        _require_fact(value, {FactKind.CHOICE})
        return value

    @field_validator("accepted")
    @classmethod
    def _choices_exist(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        fact = FACTS.get(info.data.get("fact", ""))
        if fact is None:
            return value  # the fact's own error says what is wrong
        allowed = {key for key, _ in fact.choices}
        unknown = [choice for choice in value if choice not in allowed]
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)} not among {fact.name}'s choices: "
                f"{', '.join(sorted(allowed))}"
            )
        return value

    def facts(self) -> set[str]:
        return {self.fact}


class SpecialtyCriterion(CriterionBase):
    kind: Literal["specialty"]
    specialties: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _known(self) -> SpecialtyCriterion:
        unknown = [s for s in self.specialties if s not in _SPECIALTIES]
        if unknown:
            raise ValueError(f"unknown specialty {', '.join(unknown)}")
        return self


class StepTherapyCriterion(CriterionBase):
    kind: Literal["step_therapy"]
    classes: tuple[str, ...] = Field(min_length=1)
    min_count: int = Field(default=1, ge=1, le=5)
    min_weeks: Decimal | None = Field(
        default=None, gt=0, description="shortest trial that counts as an inadequate response"
    )

    @model_validator(mode="after")
    def _known(self) -> StepTherapyCriterion:
        unknown = [c for c in self.classes if c not in _CLASSES]
        if unknown:
            raise ValueError(f"unknown therapy class {', '.join(unknown)}")
        return self


class ImprovementCriterion(CriterionBase):
    kind: Literal["improvement"]
    baseline: str
    current: str
    min_change: Decimal = Field(gt=0)

    @field_validator("baseline", "current")
    @classmethod
    def _paired_scores(cls, value: str) -> str:
        _require_fact(value, {FactKind.SCORE})
        return value

    def facts(self) -> set[str]:
        return {self.baseline, self.current}


class AnyOfCriterion(CriterionBase):
    kind: Literal["any_of"]
    min_met: int = Field(default=1, ge=1)
    criteria: tuple[Criterion, ...] = Field(min_length=2)

    def facts(self) -> set[str]:
        return set().union(*(c.facts() for c in self.criteria))


Criterion = Annotated[
    LabCriterion
    | NumberCriterion
    | FlagCriterion
    | ChoiceCriterion
    | SpecialtyCriterion
    | StepTherapyCriterion
    | ImprovementCriterion
    | AnyOfCriterion,
    Field(discriminator="kind"),
]
AnyOfCriterion.model_rebuild()

CRITERION_KINDS = (
    "lab",
    "number",
    "flag",
    "choice",
    "specialty",
    "step_therapy",
    "improvement",
    "any_of",
)


class Range(Frozen):
    min: Decimal | None = None
    max: Decimal | None = None

    def contains(self, value: Decimal) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def is_open(self) -> bool:
        return self.min is None and self.max is None

    def describe(self, unit: str) -> str:
        if self.min is not None and self.max is not None:
            if self.min == self.max:
                return f"{self.min} {unit}"
            return f"{self.min}–{self.max} {unit}"
        if self.max is not None:
            return f"at most {self.max} {unit}"
        if self.min is not None:
            return f"at least {self.min} {unit}"
        return "any"


class UsualDose(Frozen):
    """The dose a source gives as the usual one within a phase's limits (a starting point the
    intake fills in when the phase is chosen; the prescriber changes it). Cited by the phase."""

    g_per_kg_per_course: Decimal | None = Field(default=None, gt=0)
    interval_weeks: Decimal | None = Field(default=None, gt=0)
    source: str


class DosingLimit(Frozen):
    """One dosing phase of an indication: its route, dose, days and interval.

    An IV phase states its dose per course; a subcutaneous phase may state it per
    week instead (Ontario: SCIG 0.1–0.15 g/kg weekly), so that weekly and
    every-two-weeks schedules are checked against one range. A loading phase is
    given once, before the maintenance courses.
    """

    id: Id
    label: str
    applies_to: tuple[RequestType, ...] = BOTH
    route: Route = Route.IV
    loading: bool = False
    g_per_kg_per_course: Range = Range()
    g_per_kg_per_week: Range | None = None
    days_per_course: Range = Range()
    interval_weeks: Range = Range()
    max_g_per_kg_per_day: Decimal | None = None
    usual: UsualDose | None = None
    citations: tuple[Id, ...] = ()
    unverified: bool = False
    note: str = ""

    def describe_dose(self) -> str:
        """The phase's dose range in words: "2–2 g/kg per course", "0.1–0.2 g/kg per week"."""
        if self.g_per_kg_per_week is not None:
            return f"{self.g_per_kg_per_week.describe('g/kg')} per week"
        return f"{self.g_per_kg_per_course.describe('g/kg')} per course"


class AuthorizationPeriods(Frozen):
    initial_months: int | None = Field(default=None, ge=1, le=24)
    continuation_months: int | None = Field(default=None, ge=1, le=24)
    unverified: bool = False
    note: str = ""
    citations: tuple[Id, ...] = ()


class DiagnosisCode(Frozen):
    code: str
    description: str
    verified: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _format(self) -> DiagnosisCode:
        if not is_icd10_cm(self.code):
            raise ValueError(f"{self.code!r} is not an ICD-10-CM code")
        return self


# Case facts a question's condition may test besides the answers (FHIR enableWhen idea).
CASE_FACTS = {
    "sex": ("female", "male"),
    "age_years": (),
    "icd10_codes": (),
    "request_type": tuple(t.value for t in RequestType),
}


class Condition(Frozen):
    """One enableWhen test: the question is asked only when the case's fact passes it."""

    fact: str = Field(description="an answer fact, or sex, age_years, icd10_codes, request_type")
    operator: Literal["exists", "=", "!=", "in", ">=", "<="] = Field(
        description="exists: answered; in: one of value (a list); icd10_codes: any ticked code"
    )
    value: str | bool | int | float | tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _possible(self) -> Condition:
        fact = FACTS.get(self.fact)
        if fact is None and self.fact not in CASE_FACTS:
            raise ValueError(f"condition on unknown fact {self.fact!r}")
        if self.operator == "exists":
            if self.value is not None:
                raise ValueError("operator 'exists' takes no value")
            return self
        if self.value is None:
            raise ValueError(f"operator {self.operator!r} needs a value")
        values = self.value if isinstance(self.value, tuple) else (self.value,)
        if (self.operator == "in") != isinstance(self.value, tuple):
            raise ValueError("operator 'in' takes a list, the others one value")
        choices = CASE_FACTS.get(self.fact) or (
            tuple(key for key, _ in fact.choices) if fact is not None else ()
        )
        if choices and any(v not in choices for v in values):
            raise ValueError(f"{values!r} is not a possible value of {self.fact!r}: {choices}")
        if self.fact == "icd10_codes" and any(
            not (isinstance(v, str) and is_icd10_cm(v)) for v in values
        ):
            raise ValueError(f"{values!r} holds a code that is not ICD-10-CM")
        return self


class Question(Frozen):
    fact: str
    why: str = Field(description="why the payer asks, shown beside the question")
    applies_to: tuple[RequestType, ...] = BOTH
    required: bool = False
    enable_when: tuple[Condition, ...] = Field(
        default=(), description="asked only when these conditions hold (FHIR enableWhen)"
    )
    enable_behavior: Literal["all", "any"] = Field(
        default="all", description="all conditions must hold, or any one of them"
    )

    @field_validator("fact")
    @classmethod
    def _answerable(cls, value: str) -> str:
        fact = FACTS.get(value)
        if fact is None:
            raise ValueError(f"unknown fact {value!r}")
        if fact.kind is FactKind.DERIVED:
            raise ValueError(f"{value!r} is computed from the case, not asked")
        return value


class Enclosure(Frozen):
    id: Id
    title: str
    applies_to: tuple[RequestType, ...] = BOTH
    required: bool = True


class CoverageStatus(StrEnum):
    STANDARD = "standard"
    NOT_COVERED = "not_covered"
    RARELY_COVERED = "rarely_covered"


class IndicationDefinition(Frozen):
    schema_version: int
    id: Id
    name: str
    short_name: str = ""
    category: str
    version: str = Field(description="date this definition was last checked, YYYY-MM-DD")
    # The day this version of priorauth's copy took effect: cases assessed before
    # it are checked again under it (``rules.policy_change``). Not a payer's date.
    effective_date: dt.date = Field(description="date this version took effect, YYYY-MM-DD")
    summary: str = ""
    coverage: CoverageStatus = CoverageStatus.STANDARD
    exception_needs: tuple[str, ...] = ()
    # A condition not in the library: any billable ICD-10-CM code is accepted (the
    # engine checks it against the code set); `codes` may then be empty.
    any_code: bool = False
    codes: tuple[DiagnosisCode, ...] = ()
    questions: tuple[Question, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    dosing: tuple[DosingLimit, ...] = Field(min_length=1)
    authorization: AuthorizationPeriods = AuthorizationPeriods()
    enclosures: tuple[Enclosure, ...] = ()
    citations: tuple[Citation, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> IndicationDefinition:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version} is not {SCHEMA_VERSION}")
        if not self.codes and not self.any_code:
            raise ValueError("codes: list at least one ICD-10-CM code (or set any_code = true)")
        cited = {c.id for c in self.citations}
        asked = {q.fact for q in self.questions}
        seen: set[str] = set()
        for criterion in self.all_criteria():
            if criterion.id in seen:
                raise ValueError(f"criterion id {criterion.id!r} is used twice")
            seen.add(criterion.id)
            missing = [ref for ref in criterion.citations if ref not in cited]
            if missing:
                raise ValueError(f"criterion {criterion.id!r} cites unknown {', '.join(missing)}")
            unasked = criterion.facts() - asked - _derived()
            if unasked:
                raise ValueError(
                    f"criterion {criterion.id!r} tests {', '.join(sorted(unasked))}, "
                    "which no question asks: add it to [[questions]]"
                )
        for limit in self.dosing:
            missing = [ref for ref in limit.citations if ref not in cited]
            if missing:
                raise ValueError(f"dosing {limit.id!r} cites unknown {', '.join(missing)}")
        return self

    def all_criteria(self) -> list[CriterionBase]:
        found: list[CriterionBase] = []

        def walk(items: tuple[CriterionBase, ...]) -> None:
            for item in items:
                found.append(item)
                if isinstance(item, AnyOfCriterion):
                    walk(item.criteria)

        walk(self.criteria)
        return found

    def code(self, code: str) -> DiagnosisCode | None:
        return next((c for c in self.codes if c.code == code), None)

    def citation(self, citation_id: str) -> Citation:
        return next(c for c in self.citations if c.id == citation_id)

    def only_phase(self, request_type: RequestType, route: Route | None) -> DosingLimit | None:
        """The dosing phase a request of this type takes when the definition leaves one
        (on the product's route, when known); None when the person must choose.

        A loading course stands alone only when it is the request's one phase (CIDP's
        induction); beside a maintenance phase it is the person's choice to add.
        """
        fitting = [
            phase
            for phase in self.dosing
            if request_type in phase.applies_to and (route is None or phase.route == route)
        ]
        fitting = [phase for phase in fitting if not phase.loading] or fitting
        return fitting[0] if len(fitting) == 1 else None

    def suits_specialty(self, specialty: str) -> bool:
        """Whether this indication is one a prescriber of ``specialty`` requests: a specialty
        criterion names it, or it is the indication's own category (neurology, hematology)."""
        if not specialty:
            return False
        return self.category == specialty or any(
            specialty in getattr(c, "specialties", ()) for c in self.all_criteria()
        )

    def asks_prior_therapies(self, request_type: RequestType) -> bool:
        """Whether a criterion for this request type tests the treatments tried before.

        When none does, the intake passes over its treatments step (still reachable):
        nothing the payer checks depends on it.
        """
        return any(
            isinstance(c, StepTherapyCriterion) and request_type in c.applies_to
            for c in self.all_criteria()
        )

    def questions_for(self, request_type: RequestType) -> list[Question]:
        return [q for q in self.questions if request_type in q.applies_to]

    def dosing_for(
        self, request_type: RequestType, phase: str | None, route: Route | None = None
    ) -> DosingLimit | None:
        """The phase asked for; without one, the request type's first on the product's route."""
        if phase:
            return next((d for d in self.dosing if d.id == phase), None)
        for_type = [d for d in self.dosing if request_type in d.applies_to]
        # A loading phase is the usual one only when the request type has no other.
        usual = [d for d in for_type if not d.loading] or for_type
        if route is not None:
            on_route = [d for d in usual if d.route is route]
            if on_route:
                return on_route[0]
        return usual[0] if usual else None

    def loading_phase(self, route: Route) -> DosingLimit | None:
        return next((d for d in self.dosing if d.loading and d.route is route), None)


def _derived() -> set[str]:
    return {name for name, fact in FACTS.items() if fact.kind is FactKind.DERIVED}


class CriterionOverride(Frozen):
    """A payer's change to one reference criterion: a threshold, a window, or dropping it."""

    indication: Id
    criterion: Id
    set: dict[str, Decimal | int | bool | str | list[str]] = Field(default_factory=dict)
    source: str
    as_of: str
    unverified: bool = False


class PayerNote(Frozen):
    """A payer rule the fields above cannot express (site of care, precertification…)."""

    text: str
    source: str
    as_of: str
    unverified: bool = False


class PayerProfile(Frozen):
    schema_version: int
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    description: str = ""
    as_of: str
    # The profile's own version, raised with every change, and the day it took
    # effect in priorauth (not the payer's policy date, which ``notes`` cite).
    version: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    effective_date: dt.date
    dosing_weight: DosingWeightPolicy = DosingWeightPolicy()
    dosing_weight_source: str = ""
    dosing_weight_unverified: bool = False
    authorization_initial_months: int | None = Field(default=None, ge=1, le=24)
    authorization_continuation_months: int | None = Field(default=None, ge=1, le=24)
    authorization_source: str = ""
    authorization_unverified: bool = False
    preferred_products: tuple[str, ...] = ()
    excluded_products: tuple[str, ...] = ()
    products_source: str = ""
    overrides: tuple[CriterionOverride, ...] = ()
    sources: tuple[str, ...] = ()
    # Diagnoses for which the payer pays for immune globulin given at home (Medicare:
    # the primary-immunodeficiency list of Benefit Policy Manual ch. 15 §50.6).
    # Empty means the payer sets no such list.
    home_infusion_codes: tuple[str, ...] = ()
    home_infusion_source: str = ""
    notes: tuple[PayerNote, ...] = ()

    @model_validator(mode="after")
    def _version(self) -> PayerProfile:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version} is not {SCHEMA_VERSION}")
        bad = [code for code in self.home_infusion_codes if not is_icd10_cm(code)]
        if bad:
            raise ValueError(f"home_infusion_codes: {', '.join(bad)} not ICD-10-CM codes")
        return self


class ProductCatalog(Frozen):
    schema_version: int
    as_of: str
    products: tuple[Product, ...] = Field(min_length=1)
