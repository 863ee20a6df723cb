"""Read a command's inputs: the case file, and the definitions it is judged against."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from priorauth.domain.case import Case
from priorauth.rules.assessment import Assessment
from priorauth.rules.engine import case_problems, evaluate
from priorauth.rules.library import Library, load_library
from priorauth.rules.loader import DefinitionError

from .console import EXIT_FAILED, CommandError, read_text

# Keys of the example wrapper around a case (forms/indications/*/examples/*.json).
# An appeal or a packet also carries the denial, the grounds for an exception and
# the files to attach (read by priorauth/cli/documents.py).
WRAPPER_KEYS = frozenset(
    {"description", "as_of", "expect", "case", "denial", "justification", "attachments"}
)

# Problems that leave nothing to assess: the engine needs a known indication,
# product and payer profile. Every other problem is reported inside the assessment.
FATAL_PROBLEM_FIELDS = frozenset({"indication_id", "regimen.product_id", "coverage.payer_profile"})


@dataclass(frozen=True)
class CaseFile:
    """A case read from disk, with the date it is to be judged on."""

    path: Path
    case: Case
    as_of: dt.date
    description: str
    expect: dict[str, Any]
    wrapped: bool


def _field_path(loc: Sequence[int | str], prefix: str) -> str:
    """Dotted path to a field, as a person finds it in the JSON file."""
    path = ".".join(str(step) for step in loc)
    return f"{prefix}{path}" if path else prefix.rstrip(".") or "(whole case)"


def validation_messages(error: ValidationError, prefix: str = "") -> list[str]:
    """One line per validation error: the field's dotted path and a plain message."""
    lines = []
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{_field_path(item['loc'], prefix)}: {message}")
    return lines


def read_case_file(path: Path, as_of: dt.date | None = None) -> CaseFile:
    """Read a bare case or an example wrapper; raise CommandError naming the bad field."""
    text = read_text(path, kind="case file", utf8_hint="; save the case file as UTF-8 JSON")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(
            f"{path}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    if not isinstance(data, dict):
        raise CommandError(f"{path}: a case file holds one JSON object {{...}}")

    wrapped = isinstance(data.get("case"), dict)
    description, prefix = "", ""
    expect: dict[str, Any] = {}
    if wrapped:
        unknown = sorted(set(data) - WRAPPER_KEYS)
        if unknown:
            raise CommandError(
                f"{path}: not a valid case file",
                [
                    f"{key}: unknown key beside 'case'; allowed: {', '.join(sorted(WRAPPER_KEYS))}"
                    for key in unknown
                ],
            )
        description = str(data.get("description", ""))
        expect = data.get("expect") or {}
        if as_of is None and data.get("as_of") is not None:
            try:
                as_of = dt.date.fromisoformat(str(data["as_of"]))
            except ValueError:
                raise CommandError(
                    f"{path}: not a valid case file",
                    [f"as_of: {data['as_of']!r} is not a date (YYYY-MM-DD)"],
                ) from None
        data, prefix = data["case"], "case."
    as_of = as_of or dt.date.today()
    try:
        # Judge "in the future" against the assessment date, so that a case
        # replayed later, or an example, validates the same way every time.
        case = Case.model_validate(data, context={"today": as_of})
    except ValidationError as error:
        raise CommandError(
            f"{path}: not a valid case", validation_messages(error, prefix)
        ) from None
    return CaseFile(
        path=path,
        case=case,
        as_of=as_of,
        description=description,
        expect=expect,
        wrapped=wrapped,
    )


def load_definitions(forms: Path | None) -> Library:
    """Load the definitions; raise CommandError pointing at `priorauth forms check`."""
    try:
        return load_library(forms)
    except DefinitionError as error:
        where = forms or "the configured forms folder"
        raise CommandError(
            f"the definitions in {where} cannot be loaded; run `priorauth forms check`",
            error.problems,
            status=EXIT_FAILED,
        ) from None


def check_case(case_file: CaseFile, library: Library, *, strict: bool) -> list[str]:
    """Raise CommandError for problems that block the command; return the others as lines.

    ``strict`` makes every problem blocking: a letter is never written from a
    case whose codes, product or dosing inputs do not fit its indication.
    """
    prefix = "case." if case_file.wrapped else ""
    problems = case_problems(case_file.case, library)
    lines = [f"{prefix}{p.field}: {p.message}" for p in problems]
    blocking = [
        line
        for line, problem in zip(lines, problems, strict=True)
        if strict or problem.field in FATAL_PROBLEM_FIELDS
    ]
    if blocking:
        raise CommandError(f"{case_file.path}: the case does not fit the definitions", lines)
    return lines


def assess_case_file(case_file: CaseFile, library: Library) -> Assessment:
    """Evaluate the case as of its date."""
    return evaluate(case_file.case, library, case_file.as_of)
