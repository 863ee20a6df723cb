"""One section of a letter that answers a denial's reason or asks for an exception.

The appeal and the exception request place each ``Part`` of evidence under the
wording forms/appeals.toml gives its reason, with the physician's own words
after it; both list the enclosures the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from priorauth.domain.case import SITE_LABELS
from priorauth.domain.denial import APPEAL_LEVEL_LABELS, Denial
from priorauth.rules.appeals import ReasonRule, fill

from .evidence import Evidence, EvidenceItem, Part
from .parts import Row, TherapyRow
from .response import MeasureRow
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
    unverified: bool


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
) -> Section:
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
    return Section(
        key=key,
        heading=rule_heading,
        denial_says=denial_says,
        reviewer_words=reviewer_words,
        listed=part.listed,
        # An introduction to evidence that is not there would promise what is missing.
        intro=intro if shown else "",
        rows=part.rows,
        paragraphs=part.paragraphs,
        paragraph_refs=part.paragraph_refs,
        items=part.items,
        therapies=part.therapies,
        measures=part.measures,
        note=part.note,
        narrative=part.narrative + physician,
        closing=closing if part.supported else "",
        supported=part.supported,
        unverified=part.unverified
        or any(item.unverified for item in part.items)
        or any(row.unverified for row in part.rows),
    )


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
) -> tuple[Section, str]:
    """Word a part under its reason's rule; also the draft banner's line when it falls short.

    ``heading`` replaces the rule's own; ``answers_denial`` adds what the denial says.
    The banner's line is empty when the evidence answers the reason or the
    physician wrote the argument.
    """
    filled = {**values, "unsupported": "; ".join(part.unsupported)}
    use_alternative = part.alternative and bool(rule.alternative)
    section = make_section(
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
    return section, missing
