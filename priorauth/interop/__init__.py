"""FHIR R4 in and out: a record's Bundle becomes a draft, a case goes out as a PAS Bundle,
an indication goes out as a Questionnaire.

Uses the domain and the rules, never the web or the store. The functions here
are what the command line and the JSON API call.
"""

from __future__ import annotations

from typing import Any

from priorauth.rules.library import Library, load_library

from . import bundle_in
from .draft import FhirInputError, FromRecord, Ignored, ImportResult

__all__ = [
    "FhirInputError",
    "FromRecord",
    "Ignored",
    "ImportResult",
    "import_bundle",
]


def import_bundle(
    data: Any, library: Library | None = None, payer_profile: str | None = None
) -> ImportResult:
    """A FHIR R4 Bundle (parsed JSON) as an intake draft; FhirInputError when unreadable."""
    return bundle_in.import_bundle(data, library or load_library(), payer_profile)
