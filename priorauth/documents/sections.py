"""One section of a letter that answers a denial's reason or asks for an exception.

The appeal and the exception request place each ``Part`` of evidence under the
wording forms/appeals.toml gives its reason, with the physician's own words
after it; both list the enclosures the same way. The section is for the payer;
its review block (the same lines, each with its doubts) is for the physician.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from priorauth.domain.case import SITE_LABELS
from priorauth.domain.denial import APPEAL_LEVEL_LABELS, Denial
from priorauth.rules.appeals import ReasonRule, fill

from .doubts import Doubt, ReviewBlock, block, items
from .evidence import Evidence, EvidenceItem, Part
from .parts import Row, TherapyRow
from .response import MeasureRow
from .review_blocks import refs_text, row_text, therapy_text
from .wording import format_date, in_sentence


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


@dataclass(frozen=True)
class Answered:
    """A section for the payer, what it leaves unanswered, and its review block."""

    section: Section
    # The draft reason when the evidence falls short and no one argued it ("" otherwise).
    missing: str
    review: ReviewBlock


@dataclass(frozen=True, slots=True)
class EnclosureStatus:
    title: str
    status: str


def template_values(evidence: Evidence, denial: Denial | None = None) -> dict[str, str]:
    """The values the wording in appeals.toml may name."""
    values = {
        "patient": evidence.case.patient.full_name,
        "indication": evidence.indication,
        "product": evidence.product_name,
        "payer": evidence.case.coverage.payer_name,
        "site": in_sentence(SITE_LABELS[evidence.case.site_of_care]),
    }
    if denial is not None:
        values.update(
            level=APPEAL_LEVEL_LABELS[denial.level].lower(),
            reference=denial.payer_reference,
            denial_date=format_date(denial.date),
            urgency=denial.urgency,
        )
    return values


def make_section(
    key: str,
    rule_heading: str,
    intro: str,
    closing: str,
    part: Part,
    *,
    denial_says: str = "",
    reviewer_words: str = "",
    physician: tuple[str, ...] = (),
) -> Answered:
    """Put a part's evidence under its wording, with the physician's words after it."""
    shown = (
        part.supported
        or part.items
        or part.paragraphs
        or part.therapies
        or part.measures
        or part.listed
        or part.narrative
        or physician
    )
    section = Section(
        key=key,
        heading=rule_heading,
        denial_says=denial_says,
        reviewer_words=reviewer_words,
        listed=part.listed,
        # An introduction to evidence that is not there would promise what is missing.
        intro=intro if shown else "",
        rows=items(part.rows),
        paragraphs=items(part.paragraphs),
        paragraph_refs=part.paragraph_refs,
        items=items(part.items),
        therapies=part.therapies,
        measures=part.measures,
        note=part.note,
        narrative=part.narrative + physician,
        closing=closing if part.supported else "",
        supported=part.supported,
    )
    return Answered(section, "", _review(section, part))


def _item_text(item: EvidenceItem) -> str:
    return f"{item.text}{refs_text(item.refs)}" + (f": {item.detail}" if item.detail else "")


def _review(section: Section, part: Part) -> ReviewBlock:
    """The section line by line as the payer reads it, each evidence line with its doubts."""
    lines: list[tuple[str, tuple[Doubt, ...]]] = [
        (text, ())
        for text in (section.denial_says, section.reviewer_words, *section.listed, section.intro)
        if text
    ]
    lines += [(_item_text(m.item), m.doubts) for m in part.items]
    lines += [(text, ()) for text in section.narrative]
    lines += [(row_text(m.item), m.doubts) for m in part.rows]
    lines += [(m.item, m.doubts) for m in part.paragraphs]
    lines += [(therapy_text(t), ()) for t in section.therapies]
    lines += [
        (f"{m.measure}: {m.before} → {m.now}" + (f" ({m.change})" if m.change else ""), ())
        for m in section.measures
    ]
    lines += [(text, ()) for text in (section.note, section.closing) if text]
    return block(section.heading, lines)


def reason_section(
    key: str,
    rule: ReasonRule,
    part: Part,
    values: Mapping[str, str],
    *,
    heading: str | None = None,
    answers_denial: bool = False,
    reviewer_words: str = "",
    physician: tuple[str, ...] = (),
) -> Answered:
    """Word a part under its reason's rule; also the draft reason when it falls short.

    ``heading`` replaces the rule's own; ``answers_denial`` adds what the denial says.
    The draft reason is empty when the evidence answers the reason or the
    physician wrote the argument.
    """
    filled = {**values, "unsupported": "; ".join(part.unsupported)}
    use_alternative = part.alternative and bool(rule.alternative)
    answered = make_section(
        key,
        heading if heading is not None else fill(rule.heading, filled),
        fill(rule.alternative if use_alternative else rule.response, filled),
        fill(rule.alternative_supported if use_alternative else rule.supported, filled),
        part,
        denial_says=fill(rule.denial_says, filled) if answers_denial else "",
        reviewer_words=reviewer_words,
        physician=physician,
    )
    missing = fill(rule.unsupported, filled) if not part.supported and not physician else ""
    return Answered(answered.section, missing, answered.review)
