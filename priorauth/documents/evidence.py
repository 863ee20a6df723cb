"""The case's evidence, gathered once per document for the appeal, the
medical-exception request and the peer-to-peer sheet.

An ``Evidence`` holds the case, its assessment, the definitions, the grounds the
physician recorded and the files enclosed, with one reference list for the whole
document; ``answers.py`` asks it one question at a time. Nothing here claims
what the assessment did not find. Evidence a payer reads comes ``Marked`` with
its doubts, which go to the physician's review sheet, never to the payer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from priorauth.domain.case import Case, RequestType
from priorauth.domain.denial import Attachment, Justification
from priorauth.rules.assessment import Assessment, CriterionResult, Status
from priorauth.rules.citations import cite
from priorauth.rules.library import Library
from priorauth.rules.schema import IndicationDefinition, PayerProfile

from .doubts import Doubt, DoubtKind, Marked, unverified
from .parts import References, Row, TherapyRow, met_line
from .response import MeasureRow, response_rows

# The enclosure id every appeal packet may use besides the indication's own.
DENIAL_NOTICE_ENCLOSURE = "denial_notice"


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One piece of evidence: what it shows, its detail, its references."""

    text: str
    detail: str = ""
    refs: tuple[int, ...] = ()


@dataclass(frozen=True)
class Part:
    """The evidence for one question, and whether it answers the question."""

    items: tuple[Marked[EvidenceItem], ...] = ()
    rows: tuple[Marked[Row], ...] = ()
    paragraphs: tuple[Marked[str], ...] = ()
    paragraph_refs: tuple[int, ...] = ()
    therapies: tuple[TherapyRow, ...] = ()
    measures: tuple[MeasureRow, ...] = ()
    listed: tuple[str, ...] = ()
    narrative: tuple[str, ...] = ()
    note: str = ""
    supported: bool = True
    # What is missing, named in the review's draft reasons when the evidence falls short.
    unsupported: tuple[str, ...] = ()
    # The second wording of the section applies (no requirement, above the limit, exception).
    alternative: bool = False


@dataclass
class Evidence:
    """The evidence one case offers, with one reference list for the whole document."""

    case: Case
    assessment: Assessment
    library: Library
    refs: References = field(default_factory=References)
    justification: Justification = field(default_factory=Justification)
    attachments: Sequence[Attachment] = ()

    def __post_init__(self) -> None:
        self.definition: IndicationDefinition = self.library.indications[
            self.assessment.indication_id
        ]
        self.indication = self.definition.short_name or self.definition.name
        found = self.assessment.product
        self.product_name = found.name if found is not None else self.case.regimen.product_id
        self.payer: PayerProfile = self.library.payers.get(
            self.assessment.payer_id, self.library.payers["reference"]
        )

    def result(self, criterion_id: str) -> CriterionResult | None:
        return self.assessment.result(criterion_id)

    def met_item(self, result: CriterionResult) -> Marked[EvidenceItem]:
        line = met_line(result, self.refs)
        criterion = line.item
        return Marked(
            EvidenceItem(criterion.title, "; ".join(criterion.evidence), criterion.refs),
            line.doubts,
        )

    def cite(self, citation_ids: Iterable[str]) -> tuple[int, ...]:
        """Cite sources of the definition, as the rules choose them for this payer."""
        return self.refs.cite(cite(self.definition, citation_ids, self.payer))

    def met_items(self, results: Iterable[CriterionResult]) -> tuple[Marked[EvidenceItem], ...]:
        met = [r for r in results if r.status is Status.MET]
        # Required criteria first: they are what the reviewer checks off.
        met.sort(key=lambda r: not r.required)
        return tuple(self.met_item(r) for r in met)

    def unmet_required(self) -> tuple[str, ...]:
        return self.assessment.unmet_required()

    def measures(self) -> tuple[MeasureRow, ...]:
        if self.case.request_type is not RequestType.CONTINUATION:
            return ()
        return response_rows(self.case, self.definition)

    def dose_within_item(self) -> Marked[EvidenceItem] | None:
        """The regimen is within the indication's limits, when the engine found nothing."""
        check = self.assessment.dose
        if not check.within_limits:
            return None
        return self.limit_item(
            f"Dose within the {check.limit_label.lower()} regimen for {self.indication}"
        )

    def limit_item(self, title: str) -> Marked[EvidenceItem]:
        """The indication's dosing limits, cited, with their doubt."""
        check = self.assessment.dose
        return Marked(
            EvidenceItem(title, check.limit_text, self.refs.cite(check.limit_citations)),
            unverified(
                check.limit_unverified,
                check.limit_note,
                "The dosing limits for this indication are not confirmed by a source.",
            ),
        )

    def product_not_preferred(self) -> bool:
        found = self.assessment.product
        return found is not None and found.known and found.not_preferred

    def site_not_preferred(self) -> bool:
        return self.assessment.site is not None and self.assessment.site.not_preferred

    def safety_items(self) -> list[Marked[EvidenceItem]]:
        """The serious safety findings, named for the payer; their advice is for staff.

        A flag's message is written for staff ("payers check...", "choose another
        product"), its source may be another payer's policy: both go beside the item.
        """
        return [
            Marked(
                EvidenceItem(flag.title),
                (
                    Doubt(flag.message, flag.source, DoubtKind.NOTE),
                    *unverified(flag.unverified, flag.source),
                ),
            )
            for flag in self.assessment.safety.serious()
        ]
