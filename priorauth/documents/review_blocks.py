"""A payer document's content as the physician's review sheet lists it: line by line,
each line as the document says it, with its doubts beside it (doubts.py).

The letter, the appeal and the exception request share their opening blocks
(diagnosis, treatment, laboratory results, references); each adds its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from priorauth.rules.assessment import Assessment
from priorauth.rules.citations import not_cited
from priorauth.rules.library import Library
from priorauth.rules.schema import CitationKind, IndicationDefinition

from .doubts import Marked, Review, ReviewBlock, block, text_block
from .parts import CriterionLine, Diagnosis, EnclosureLine, Reference, Row, TherapyRow

KIND_LABELS = {
    CitationKind.PAYER_POLICY: "another payer's policy",
    CitationKind.PROJECT_NOTE: "the project's own note",
}


def refs_text(numbers: Sequence[int]) -> str:
    return f" [{', '.join(map(str, numbers))}]" if numbers else ""


def row_text(row: Row) -> str:
    text = f"{row.label}: {row.value}" if row.label else row.value
    return f"{text} ({row.note})" if row.note else text


def diagnosis_lines(diagnoses: Iterable[Marked[Diagnosis]]) -> ReviewBlock:
    return block(
        "Diagnosis",
        ((f"ICD-10-CM {d.item.code} {d.item.description}".rstrip(), d.doubts) for d in diagnoses),
    )


def row_lines(heading: str, rows: Iterable[Marked[Row]]) -> ReviewBlock:
    return block(heading, ((row_text(r.item), r.doubts) for r in rows))


def plain_rows(heading: str, rows: Iterable[Row]) -> ReviewBlock:
    return block(heading, ((row_text(r), ()) for r in rows))


def criterion_text(line: CriterionLine) -> str:
    evidence = f": {'; '.join(line.evidence)}" if line.evidence else ""
    return f"{line.title}{refs_text(line.refs)}{evidence}"


def therapy_text(t: TherapyRow) -> str:
    note = t.note_below or t.note
    return f"{t.agent} ({t.therapy_class}), {t.start} to {t.end}, {t.dose}: {t.outcome}" + (
        f"; {note}" if note else ""
    )


def reference_lines(references: Iterable[Marked[Reference]]) -> ReviewBlock:
    return block(
        "References",
        (
            (
                f"[{r.item.number}] {r.item.text} ({r.item.date})"
                + (f" {r.item.url}" if r.item.url else ""),
                r.doubts,
            )
            for r in references
        ),
    )


class LetterContent(Protocol):
    """What the letter's blocks read from its context (letter.LetterContext)."""

    @property
    def opening(self) -> tuple[str, ...]: ...
    @property
    def clinical_history(self) -> tuple[str, ...]: ...
    @property
    def labs(self) -> tuple[Row, ...]: ...
    @property
    def justification(self) -> tuple[str, ...]: ...
    @property
    def therapy_intro(self) -> str: ...
    @property
    def therapies(self) -> tuple[TherapyRow, ...]: ...
    @property
    def dosing(self) -> tuple[str, ...]: ...
    @property
    def dosing_refs(self) -> tuple[int, ...]: ...
    @property
    def closing(self) -> tuple[str, ...]: ...
    @property
    def enclosures(self) -> tuple[EnclosureLine, ...]: ...


def letter_blocks(
    context: LetterContent,
    *,
    diagnoses: Sequence[Marked[Diagnosis]],
    treatment_rows: Sequence[Marked[Row]],
    criteria: Sequence[Marked[CriterionLine]],
    dosing: Sequence[Marked[str]],
    references: Sequence[Marked[Reference]],
) -> tuple[ReviewBlock, ...]:
    """The letter of medical necessity, block by block, in the order it reads."""
    blocks = [
        text_block("Opening", context.opening),
        diagnosis_lines(diagnoses),
        row_lines("Treatment requested", treatment_rows),
        text_block("Clinical history", context.clinical_history),
        plain_rows("Laboratory results", context.labs),
        block(
            "Medical necessity",
            [*((p, ()) for p in context.justification)]
            + [(criterion_text(c.item), c.doubts) for c in criteria],
        ),
        block(
            "Prior treatment",
            [(context.therapy_intro, ())] + [(therapy_text(t), ()) for t in context.therapies],
        ),
        _dosing_block(dosing, context.dosing, context.dosing_refs),
        text_block("Closing", context.closing),
        block(
            "Enclosures",
            ((e.title + ("" if e.required else " (if available)"), ()) for e in context.enclosures),
        ),
        reference_lines(references),
    ]
    return tuple(b for b in blocks if b.lines)


def _dosing_block(
    marked: Sequence[Marked[str]], paragraphs: Sequence[str], refs: Sequence[int]
) -> ReviewBlock:
    """The dosing paragraphs, the last with its references; built ones with their doubts."""
    lines = [(m.item, m.doubts) for m in marked] or [(p, ()) for p in paragraphs]
    if lines:
        text, doubts = lines[-1]
        lines[-1] = (text + refs_text(refs), doubts)
    return block("Dosing", lines)


def not_cited_sources(
    definition: IndicationDefinition, library: Library, assessment: Assessment
) -> tuple[str, ...]:
    """The sources behind this indication's rules that this payer's documents leave out."""
    payer = library.payers.get(assessment.payer_id, library.payers["reference"])
    ids = [cid for c in definition.all_criteria() for cid in c.citations]
    ids += [cid for limit in definition.dosing for cid in limit.citations]
    return tuple(
        f"{ref.text} ({ref.date}): {KIND_LABELS.get(ref.kind, ref.kind.value)}, not cited"
        for ref in not_cited(definition, ids, payer)
    )


# The letter's blocks the appeal and the exception request repeat as they are.
SHARED_HEADINGS = ("Diagnosis", "Treatment requested", "Laboratory results")


def shared_blocks(letter: Review) -> tuple[ReviewBlock, ...]:
    """The letter's diagnosis, treatment and laboratory blocks, doubts and all."""
    return tuple(b for b in letter.blocks if b.heading in SHARED_HEADINGS)


class ClosingContent(Protocol):
    """What an appeal's or exception request's last blocks read from its context."""

    @property
    def clinical_history(self) -> tuple[str, ...]: ...
    @property
    def closing(self) -> tuple[str, ...]: ...
    @property
    def enclosures(self) -> Sequence[EnclosureWithStatus]: ...


class EnclosureWithStatus(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...


def closing_blocks(
    context: ClosingContent, references: Sequence[Marked[Reference]]
) -> tuple[ReviewBlock, ...]:
    """The clinical history, closing, enclosures and references of an appeal or exception."""
    return (
        text_block("Clinical history", context.clinical_history),
        text_block("Closing", context.closing),
        text_block(
            "Enclosures",
            (e.title + (f" ({e.status})" if e.status else "") for e in context.enclosures),
        ),
        reference_lines(references),
    )
