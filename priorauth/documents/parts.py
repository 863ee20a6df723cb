"""The small blocks every letter is made of: labelled rows, references, criteria met,
prior treatments, laboratory results, the letterhead and the signature.

Each is a frozen record of plain values that a template shows as it is. The records
a payer document holds have no field for an internal mark (doubts.py): what is
doubtful about one travels beside it, in a ``Marked``, to the physician's review
sheet. Internal documents (the cost summary, the peer-to-peer sheet) use
``InternalRow``, which carries its mark.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from priorauth.domain.case import Case, LabResult
from priorauth.domain.facts import FACTS, THERAPY_CLASSES, FactKind
from priorauth.domain.quantities import plain_number
from priorauth.domain.treatment_history import NEVER_TRIED_LABELS, OUTCOME_LABELS, NeverTriedReason
from priorauth.rules.assessment import CitationRef, CriterionResult, Status
from priorauth.rules.schema import IndicationDefinition

from .doubts import Doubt, DoubtKind, Marked, unverified
from .wording import format_short_date

_CLASS_LABELS = dict(THERAPY_CLASSES)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Row:
    """One labelled value in a block of a document."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class InternalRow:
    """A labelled value in an internal document, with its unverified mark."""

    label: str
    value: str
    note: str = ""
    unverified: bool = False


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str
    description: str


@dataclass(frozen=True, slots=True)
class CriterionLine:
    """A criterion the assessment found met, with what documents it."""

    title: str
    evidence: tuple[str, ...]
    refs: tuple[int, ...]
    required: bool


# A note longer than this leaves the table's narrow Note column for a full-width line
# under its row: 4,000 characters in a column a fifth of the page wide run to pages
# of 25-character lines, each laid out again with the rest of the text after it.
CELL_NOTE_MAX_CHARS = 160


@dataclass(frozen=True, slots=True)
class TherapyRow:
    agent: str
    therapy_class: str
    start: str
    end: str
    dose: str
    outcome: str
    # The note in its column when short; else "See below" there and the note under the row.
    note: str
    note_below: str = ""


@dataclass(frozen=True, slots=True)
class Reference:
    number: int
    text: str
    date: str
    url: str


@dataclass(frozen=True, slots=True)
class InternalReference:
    """A source as an internal document lists it, with its unverified mark."""

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
class SignedBy:
    """Who signed the document, when, and what they attested: printed in its signature block."""

    name: str
    credentials: str
    npi: str
    signed_on: str
    signed_at: str
    attestation: str
    # The prescriber on the case, when another physician of the clinic signs for them.
    for_prescriber: str = ""


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
    # Set only on the signed copy; the letter for review leaves the line blank.
    signed: SignedBy | None = None


class References:
    """Number the sources a document cites, as its reference list does.

    The list follows the payer's order (the rules' ``rank``: its own policy first,
    then guidelines, label, other countries' programs, other), then the order of
    first use. Each source appears once, and a marker names each number once, in
    order. Numbers are handed out while the document is built, before every source
    is known, so a document is built twice (``numbered``): the first pass learns
    which sources it cites, the second numbers them in the payer's order.
    """

    def __init__(self, order: Sequence[str] = ()) -> None:
        self._order = list(order)
        self._cited: dict[str, CitationRef] = {}

    def _number(self, citation_id: str) -> int:
        if citation_id in self._order:
            return self._order.index(citation_id) + 1
        later = [key for key in self._cited if key not in self._order]
        return len(self._order) + 1 + later.index(citation_id)

    def cite(self, citations: Iterable[CitationRef]) -> tuple[int, ...]:
        found = list(citations)
        for c in found:
            self._cited.setdefault(c.id, c)
        return tuple(sorted({self._number(c.id) for c in found}))

    def ranked(self) -> tuple[str, ...]:
        """The sources cited so far, in the order they are to be numbered."""
        first_use = list(self._cited)
        return tuple(
            sorted(first_use, key=lambda key: (self._cited[key].rank, first_use.index(key)))
        )

    @property
    def items(self) -> tuple[Marked[Reference], ...]:
        """The reference list, each entry with what staff should know of its source."""
        return tuple(
            Marked(
                Reference(self._number(key), c.text, c.date, c.url),
                unverified(c.unverified) + ((Doubt(c.note, "", DoubtKind.NOTE),) if c.note else ()),
            )
            for key, c in sorted(self._cited.items(), key=lambda item: self._number(item[0]))
        )

    @property
    def internal_items(self) -> tuple[InternalReference, ...]:
        """The reference list of an internal document, each source with its mark."""
        return tuple(
            InternalReference(self._number(key), c.text, c.date, c.url, c.unverified)
            for key, c in sorted(self._cited.items(), key=lambda item: self._number(item[0]))
        )


def numbered(build: Callable[[References], T]) -> T:
    """Build a document twice: once to learn its sources, once to number them in order."""
    first = References()
    build(first)
    return build(References(first.ranked()))


def _criterion_doubts(result: CriterionResult, rule_doubtful: bool) -> tuple[Doubt, ...]:
    doubts = unverified(
        rule_doubtful,
        result.note,
        "The payer rule this criterion states is not confirmed by a source.",
    )
    if result.payer_change:
        doubts += (
            Doubt(
                f"This payer's variation is applied: {result.payer_change}",
                kind=DoubtKind.ASSUMPTION,
            ),
        )
    return doubts


def met_line(result: CriterionResult, refs: References) -> Marked[CriterionLine]:
    """A met criterion as a letter claims it, citing only what supports the claim."""
    evidence = result.evidence
    citations = list(result.citations)
    doubtful = result.unverified
    if result.children:
        # Only the alternatives that were met support the claim; a missing one's
        # evidence (or its unverified rule) must not appear as if it did.
        met = [child for child in result.children if child.status is Status.MET]
        evidence = tuple(line for child in met for line in child.evidence)
        citations += [c for child in met for c in child.citations]
        doubtful = doubtful or any(child.unverified for child in met)
    return Marked(
        CriterionLine(
            title=result.title,
            evidence=evidence,
            refs=refs.cite(citations),
            required=result.required,
        ),
        _criterion_doubts(result, doubtful),
    )


def _lab_value(result: LabResult, unit: str) -> str:
    return f"{plain_number(result.value)} {result.unit or unit} on {format_short_date(result.date)}"


def lab_rows(case: Case, definition: IndicationDefinition) -> tuple[Row, ...]:
    """Every laboratory result the request records, each with its date.

    The letter states them all, not only those a criterion found qualifying: a
    payer reads the values themselves (two IgG results and their dates), and a
    criterion met another way (a genetic diagnosis) leaves them out of its line.
    """
    rows = []
    for question in definition.questions_for(case.request_type):
        fact = FACTS[question.fact]
        results = case.answer(question.fact)
        if fact.kind is not FactKind.LAB or not results:
            continue
        ordered = sorted(results, key=lambda r: r.date)
        rows.append(Row(fact.label, "; ".join(_lab_value(r, fact.unit) for r in ordered)))
    return tuple(rows)


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
            note=t.note if len(t.note) <= CELL_NOTE_MAX_CHARS else "See below",
            note_below=t.note if len(t.note) > CELL_NOTE_MAX_CHARS else "",
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
