"""What an evaluation finds: the one source of every finding a document or page shows.

An ``Assessment`` carries each criterion's status with its evidence and citations,
the dose with its limits, the vials each infusion day opens, the product and
site-of-care findings and the safety flags. Documents and pages put these into
words; they never decide them again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from priorauth.domain.case import RequestType, SiteOfCare
from priorauth.domain.catalog import RiskKind, Route
from priorauth.domain.dosing import Dose
from priorauth.domain.safety import SafetyFlag, Severity
from priorauth.domain.subcutaneous import RampDose, SitePlan

from .schema import CitationKind, CoverageStatus


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    MISSING = "missing"
    # An alternative of a group another alternative already satisfies: nothing to ask.
    NOT_NEEDED = "not_needed"


class Verdict(StrEnum):
    READY = "ready"
    READY_WITH_WARNINGS = "ready_with_warnings"
    NOT_READY = "not_ready"


STATUS_LABELS = {
    Status.MET: "Met",
    Status.NOT_MET: "Not met",
    Status.MISSING: "Information missing",
    Status.NOT_NEEDED: "Not needed",
}
VERDICT_LABELS = {
    Verdict.READY: "Ready to submit",
    Verdict.READY_WITH_WARNINGS: "Ready to submit, with warnings",
    Verdict.NOT_READY: "Not ready",
}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class CitationRef(Frozen):
    """A source as the rules chose it for this payer (rules/citations.py)."""

    id: str
    kind: CitationKind
    # Where it stands in the payer's order: its own policy 0, guidelines 1, label 2...
    rank: int
    text: str
    date: str
    url: str = ""
    # How the source was read (e.g. in third-party summaries): for staff, never a payer.
    note: str = ""
    unverified: bool = False


class CriterionResult(Frozen):
    id: str
    title: str
    why: str
    status: Status
    required: bool
    reason: str
    evidence: tuple[str, ...] = ()
    citations: tuple[CitationRef, ...] = ()
    unverified: bool = False
    # The definition's note on the criterion: why it is unverified, where it comes from.
    note: str = ""
    payer_change: str = ""
    children: tuple[CriterionResult, ...] = ()


def walk_results(results: Iterable[CriterionResult]) -> Iterator[CriterionResult]:
    """Every result and, depth first, the alternatives under it."""
    for result in results:
        yield result
        yield from walk_results(result.children)


class Problem(Frozen):
    """Something in the case that cannot be right for this indication; names its field."""

    field: str
    message: str


class DoseFinding(Frozen):
    blocking: bool
    message: str


class InfusionDay(Frozen):
    """Consecutive infusion days that give the same dose, and the vials each opens."""

    first_day: int
    last_day: int
    dose_g: Decimal
    vial_count: int = 0
    vials: str = ""
    waste_g: Decimal = Decimal(0)


class ScFindings(Frozen):
    """A subcutaneous regimen: its weekly dose, the switch from IV, ramp-up, sites, limits."""

    weekly_g: Decimal | None = None
    # The label's conversion from the IV regimen, when the case gives one.
    conversion: str = ""
    conversion_weekly_g: Decimal | None = None
    conversion_source: str = ""
    conversion_unverified: bool = False
    # The label's ramp-up to the target dose (a patient starting the product).
    ramp_up: tuple[RampDose, ...] = ()
    ramp_up_note: str = ""
    ramp_up_source: str = ""
    # One infusion day spread over sites, and how long it takes.
    sites: SitePlan | None = None
    minutes: int | None = None
    sites_source: str = ""
    sites_unverified: bool = False
    # The payer quantity limit that applies, in words, and whether the regimen exceeds it.
    quantity_limit: str = ""
    quantity_limit_source: str = ""
    quantity_limit_exceeded: bool = False


class DoseCheck(Frozen):
    dose: Dose | None
    limit_label: str = ""
    limit_text: str = ""
    weight_policy: str = ""
    # Where the payer's weight rule comes from (the payer profile's source).
    weight_source: str = ""
    findings: tuple[DoseFinding, ...] = ()
    # The limit's or the payer's weight rule is unverified (either one).
    unverified: bool = False
    limit_unverified: bool = False
    weight_unverified: bool = False
    limit_citations: tuple[CitationRef, ...] = ()
    # The dosing limit's own note (why it is unverified, what it rests on).
    limit_note: str = ""
    # Where the regimen goes beyond the indication's limits, one phrase each.
    excess: tuple[str, ...] = ()
    billing_units: int | None = None
    infusion_days: tuple[InfusionDay, ...] = ()
    # The route the regimen is given by (from its phase, or the product's own).
    route: Route = Route.IV
    sc: ScFindings | None = None
    # The phase the loading course was checked against, when the regimen has one.
    loading_limit_label: str = ""
    loading_billing_units: int | None = None

    @property
    def within_limits(self) -> bool:
        """The dose is computed and the engine found nothing to say about it."""
        return self.dose is not None and not self.findings and bool(self.limit_text)


class ProductFindings(Frozen):
    """The requested product as this payer and this indication see it."""

    product_id: str
    known: bool
    name: str
    hcpcs: str = ""
    route: Route | None = None
    excluded: bool = False
    # None when the payer keeps no preferred list.
    preferred: bool | None = None
    preferred_names: tuple[str, ...] = ()
    source: str = ""
    labeled: bool = False
    labeled_unverified: bool = False

    @property
    def not_preferred(self) -> bool:
        """Excluded, or missing from a preferred list the payer keeps."""
        return self.excluded or self.preferred is False


class PayerSiteNote(Frozen):
    text: str
    source: str
    as_of: str
    unverified: bool = False


class SiteFindings(Frozen):
    site: SiteOfCare
    # What commercial site-of-care programs say of this site: "preferred site",
    # "non-preferred site", or "" where they say nothing (not a commercial plan).
    preference: str = ""
    preference_source: str = ""
    payer_notes: tuple[PayerSiteNote, ...] = ()
    home_not_covered: bool = False

    @property
    def not_preferred(self) -> bool:
        return self.preference == "non-preferred site"


class SafetyFindings(Frozen):
    product_id: str = ""
    flags: tuple[SafetyFlag, ...] = ()
    risks: tuple[RiskKind, ...] = ()
    # For a flag the product itself raises: products on the same route that would not.
    alternatives: Mapping[str, tuple[str, ...]] = {}
    # Where the patient's safety facts explain the product chosen, one sentence each
    # (the letter's product paragraph words them).
    product_reasons: tuple[str, ...] = ()

    def serious(self) -> tuple[SafetyFlag, ...]:
        """The flags a reviewer must weigh: contraindications and cautions."""
        return tuple(flag for flag in self.flags if flag.severity is not Severity.INFO)


class Assessment(Frozen):
    indication_id: str
    indication_name: str
    payer_id: str
    payer_name: str
    request_type: RequestType
    as_of: dt.date
    coverage: CoverageStatus
    verdict: Verdict
    verdict_reasons: tuple[str, ...]
    criteria: tuple[CriterionResult, ...]
    problems: tuple[Problem, ...]
    dose: DoseCheck
    authorization_months: int | None
    authorization_note: str
    authorization_unverified: bool
    # The period asked for, from the requested start: the letter prints these dates.
    authorization_start: dt.date | None = None
    authorization_end: dt.date | None = None
    exception_needs: tuple[str, ...] = ()
    definition_versions: Mapping[str, str] = {}
    product: ProductFindings | None = None
    site: SiteFindings | None = None
    safety: SafetyFindings = SafetyFindings()

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]

    def result(self, criterion_id: str) -> CriterionResult | None:
        """The result of a criterion at any depth, or None when it did not apply."""
        return next((r for r in walk_results(self.criteria) if r.id == criterion_id), None)

    def unmet_required(self) -> tuple[str, ...]:
        return tuple(r.title for r in self.criteria if r.required and r.status is not Status.MET)
