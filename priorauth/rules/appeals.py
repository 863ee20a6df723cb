"""Load forms/appeals.toml: appeal deadlines per level, rebuttal wording, packet texts.

Like the definitions, the file is read once into frozen models that reject
unknown keys, and a mistake is reported as a breadcrumb from the file to the
key. Wording is a ``string.Template`` whose placeholders are checked here, so a
misspelt ``$pateint`` fails at load time, not in a letter sent to a payer.

Also here, because they need the definitions: checking a denial against the
indication it concerns, and working out the deadline for its level of appeal.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from priorauth.domain.case import PlanType
from priorauth.domain.dates import add_months
from priorauth.domain.denial import (
    APPEAL_LEVEL_LABELS,
    AppealLevel,
    Denial,
    DenialReason,
)
from priorauth.paths import forms_dir

from .assessment import Problem
from .loader import DefinitionError, read_toml, validate_model
from .schema import SCHEMA_VERSION, Frozen, IndicationDefinition

APPEALS_FILE = "appeals.toml"
PLACEHOLDERS = frozenset(
    {
        "patient",
        "indication",
        "product",
        "payer",
        "site",
        "level",
        "reference",
        "denial_date",
        "criteria",
        "unsupported",
        "urgency",
    }
)


def _check_template(value: str) -> str:
    template = string.Template(value)
    if not template.is_valid():
        raise ValueError("a '$' that starts no placeholder; write '$$' for a dollar sign")
    unknown = sorted(set(template.get_identifiers()) - PLACEHOLDERS)
    if unknown:
        raise ValueError(
            f"unknown placeholder {', '.join('$' + u for u in unknown)}; "
            f"allowed: {', '.join('$' + p for p in sorted(PLACEHOLDERS))}"
        )
    return value


class Wording(Frozen):
    """Marks a model whose text fields are templates."""

    @field_validator("*", mode="after")
    @classmethod
    def _templates(cls, value: object) -> object:
        if isinstance(value, str):
            return _check_template(value)
        return value


class DeadlineRule(Frozen):
    plan_types: tuple[PlanType, ...] = Field(min_length=1)
    days: int | None = Field(default=None, ge=1, le=730)
    months: int | None = Field(default=None, ge=1, le=24)
    counts_from: Literal["notice", "receipt"]
    wording: str
    decision: str = ""
    source: str
    unverified: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _one_period(self) -> DeadlineRule:
        if self.days is not None and self.months is not None:
            raise ValueError("give days or months, not both")
        return self


class LevelRule(Wording):
    id: AppealLevel
    title: str
    attention: str
    request: str
    deadlines: tuple[DeadlineRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _every_plan_type_once(self) -> LevelRule:
        seen: list[PlanType] = [p for rule in self.deadlines for p in rule.plan_types]
        twice = sorted({p.value for p in seen if seen.count(p) > 1})
        if twice:
            raise ValueError(f"plan types with two deadline rules: {', '.join(twice)}")
        missing = sorted(p.value for p in PlanType if p not in seen)
        if missing:
            raise ValueError(f"no deadline rule for plan types: {', '.join(missing)}")
        return self

    def deadline_rule(self, plan_type: PlanType) -> DeadlineRule:
        return next(rule for rule in self.deadlines if plan_type in rule.plan_types)


class Objection(Wording):
    objection: str
    prepare: str


class ReasonRule(Wording):
    id: DenialReason
    heading: str
    denial_says: str
    response: str
    alternative: str = ""
    supported: str
    alternative_supported: str = ""
    unsupported: str
    objections: tuple[Objection, ...] = ()


class ExpeditedRule(Wording):
    request: str
    source: str
    unverified: bool = False
    note: str = ""


class PeerToPeerRule(Wording):
    not_met: str
    missing: str
    unverified: str
    dose_finding: str
    exception: str
    questions: tuple[str, ...] = ()


class ExceptionTopics(Frozen):
    off_policy_indication: str
    non_preferred_product: str
    dose_above_limit: str
    non_preferred_site: str


class ExceptionRule(Wording):
    title: str
    attention: str
    request: str
    closing: str
    topics: ExceptionTopics


class PacketRule(Frozen):
    confidentiality_notice: str
    confidentiality_source: str = ""


class AppealRules(Frozen):
    schema_version: int
    as_of: str
    expedited: ExpeditedRule
    levels: tuple[LevelRule, ...]
    reasons: tuple[ReasonRule, ...]
    exception: ExceptionRule
    peer_to_peer: PeerToPeerRule
    packet: PacketRule

    @model_validator(mode="after")
    def _complete(self) -> AppealRules:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version} is not {SCHEMA_VERSION}")
        for name, items, enum in (
            ("levels", self.levels, AppealLevel),
            ("reasons", self.reasons, DenialReason),
        ):
            ids = [item.id for item in items]
            missing = sorted(e.value for e in enum if e not in ids)
            if missing:
                raise ValueError(f"{name}: none given for {', '.join(missing)}")
            if len(set(ids)) != len(ids):
                raise ValueError(f"{name}: an id is used twice")
        return self

    def level(self, level: AppealLevel) -> LevelRule:
        return next(item for item in self.levels if item.id is level)

    def reason(self, reason: DenialReason) -> ReasonRule:
        return next(item for item in self.reasons if item.id is reason)


def fill(template: str, values: Mapping[str, str]) -> str:
    """Fill a checked template; a placeholder with no value stays visible, never blank."""
    return string.Template(template).safe_substitute(values)


def load_appeal_rules(root: Path | None = None) -> AppealRules:
    """Load forms/appeals.toml; raise DefinitionError with a breadcrumb per problem."""
    folder = Path(root) if root is not None else forms_dir()
    path = folder / APPEALS_FILE
    problems: list[str] = []
    if not path.is_file():
        raise DefinitionError(
            [
                f"{path} → missing: appeal letters need it; copy appeals.toml from the "
                "forms/ folder that ships with priorauth"
            ]
        )
    data = read_toml(path, problems)
    rules = (
        validate_model(AppealRules, path, "appeals", data, problems) if data is not None else None
    )
    if problems or rules is None:
        raise DefinitionError(problems or [f"{path} → cannot be loaded"])
    return rules


def denial_problems(denial: Denial, definition: IndicationDefinition) -> list[Problem]:
    """What in a recorded denial does not fit the indication, each at its field in the Denial."""
    known = {c.id: c for c in definition.all_criteria()}
    problems = []
    for index, reason in enumerate(denial.reasons):
        for criterion in reason.criteria:
            if criterion not in known:
                problems.append(
                    Problem(
                        field=f"reasons.{index}.criteria",
                        message=f"{definition.short_name or definition.name} has no criterion "
                        f"{criterion!r}; its criteria are {', '.join(sorted(known))}",
                    )
                )
    return problems


@dataclass(frozen=True, slots=True)
class Deadline:
    """The deadline for one level of appeal, and where it comes from."""

    level_label: str
    date: dt.date | None
    text: str
    source: str
    unverified: bool
    note: str = ""
    decision: str = ""
    from_notice: bool = False

    def days_left(self, on: dt.date) -> int | None:
        return None if self.date is None else (self.date - on).days


def appeal_deadline(denial: Denial, plan_type: PlanType, rules: AppealRules) -> Deadline:
    """The deadline for the denial's level: the notice's own when recorded, else the rule's.

    A rule counted from receipt uses the recorded receipt date, or the notice's
    date when none is recorded: the earlier date gives the safer deadline.
    """
    label = APPEAL_LEVEL_LABELS[denial.level]
    rule = rules.level(denial.level).deadline_rule(plan_type)
    if denial.appeal_deadline is not None:
        return Deadline(
            level_label=label,
            date=denial.appeal_deadline,
            text="the deadline stated in the denial notice",
            source=(
                f"Denial notice of {denial.date.isoformat()}, reference {denial.payer_reference}"
            ),
            unverified=False,
            decision=rule.decision,
            from_notice=True,
        )
    start = denial.date
    counted = "the date of the denial notice"
    if rule.counts_from == "receipt":
        if denial.received_on is not None:
            start, counted = denial.received_on, "receipt of the denial notice"
        else:
            counted = "the date of the denial notice (no receipt date is recorded)"
    date: dt.date | None = None
    if rule.days is not None:
        date = start + dt.timedelta(days=rule.days)
    elif rule.months is not None:
        date = add_months(start, rule.months)
    note = rule.note
    if date is not None:
        note = f"Counted from {counted}. {note}".strip()
    return Deadline(
        level_label=label,
        date=date,
        text=rule.wording,
        source=rule.source,
        unverified=rule.unverified,
        note=note,
        decision=rule.decision,
    )
