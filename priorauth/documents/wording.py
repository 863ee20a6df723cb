"""How every document writes dates, counts, names and the text a person typed.

Numbers are written by ``priorauth.domain.quantities.plain_number``, the one
Decimal formatter; this module adds what only documents need.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from priorauth.domain.quantities import plain_number

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(value: dt.date) -> str:
    """Write a date the way a US letter does: November 20, 2026."""
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}"


def format_short_date(value: dt.date) -> str:
    """Write a date as MM/DD/YYYY, the form US payer forms use."""
    return f"{value.month:02d}/{value.day:02d}/{value.year}"


def plural(count: int | Decimal, word: str) -> str:
    """Write a count with its noun: 1 day, 5 days, 0.5 weeks."""
    return f"{plain_number(Decimal(count))} {word}{'' if count == 1 else 's'}"


def in_sentence(name: str) -> str:
    """Lower a name's first letter for use mid-sentence, unless it starts an acronym."""
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


def paragraphs(text: str) -> tuple[str, ...]:
    """Split free text into paragraphs on blank lines; keep each paragraph's words as typed."""
    blocks = [" ".join(block.split()) for block in text.replace("\r\n", "\n").split("\n\n")]
    return tuple(block for block in blocks if block)


def edited_sections(
    narrative: Mapping[str, str] | None, allowed: Sequence[str], limit_chars: int
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
        if len(text) > limit_chars:
            raise ValueError(
                f"the {key} section is {len(text):,} characters; the limit is {limit_chars:,}"
            )
        out[key] = paragraphs(text)
    return out


# A tag pointing into the project's reference notes ("[S4]", "[S6, undated summary]").
_SOURCE_TAG = re.compile(r"\s*\[(?:S\d+|issue \d+)[^\]]*\]")


def without_source_tags(text: str) -> str:
    """A source as a payer reads it: without the tags that point into the reference notes."""
    return _SOURCE_TAG.sub("", text).strip()


def office_contact(phone: str, fax: str) -> str:
    """How to reach the prescriber's office, to end "I am available to discuss..." with.

    Empty when the case gives neither number: the letter then never says "my office
    can be reached." with nothing after it.
    """
    if phone and fax:
        return f"; my office can be reached at {phone} (fax {fax})"
    if phone:
        return f"; my office can be reached at {phone}"
    if fax:
        return f"; my office can be reached by fax at {fax}"
    return ""
