"""Small readers of FHIR datatypes: dates, codings, references, names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any


def as_date(value: Any) -> dt.date | None:
    """A full calendar date from a FHIR date or dateTime; None for a partial one (2026-10)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def codings(concept: Any) -> Iterator[tuple[str, str, str]]:
    """(system, code, display) of each coding of a CodeableConcept, or of a list of them."""
    concepts: Iterable[Any] = concept if isinstance(concept, list) else [concept]
    for item in concepts:
        for coding in getattr(item, "coding", None) or []:
            yield (coding.system or "", coding.code or "", coding.display or "")


def concept_text(concept: Any) -> str:
    """What a person reads for a CodeableConcept: its text, else a coding's display."""
    if concept is None:
        return ""
    if getattr(concept, "text", None):
        return str(concept.text)
    return next((display for _, _, display in codings(concept) if display), "")


def reference_key(reference: Any) -> str:
    """'Type/id' of a Reference (the last two steps of an absolute URL too)."""
    target = getattr(reference, "reference", None) or ""
    parts = target.rstrip("/").split("/")
    if len(parts) >= 2 and "_history" in parts:
        parts = parts[: parts.index("_history")]
    return "/".join(parts[-2:]) if len(parts) >= 2 else target


def resource_key(resource: Any) -> str:
    return f"{resource.get_resource_type()}/{resource.id or '(no id)'}"


def human_name(names: Any) -> tuple[str, str, str]:
    """(given names, family name, suffixes) of the official or first HumanName."""
    names = names or []
    chosen = next((n for n in names if n.use == "official"), names[0] if names else None)
    if chosen is None:
        return "", "", ""
    # A FHIR list of strings may hold nulls (a value carried only by an extension).
    given = " ".join(part for part in chosen.given or [] if part)
    return given, chosen.family or "", " ".join(part for part in chosen.suffix or [] if part)


def telecom(points: Any, system: str) -> str:
    return next((p.value for p in points or [] if p.system == system and p.value), "")


def address_line(addresses: Any) -> str:
    """One address as one line: street lines, city, state and postal code."""
    for address in addresses or []:
        if address.text:
            return str(address.text)
        parts = [*(address.line or []), address.city, address.state, address.postalCode]
        line = ", ".join(part for part in parts if part)
        if line:
            return line
    return ""
