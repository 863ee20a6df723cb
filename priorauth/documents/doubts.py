"""What staff and the signing physician must see before a payer document leaves the clinic.

A document for the payer (letter, appeal, exception request, fax cover) is built
from records that have no field for an internal mark: no draft banner, no
"unverified" badge, no instruction to staff. What is doubtful about it is kept
beside it instead, in a ``Review``: the document's content line by line, each
line with its doubts and where each doubt comes from. The physician's review
sheet (review.py) prints it; the payer never sees it.

Builders make ``Marked`` items (an item and its doubts), put ``.item`` into the
payer context and the whole into the review, so both come from the same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")
# Why a value is doubtful, when its source says nothing more.
NOT_CONFIRMED = "Not confirmed by a source in the reference notes."


class DoubtKind(StrEnum):
    # A value or rule no source confirmed.
    UNVERIFIED = "unverified"
    # What the document rests on without saying so (a weight rule, a payer's variation,
    # a deadline worked out from a rule).
    ASSUMPTION = "assumption"
    # Something wrong with the case that the document cannot show (an unknown code).
    PROBLEM = "problem"
    # What staff should know of a line (how a source was read, a safety finding's advice).
    NOTE = "note"


DOUBT_LABELS = {
    DoubtKind.UNVERIFIED: "Unverified",
    DoubtKind.ASSUMPTION: "Assumption",
    DoubtKind.PROBLEM: "Problem",
    DoubtKind.NOTE: "Note",
}


@dataclass(frozen=True, slots=True)
class Doubt:
    """Something the physician should check or know, and where it comes from."""

    text: str
    source: str = ""
    kind: DoubtKind = DoubtKind.UNVERIFIED

    @property
    def label(self) -> str:
        return DOUBT_LABELS[self.kind]


@dataclass(frozen=True, slots=True)
class Marked(Generic[T]):
    """A payer-facing item and the doubts kept beside it for staff."""

    item: T
    doubts: tuple[Doubt, ...] = ()


def unverified(flag: bool, source: str = "", text: str = NOT_CONFIRMED) -> tuple[Doubt, ...]:
    """One doubt when ``flag`` is set: the value is not confirmed, with its source's note."""
    return (Doubt(text, source),) if flag else ()


def items(marked: Iterable[Marked[T]]) -> tuple[T, ...]:
    """The payer-facing items alone."""
    return tuple(m.item for m in marked)


@dataclass(frozen=True, slots=True)
class ReviewLine:
    """One line of the payer document, as it reads there, with its doubts."""

    shown: str
    doubts: tuple[Doubt, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewBlock:
    """One part of the payer document (Diagnosis, Dosing, References...)."""

    heading: str
    lines: tuple[ReviewLine, ...]

    @property
    def doubt_count(self) -> int:
        return sum(len(line.doubts) for line in self.lines)


def block(heading: str, lines: Iterable[tuple[str, Sequence[Doubt]]]) -> ReviewBlock:
    """A block of lines as the document shows them; a line it leaves empty is not one."""
    return ReviewBlock(
        heading, tuple(ReviewLine(shown, tuple(d)) for shown, d in lines if shown or d)
    )


def text_block(heading: str, paragraphs: Iterable[str]) -> ReviewBlock:
    """A block of the document's own words, with nothing to check in them."""
    return block(heading, ((text, ()) for text in paragraphs))


@dataclass(frozen=True)
class Review:
    """The internal side of a payer document: why not to send it yet, and every doubt."""

    document_title: str
    # What the review sheet calls it: "letter", "appeal", "exception request".
    document: str = "document"
    # Why the document must not be sent as it stands (a criterion not met, a reason
    # the evidence does not answer, a deadline passed).
    draft_reasons: tuple[str, ...] = ()
    # What the assessment warns of, though the document may be sent.
    warnings: tuple[str, ...] = ()
    blocks: tuple[ReviewBlock, ...] = ()
    # Sources behind the criteria that this payer's documents leave out, for context.
    not_cited: tuple[str, ...] = ()

    @property
    def doubt_count(self) -> int:
        return sum(b.doubt_count for b in self.blocks)

    @property
    def doubts(self) -> tuple[Doubt, ...]:
        return tuple(d for b in self.blocks for line in b.lines for d in line.doubts)


C = TypeVar("C")


@dataclass(frozen=True)
class Drafted(Generic[C]):
    """A payer document's context, and its review: built together, shown apart."""

    context: C
    review: Review
