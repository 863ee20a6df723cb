"""The case's evidence for each question a reviewer asks, shared by the appeal,
the medical-exception request and the peer-to-peer sheet.

Each ``_Evidence`` method answers one question (are the criteria met? were the
prior treatments tried? is the dose within the regimen? why this site, this
product?) with plain values built from the case, the assessment and the
definitions, and says whether the evidence answers it. Nothing here claims what
the assessment did not find: a criterion not met is named as unsupported, never
written up as met. The wording around the evidence comes from forms/appeals.toml.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from priorauth.domain.case import OUTCOME_LABELS, SITE_LABELS, Case, RequestType
from priorauth.domain.denial import (
    DOSE_GROUND_LABELS,
    MEDIA_TYPE_LABELS,
    PRODUCT_GROUND_LABELS,
    SITE_GROUND_LABELS,
    Attachment,
    Justification,
)
from priorauth.rules.assessment import Assessment, CitationRef, CriterionResult, Status
from priorauth.rules.library import Library
from priorauth.rules.schema import (
    AnyOfCriterion,
    CoverageStatus,
    CriterionBase,
    IndicationDefinition,
    StepTherapyCriterion,
)

from .context import (
    MeasureRow,
    Row,
    TherapyRow,
    _met_line,
    _paragraphs,
    _Refs,
    _therapy_rows,
    _treatment_rows,
    dose_reduction_text,
    format_number,
    format_short_date,
    response_rows,
)

# Enclosure ids every appeal packet may use besides the indication's own.
DENIAL_NOTICE_ENCLOSURE = "denial_notice"
DOSE_ROW_LABELS = ("Dose per course", "Dose per infusion day", "Dosing weight", "Interval")


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One piece of evidence: what it shows, its detail, its references."""

    text: str
    detail: str = ""
    refs: tuple[int, ...] = ()
    unverified: bool = False


@dataclass(frozen=True)
class Part:
    """The evidence for one question, and whether it answers the question."""

    items: tuple[EvidenceItem, ...] = ()
    rows: tuple[Row, ...] = ()
    paragraphs: tuple[str, ...] = ()
    paragraph_refs: tuple[int, ...] = ()
    therapies: tuple[TherapyRow, ...] = ()
    measures: tuple[MeasureRow, ...] = ()
    listed: tuple[str, ...] = ()
    narrative: tuple[str, ...] = ()
    note: str = ""
    supported: bool = True
    # What is missing, named for the draft banner when the evidence falls short.
    unsupported: tuple[str, ...] = ()
    # The second wording of the section applies (no requirement, above the limit, exception).
    alternative: bool = False
    unverified: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    """One section of a letter that answers a reason or asks for an exception."""

    key: str
    heading: str
    denial_says: str
    reviewer_words: str
    listed: tuple[str, ...]
    intro: str
    rows: tuple[Row, ...]
    paragraphs: tuple[str, ...]
    paragraph_refs: tuple[int, ...]
    items: tuple[EvidenceItem, ...]
    therapies: tuple[TherapyRow, ...]
    measures: tuple[MeasureRow, ...]
    note: str
    narrative: tuple[str, ...]
    closing: str
    supported: bool
    unverified: bool


def _contains(criterion: CriterionBase, kind: type[CriterionBase]) -> bool:
    if isinstance(criterion, kind):
        return True
    if isinstance(criterion, AnyOfCriterion):
        return any(_contains(child, kind) for child in criterion.criteria)
    return False


def _fmt(value: Decimal) -> str:
    return format_number(value)


