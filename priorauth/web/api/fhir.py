"""A case from a clinic's record: a FHIR R4 Bundle in, an intake draft out.

The import itself is ``priorauth.interop`` (FHIR models, code systems, units);
this view only reads the body, calls it, and stores the draft it gives for staff
to finish in the guided intake, as the issue asks (every value from the record
marked, everything else left to staff, the ignored items listed). Where the
interop layer is not installed the endpoint answers 501 with a JSON message.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from priorauth.domain.case import RequestType

from .. import context
from ..permissions import Permission, requires
from . import errors
from .drafting import draft_out, start_draft
from .errors import FieldError, fail
from .schemas import (
    API_PREFIX,
    FhirBundle,
    FhirImportOut,
    FhirQuery,
    answers,
    read_json,
    read_query,
    spec,
)

bp = Blueprint("api_fhir", __name__, url_prefix=API_PREFIX)
errors.register(bp)
INTEROP = "priorauth.interop"
# A record's Bundle is larger than a case; Flask refuses anything over 1 MB anyway.
MAX_BUNDLE_BYTES = 1024 * 1024


def interop_available() -> bool:
    return importlib.util.find_spec(INTEROP) is not None


def _interop() -> Any:
    if not interop_available():
        fail(
            501,
            "Creating a case from a FHIR Bundle needs the FHIR import (priorauth.interop), "
            "which this installation does not have yet. Send the case as JSON to POST "
            f"{API_PREFIX}/cases, or part of it to POST {API_PREFIX}/drafts.",
        )
    return importlib.import_module(INTEROP)


@bp.post("/drafts/fhir")
@requires(Permission.CASE_CREATE, action="draft.create_from_fhir")
@spec.validate(
    query=FhirQuery,
    json=FhirBundle,
    resp=answers(FhirImportOut, 400, 403, 413, 415, 422, 501, ok_status=201),
    tags=["drafts", "cases"],
    skip_validation=True,
)
def import_bundle() -> Response:
    """Create a case from a FHIR R4 Bundle: it becomes an intake draft for staff to finish."""
    interop = _interop()
    query = read_query(FhirQuery)
    library = context.library()
    if query.payer_profile is not None and query.payer_profile not in library.payers:
        message = f"unknown payer profile {query.payer_profile!r}"
        fail(422, "", [FieldError(field="payer_profile", message=message)])
    bundle = read_json(MAX_BUNDLE_BYTES)
    try:
        result = interop.import_bundle(bundle, library, query.payer_profile)
    except interop.FhirInputError as error:
        fail(422, error.message, [FieldError(**item) for item in error.fields()])
    found = result.as_json()
    draft = start_draft(
        found["case"],
        indication_id=found["case"].get("indication_id"),
        indication_field="case.indication_id",
        request_type=RequestType.INITIAL,
        detail="fhir",
    )
    context.db().commit()
    body = FhirImportOut(
        draft=draft_out(draft),
        from_record=found["from_record"],
        missing=found["missing"],
        to_complete=result.to_complete(context.today()),
        ignored=found["ignored"],
    )
    response = jsonify(body.model_dump(mode="json"))
    response.status_code = 201
    return response
