"""The code tables of mappings.toml, read once: LOINC, RxNorm/ATC, NUCC, SOPT, POS.

Each entry carries its source and whether the code was checked against a stored
copy of its code system; an unchecked entry still maps, and says so.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from priorauth.domain.case import PlanType, SiteOfCare
from priorauth.domain.facts import FACTS, SPECIALTIES
from priorauth.domain.treatment_history import THERAPY_CLASS_IDS

MAPPINGS_FILE = Path(__file__).with_name("mappings.toml")


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    unverified: bool = False


class LabCode(_Entry):
    loinc: str
    display: str
    fact: str
    # UCUM unit code -> factor into the fact's own unit.
    factors: dict[str, Decimal]


class MeasurementCode(_Entry):
    loinc: str
    display: str
    field: str


class TherapyCode(_Entry):
    system: str
    prefix: str
    therapy_class: str


class SpecialtyCode(_Entry):
    code: str
    specialty: str


class PlanTypeCode(_Entry):
    code: str
    plan_type: PlanType


class PlaceOfService(_Entry):
    site: SiteOfCare
    # "" where the code set has no code for the site: the claim names it in words.
    code: str
    display: str
    claim_type: Literal["professional", "institutional"]


class Tables(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int
    systems: dict[str, str]
    labs: tuple[LabCode, ...]
    measurements: tuple[MeasurementCode, ...]
    therapy_codes: tuple[TherapyCode, ...]
    specialties: tuple[SpecialtyCode, ...]
    plan_types: tuple[PlanTypeCode, ...]
    places_of_service: tuple[PlaceOfService, ...]

    def system(self, name: str) -> str:
        return self.systems[name]

    def lab(self, loinc: str) -> LabCode | None:
        return next((entry for entry in self.labs if entry.loinc == loinc), None)

    def measurement(self, loinc: str) -> MeasurementCode | None:
        return next((entry for entry in self.measurements if entry.loinc == loinc), None)

    def therapy(self, system_uri: str, code: str) -> TherapyCode | None:
        """The longest prefix that matches: L04AX01 before L04AX."""
        found = [
            entry
            for entry in self.therapy_codes
            if self.systems.get(entry.system) == system_uri
            and (code == entry.prefix or (entry.system == "atc" and code.startswith(entry.prefix)))
        ]
        return max(found, key=lambda entry: len(entry.prefix), default=None)

    def specialty(self, code: str) -> SpecialtyCode | None:
        return next((entry for entry in self.specialties if entry.code == code), None)

    def plan_type(self, code: str) -> PlanTypeCode | None:
        return next((entry for entry in self.plan_types if entry.code == code), None)

    def place_of_service(self, site: SiteOfCare) -> PlaceOfService:
        return next(entry for entry in self.places_of_service if entry.site is site)


def _check(tables: Tables) -> None:
    specialties = {key for key, _ in SPECIALTIES}
    problems = [
        f"labs: {entry.loinc} maps to unknown fact {entry.fact!r}"
        for entry in tables.labs
        if entry.fact not in FACTS
    ]
    problems += [
        f"therapy_codes: {entry.prefix} maps to unknown class {entry.therapy_class!r}"
        for entry in tables.therapy_codes
        if entry.therapy_class not in THERAPY_CLASS_IDS or entry.system not in tables.systems
    ]
    problems += [
        f"specialties: {entry.code} maps to unknown specialty {entry.specialty!r}"
        for entry in tables.specialties
        if entry.specialty not in specialties
    ]
    sites = {entry.site for entry in tables.places_of_service}
    problems += [
        f"places_of_service: no entry for {site.value}" for site in SiteOfCare if site not in sites
    ]
    if problems:
        raise ValueError(f"{MAPPINGS_FILE}: " + "; ".join(problems))


@cache
def tables() -> Tables:
    """The code tables, loaded and checked once per process."""
    with MAPPINGS_FILE.open("rb") as handle:
        loaded = Tables.model_validate(tomllib.load(handle))
    _check(loaded)
    return loaded