@dataclass
class _Evidence:
    """The evidence one case offers, with one reference list for the whole document."""

    case: Case
    assessment: Assessment
    library: Library
    refs: _Refs = field(default_factory=_Refs)
    justification: Justification = field(default_factory=Justification)
    attachments: Sequence[Attachment] = ()

    def __post_init__(self) -> None:
        self.definition: IndicationDefinition = self.library.indications[
            self.assessment.indication_id
        ]
        self.indication = self.definition.short_name or self.definition.name
        found = self.assessment.product
        self.product_name = found.name if found is not None else self.case.regimen.product_id

    # ------------------------------------------------------------------ helpers

    def result(self, criterion_id: str) -> CriterionResult | None:
        return self.assessment.result(criterion_id)

    def met_item(self, result: CriterionResult) -> EvidenceItem:
        line = _met_line(result, self.refs)
        detail = "; ".join(line.evidence)
        if line.payer_change:
            detail = f"{detail} ({line.payer_change})" if detail else line.payer_change
        return EvidenceItem(line.title, detail, tuple(dict.fromkeys(line.refs)), line.unverified)

    def cite(self, citation_ids: Iterable[str]) -> tuple[int, ...]:
        citations = []
        for citation_id in citation_ids:
            c = self.definition.citation(citation_id)
            citations.append(
                CitationRef(id=c.id, text=c.text, date=c.date, url=c.url, unverified=c.unverified)
            )
        return self.refs.cite(citations)

    def met_items(self, results: Iterable[CriterionResult]) -> tuple[EvidenceItem, ...]:
        met = [r for r in results if r.status is Status.MET]
        met.sort(key=lambda r: not r.required)
        return tuple(self.met_item(r) for r in met)

    def unmet_required(self) -> tuple[str, ...]:
        return self.assessment.unmet_required()

    def measures(self) -> tuple[MeasureRow, ...]:
        if self.case.request_type is not RequestType.CONTINUATION:
            return ()
        return response_rows(self.case, self.definition)

    def dose_within_item(self) -> EvidenceItem | None:
        """The regimen is within the indication's limits, when the engine found nothing."""
        check = self.assessment.dose
        if not check.within_limits:
            return None
        return EvidenceItem(
            f"Dose within the {check.limit_label.lower()} regimen for {self.indication}",
            check.limit_text,
            self.refs.cite(check.limit_citations),
            check.limit_unverified,
        )

    def product_not_preferred(self) -> bool:
        found = self.assessment.product
        return found is not None and found.known and found.not_preferred

    def site_not_preferred(self) -> bool:
        return self.assessment.site is not None and self.assessment.site.not_preferred

    def _safety_items(self) -> list[EvidenceItem]:
        return [
            EvidenceItem(flag.title, f"{flag.message} Source: {flag.source}.", (), flag.unverified)
            for flag in self.assessment.safety.serious()
        ]

    # ------------------------------------------------------------------ answers

    def medical_necessity(self) -> Part:
        items = list(self.met_items(self.assessment.criteria))
        within = self.dose_within_item()
        if within is not None:
            items.append(within)
        unmet = self.unmet_required()
        return Part(
            items=tuple(items),
            measures=self.measures(),
            note=dose_reduction_text(self.case),
            supported=not unmet,
            unsupported=unmet,
        )

    def criteria(self, criterion_ids: Sequence[str]) -> Part:
        items, unsupported = [], []
        for criterion_id in criterion_ids:
            result = self.result(criterion_id)
            if result is None:
                criterion = next(c for c in self.definition.all_criteria() if c.id == criterion_id)
                applies = " and ".join(t.value for t in criterion.applies_to)
                items.append(
                    EvidenceItem(
                        criterion.title,
                        f"Under the criteria applied, this applies to {applies} requests only; "
                        f"this is a {self.case.request_type.value} request.",
                        self.cite(criterion.citations),
                        criterion.unverified,
                    )
                )
            elif result.status is Status.MET:
                items.append(self.met_item(result))
            else:
                unsupported.append(result.title)
        return Part(items=tuple(items), supported=not unsupported, unsupported=tuple(unsupported))

    def step_therapy(self) -> Part:
        request = self.case.request_type
        tops = [
            c
            for c in self.definition.criteria
            if request in c.applies_to and _contains(c, StepTherapyCriterion)
        ]
        therapies = _therapy_rows(self.case)
        if not tops:
            return Part(therapies=therapies, alternative=True)
        results = [r for r in (self.result(c.id) for c in tops) if r is not None]
        unmet = tuple(r.title for r in results if r.required and r.status is not Status.MET)
        return Part(
            items=self.met_items(results),
            therapies=therapies,
            supported=not unmet,
            unsupported=unmet,
        )

    def dose(self) -> Part:
        rows, paragraphs, dosing_refs, dosing_unverified = _treatment_rows(
            self.case, self.assessment, self.library, self.definition, self.refs
        )
        dose_rows = tuple(r for r in rows if r.label in DOSE_ROW_LABELS)
        check = self.assessment.dose
        if check.dose is None:
            reason = "; ".join(f.message for f in check.findings) or "the dose cannot be computed"
            return Part(rows=dose_rows, supported=False, unsupported=(reason,))
        excess = check.excess
        issues = (
            tuple(f"Requested: {text}." for text in excess)
            if excess
            else tuple(f.message for f in check.findings)
        )
        if not issues:
            return Part(
                rows=dose_rows,
                paragraphs=tuple(paragraphs),
                paragraph_refs=dosing_refs,
                measures=self.measures(),
                note=dose_reduction_text(self.case),
                unverified=dosing_unverified,
            )
        items = [EvidenceItem(DOSE_GROUND_LABELS[g]) for g in self.justification.dose]
        if check.limit_text:
            items.append(
                EvidenceItem(
                    f"The {check.limit_label.lower()} regimen for {self.indication}",
                    check.limit_text,
                    self.refs.cite(check.limit_citations),
                    check.limit_unverified,
                )
            )
        narrative = _paragraphs(self.justification.dose_details)
        grounds = bool(self.justification.dose or narrative)
        return Part(
            rows=dose_rows,
            paragraphs=tuple(paragraphs),
            listed=issues,
            items=tuple(items),
            measures=self.measures(),
            note=dose_reduction_text(self.case),
            narrative=narrative,
            supported=grounds,
            unsupported=() if grounds else tuple(excess or issues),
            alternative=True,
            unverified=dosing_unverified,
        )

    def indication_evidence(self) -> Part:
        items: list[EvidenceItem] = []
        if self.definition.coverage is CoverageStatus.STANDARD:
            used = [cid for c in self.definition.all_criteria() for cid in c.citations]
            used += [cid for limit in self.definition.dosing for cid in limit.citations]
            numbers = self.cite(dict.fromkeys(used))
            items.append(
                EvidenceItem(
                    f"Published guidelines and coverage criteria for immune globulin in "
                    f"{self.indication}",
                    f"{len(numbers)} sources, listed under References.",
                    numbers,
                )
            )
            found = self.assessment.product
            if found is not None and found.labeled:
                items.append(
                    EvidenceItem(
                        f"{found.name}'s label lists {self.indication}",
                        "",
                        (),
                        found.labeled_unverified,
                    )
                )
            items.extend(self.met_items(self.assessment.criteria))
            return Part(items=tuple(items))
        unmet = self.unmet_required()
        return Part(
            listed=self.definition.exception_needs,
            items=self.met_items(self.assessment.criteria),
            narrative=_paragraphs(self.justification.indication_details),
            supported=not unmet,
            unsupported=unmet,
            alternative=True,
        )

    def site(self) -> Part:
        found = self.assessment.site
        rows = [Row("Site of care requested", SITE_LABELS[self.case.site_of_care])]
        preference = found.preference if found is not None else ""
        if found is not None and preference:
            rows.append(
                Row("Site-of-care programs", preference.capitalize(), note=found.preference_source)
            )
        for payer_note in found.payer_notes if found is not None else ():
            rows.append(
                Row(
                    f"{self.assessment.payer_name} policy",
                    payer_note.text,
                    note=f"{payer_note.source}, {payer_note.as_of}",
                    unverified=payer_note.unverified,
                )
            )
        items = [EvidenceItem(SITE_GROUND_LABELS[g]) for g in self.justification.site_of_care]
        items += self._safety_items()
        narrative = _paragraphs(self.justification.site_of_care_details)
        grounds = bool(self.justification.site_of_care or narrative)
        preferred = preference == "preferred site" and not grounds
        return Part(
            rows=tuple(rows),
            items=tuple(items),
            narrative=narrative,
            supported=grounds or preferred,
            unsupported=() if grounds or preferred else ("the reason for this site of care",),
            alternative=preferred,
        )

    def product_choice(self) -> Part:
        rows = []
        found = self.assessment.product
        if found is not None and found.known:
            rows.append(Row("Product requested", f"{found.name} ({found.hcpcs})"))
            if found.excluded:
                rows.append(
                    Row(
                        self.assessment.payer_name,
                        f"Does not cover {found.name}",
                        note=found.source,
                    )
                )
        if found is not None and found.preferred_names:
            rows.append(
                Row("Preferred products", ", ".join(found.preferred_names), note=found.source)
            )
        items = [EvidenceItem(PRODUCT_GROUND_LABELS[g]) for g in self.justification.product]
        for therapy in self.case.prior_therapies:
            if therapy.therapy_class != "immune_globulin":
                continue
            end = format_short_date(therapy.end) if therapy.end else "ongoing"
            items.append(
                EvidenceItem(
                    f"{therapy.agent}: {OUTCOME_LABELS[therapy.outcome].lower()}",
                    f"{format_short_date(therapy.start)} to {end}"
                    + (f"; {therapy.note}" if therapy.note else ""),
                )
            )
        items += self._safety_items()
        narrative = _paragraphs(self.justification.product_details)
        grounds = bool(self.justification.product or narrative)
        preferred = not grounds and found is not None and found.preferred is True
        return Part(
            rows=tuple(rows),
            items=tuple(items),
            narrative=narrative,
            supported=grounds or preferred,
            unsupported=() if grounds or preferred else ("the reason for this product",),
            alternative=preferred,
        )

    def records(self, payer_says_missing: Sequence[str] = ()) -> Part:
        by_enclosure: dict[str, list[Attachment]] = {}
        for attachment in self.attachments:
            by_enclosure.setdefault(attachment.enclosure_id or "", []).append(attachment)
        items: list[EvidenceItem] = []
        missing: list[str] = []
        for enclosure in self.definition.enclosures:
            if self.case.request_type not in enclosure.applies_to:
                continue
            found = by_enclosure.pop(enclosure.id, [])
            if found:
                items.append(EvidenceItem(enclosure.title, "Enclosed: " + _files(found)))
            elif enclosure.required:
                missing.append(enclosure.title)
        by_enclosure.pop(DENIAL_NOTICE_ENCLOSURE, None)
        others = [a for group in by_enclosure.values() for a in group]
        if others:
            items.append(EvidenceItem("Also enclosed", _files(others)))
        missing += [
            f"information missing in the case: {r.title}"
            for r in self.assessment.criteria
            if r.required and r.status is Status.MISSING
        ]
        return Part(
            listed=tuple(payer_says_missing),
            items=tuple(items),
            supported=not missing,
            unsupported=tuple(missing),
        )


def _files(attachments: Sequence[Attachment]) -> str:
    return "; ".join(
        f"{a.label} ({MEDIA_TYPE_LABELS[a.media_type]}, "
        f"{a.pages} page{'s' if a.pages != 1 else ''})"
        for a in attachments
    )


def edits(
    narrative: Mapping[str, str] | None, allowed: Sequence[str], limit: int
) -> dict[str, tuple[str, ...]]:
    """Check a physician's edited sections by name and size; split them into paragraphs."""
    if not narrative:
        return {}
    unknown = sorted(set(narrative) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown narrative section {', '.join(unknown)}; sections are {', '.join(allowed)}"
        )
    out = {}
    for key, text in narrative.items():
        if len(text) > limit:
            raise ValueError(
                f"the {key} section is {len(text):,} characters; the limit is {limit:,}"
            )
        out[key] = _paragraphs(text)
    return out
