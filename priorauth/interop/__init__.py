"""FHIR R4 in and out: a record's Bundle becomes a draft, a case goes out as a PAS Bundle,
an indication goes out as a Questionnaire.

Uses the domain and the rules, never the web or the store. The functions here
are what the command line and the JSON API call; each takes and returns plain
JSON values (dicts), and raises FhirInputError (a ValueError with one line per
bad field) on input it cannot read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from priorauth.domain.case import Case
from priorauth.rules.assessment import Assessment
from priorauth.rules.engine import evaluate
from priorauth.rules.library import Library, load_library

from . import bundle_in, pas, response
from . import questionnaire as _questionnaire
from .draft import FhirInputError, FromRecord, Ignored, ImportResult

__all__ = [
    "FhirInputError",
    "FromRecord",
    "Ignored",
    "ImportResult",
    "export_pas",
    "import_bundle",
    "import_questionnaire_response",
    "questionnaire",
]


def import_bundle(
    data: Any, library: Library | None = None, payer_profile: str | None = None
) -> ImportResult:
    """A FHIR R4 Bundle (parsed JSON) as an intake draft."""
    return bundle_in.import_bundle(data, library or load_library(), payer_profile)


def import_questionnaire_response(data: Any, library: Library | None = None) -> ImportResult:
    """A QuestionnaireResponse to one of priorauth's Questionnaires as a draft."""
    return response.read_response(library or load_library(), data)


def questionnaire(
    indication: str, payer: str | None = None, library: Library | None = None
) -> dict[str, Any]:
    """The indication's Questionnaire for a payer profile (default: reference), as FHIR JSON."""
    return _questionnaire.build_questionnaire(library or load_library(), indication, payer)


def export_pas(
    case: Case,
    library: Library | None = None,
    assessment: Assessment | None = None,
    letter_pdf: bytes | None = None,
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    """The case as a PAS request Bundle; the letter PDF (signed or not) as its DocumentReference.

    Without an assessment the case is evaluated as of ``as_of`` (default today).
    """
    library = library or load_library()
    assessment = assessment or evaluate(case, library, as_of or dt.date.today())
    return pas.export_pas(case, library, assessment, letter_pdf)
