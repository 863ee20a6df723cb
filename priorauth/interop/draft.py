"""An intake draft: the case JSON as far as a record fills it, and what was left or ignored.

The draft is the same shape the command line and the intake read (a case file),
with only the values the record holds. Every value carries where it came from;
every item the import could not use is listed with the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from priorauth.domain.case import Case

# The top-level keys a case needs before it can be assessed; a draft lists those it lacks.
CASE_KEYS = (
    "patient",
    "coverage",
    "prescriber",
    "site_of_care",
    "request_type",
    "indication_id",
    "icd10_codes",
    "measurements",
    "regimen",
)


class FhirInputError(ValueError):
    """The input is not something the import can read: one line per bad field."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def fields(self) -> list[dict[str, str]]:
        """The problems as JSON for an API: each field's dotted path and its message."""
        found = []
        for line in self.problems or [f"(whole input): {self.message}"]:
            path, _, message = line.partition(": ")
            found.append({"field": path, "message": message or line})
        return found


@dataclass(frozen=True)
class FromRecord:
    """One value of the draft and the resource it came from."""

    field: str
    source: str
    mapping: str = ""
    unverified: bool = False


@dataclass(frozen=True)
class Ignored:
    """One item of the input that the draft does not use, and why."""

    item: str
    reason: str


@dataclass(frozen=True)
class ImportResult:
    draft: dict[str, Any]
    from_record: tuple[FromRecord, ...]
    ignored: tuple[Ignored, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """The parts of a case the record did not give: staff fill them."""
        return tuple(key for key in CASE_KEYS if key not in self.draft)

    def case(self, as_of: dt.date, completed_with: dict[str, Any] | None = None) -> Case:
        """The draft as a Case, with the staff's entries laid over the gaps.

        Raises pydantic's ValidationError naming each field still wrong or missing.
        """
        merged = fill_gaps(self.draft, completed_with or {})
        return Case.model_validate(merged, context={"today": as_of})

    def to_complete(self, as_of: dt.date) -> list[str]:
        """What staff still fill inside the parts the record gave: one line per field.

        The parts the record did not give at all are in ``missing``.
        """
        try:
            Case.model_validate(self.draft, context={"today": as_of})
        except ValidationError as error:
            lines = validation_lines(error)
            return [line for line in lines if line.split(".")[0].split(":")[0] not in self.missing]
        return []

    def as_json(self) -> dict[str, Any]:
        """The draft, what came from the record, and what was ignored, as JSON values."""
        return {
            "case": jsonable(self.draft),
            "from_record": [
                {
                    "field": item.field,
                    "source": item.source,
                    **({"mapping": item.mapping} if item.mapping else {}),
                    **({"mapping_unverified": True} if item.unverified else {}),
                }
                for item in self.from_record
            ],
            "missing": list(self.missing),
            "ignored": [{"item": item.item, "reason": item.reason} for item in self.ignored],
        }


def fill_gaps(draft: dict[str, Any], entries: dict[str, Any]) -> dict[str, Any]:
    """The draft with every key it lacks taken from entries, at any depth; its own stay."""
    merged = dict(entries)
    for key, value in draft.items():
        other = merged.get(key)
        if isinstance(value, dict) and isinstance(other, dict):
            merged[key] = fill_gaps(value, other)
        else:
            merged[key] = value
    return merged


def jsonable(value: Any) -> Any:
    """Dates as ISO text and Decimals as JSON numbers, at any depth."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def validation_lines(error: ValidationError, prefix: str = "") -> list[str]:
    """One line per error: the field's dotted path and a plain message."""
    lines = []
    for item in error.errors():
        path = ".".join(str(step) for step in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{prefix}{path}: {message}" if path else f"{prefix or '(whole)'}: {message}")
    return lines


@dataclass
class DraftBuilder:
    """Collects values by dotted path, with their sources, and the items ignored."""

    draft: dict[str, Any] = field(default_factory=dict)
    sources: list[FromRecord] = field(default_factory=list)
    skipped: list[Ignored] = field(default_factory=list)
    # Working notes that are not part of the case (the date of the weight kept).
    marks: dict[str, Any] = field(default_factory=dict)

    def set(
        self, path: str, value: Any, source: str, mapping: str = "", unverified: bool = False
    ) -> None:
        *parents, last = path.split(".")
        node = self.draft
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
        self.sources = [item for item in self.sources if item.field != path]
        self.sources.append(FromRecord(path, source, mapping, unverified))

    def append(
        self, path: str, value: Any, source: str, mapping: str = "", unverified: bool = False
    ) -> None:
        """Add one item to a list field; its source names the item's index."""
        *parents, last = path.split(".")
        node = self.draft
        for part in parents:
            node = node.setdefault(part, {})
        items = node.setdefault(last, [])
        items.append(value)
        self.sources.append(FromRecord(f"{path}.{len(items) - 1}", source, mapping, unverified))

    def get(self, path: str) -> Any:
        node: Any = self.draft
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def ignore(self, item: str, reason: str) -> None:
        self.skipped.append(Ignored(item, reason))

    def result(self) -> ImportResult:
        return ImportResult(self.draft, tuple(self.sources), tuple(self.skipped))
