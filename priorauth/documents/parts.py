"""The small blocks every letter is made of: labelled rows, references, criteria met,
prior treatments, the letterhead and the signature.

Each is a frozen record of plain values that a template shows as it is; the
functions here turn assessment results and case data into them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from priorauth.domain.case import Case
from priorauth.domain.facts import THERAPY_CLASSES
from priorauth.domain.treatment_history import NEVER_TRIED_LABELS, OUTCOME_LABELS, NeverTriedReason
from priorauth.rules.assessment import CitationRef, CriterionResult, Status

from .wording import format_short_date

_CLASS_LABELS = dict(THERAPY_CLASSES)


@dataclass(frozen=True, slots=True)
class Row:
    """One labelled value in a block of a document."""

    label: str
    value: str
    note: str = ""
    unverified: bool = False


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str
    description: str
    unverified: bool


@dataclass(frozen=True, slots=True)
class CriterionLine:
    """A criterion the assessment found met, with what documents it."""

    title: str
    evidence: tuple[str, ...]
    refs: tuple[int, ...]
    required: bool
    unverified: bool
    payer_change: str = ""


@dataclass(frozen=True, slots=True)
class TherapyRow:
    agent: str
    therapy_class: str
    start: str
    end: str
    dose: str
    outcome: str
    note: str


@dataclass(frozen=True, slots=True)
class Reference:
    number: int
    text: str
    date: str
    url: str
    unverified: bool


@dataclass(frozen=True, slots=True)
class EnclosureLine:
    title: str
    required: bool


@dataclass(frozen=True, slots=True)
class Letterhead:
    practice_name: str
    address: str
    phone: str
    fax: str


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    credentials: str
    npi: str
    specialty: str
    practice_name: str
    practice_address: str
    phone: str
    fax: str


class References:
    """Number citations in order of first use, as a letter's reference list does."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._items: list[Reference] = []

    def cite(self, citations: Iterable[CitationRef]) -> tuple[int, ...]:
        numbers = []
        for c in citations:
            if c.id not in self._numbers:
                self._numbers[c.id] = len(self._items) + 1
                self._items.append(
                    Reference(
                        number=self._numbers[c.id],
                        text=c.text,
                        date=c.date,
                        url=c.url,
                        unverified=c.unverified,
                    )
                )
            numbers.append(self._numbers[c.id])
        return tuple(numbers)

    @property
    def items(self) -> tuple[Reference, ...]:
        return tuple(self._items)


def met_line(result: CriterionResult, refs: References) -> CriterionLine:
    """A met criterion as a letter claims it, citing only what supports the claim."""
    evidence = result.evidence
    citations = list(result.citations)
    unverified = result.unverified
    if result.children:
        # Only the alternatives that were met support the claim; a missing one's
        # evidence (or its unverified rule) must not appear as if it did.
        met = [child for child in result.children if child.status is Status.MET]
        evidence = tuple(line for child in met for line in child.evidence)
        citations += [c for child in met for c in child.citations]
        unverified = unverified or any(child.unverified for child in met)
    return CriterionLine(
        title=result.title,
        evidence=evidence,
        refs=refs.cite(citations),
        required=result.required,
        unverified=unverified,
        payer_change=result.payer_change,
    )


# Classes never given that the letter states: a reason a step could not be taken.
# Declined and not tried are the staff's to see (the assessment), not a letter's claim.
_NEVER_GIVEN_IN_LETTER = (NeverTriedReason.CONTRAINDICATED, NeverTriedReason.NOT_TOLERATED)


def therapy_rows(case: Case) -> tuple[TherapyRow, ...]:
    """The prior treatments as recorded, one row each; then the classes never given, and why."""
    tried = tuple(
        TherapyRow(
            agent=t.agent,
            therapy_class=_CLASS_LABELS.get(t.therapy_class, t.therapy_class),
            start=format_short_date(t.start),
            end=format_short_date(t.end) if t.end else "ongoing",
            dose=t.dose or "—",
            outcome=OUTCOME_LABELS[t.outcome],
            note=t.note,
        )
        for t in case.prior_therapies
    )
    never = tuple(
        TherapyRow(
            agent="Never given",
            therapy_class=_CLASS_LABELS.get(n.therapy_class, n.therapy_class),
            start="—",
            end="—",
            dose="—",
            outcome=NEVER_TRIED_LABELS[n.reason],
            note=n.note,
        )
        for n in case.never_tried
        if n.reason in _NEVER_GIVEN_IN_LETTER
    )
    return tried + never
