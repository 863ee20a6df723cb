"""The API's request and response bodies (pydantic), and the OpenAPI generator over them.

spectree builds the OpenAPI 3.1 document from these models and from each view's
``@spec.validate(...)`` declaration. Requests are parsed by ``read_body`` (not by
spectree) so that every error is worded as the command line words it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree

from priorauth.domain.case import Case, RequestType

from .. import context
from .errors import FieldError, Problem, fail, field_errors

API_PREFIX = "/api/v1"
# Far above any case (a full one is ~10 kB of JSON); Flask's own limit is 1 MB.
MAX_BODY_BYTES = 256 * 1024
M = TypeVar("M", bound=BaseModel)

spec = SpecTree(
    "flask",
    mode="strict",
    # spectree's own routes are not registered (the API serves the document
    # itself); this path only keeps spectree from skipping the API's routes.
    path="_spectree",
    title="priorauth API",
    version="1",
    description=(
        "Cases, assessments, documents, intake drafts and the definitions behind them, "
        "for a clinic's own systems. Authenticate with a personal API token: "
        "`Authorization: Bearer pa_...` (made on the *API tokens* page or with "
        "`priorauth tokens create`). No cookies are used or accepted."
    ),
    annotations=False,
    validation_error_status=422,
    validation_error_model=Problem,
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(
                type="http",  # type: ignore[arg-type]
                scheme="bearer",
                description="A personal API token: pa_<prefix>_<secret>",
            ),
        ),
    ],
    security={"bearer": []},
)


def answers(ok: Any = None, *codes: int, ok_status: int = 200) -> Response:
    """A view's documented answers: its success body and each error status (as Problem)."""
    documented: dict[str, Any] = {f"HTTP_{ok_status}": ok}
    for code in (401, 429, *codes):
        documented[f"HTTP_{code}"] = Problem
    return Response(**documented)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests -------------------------------------------------------------------------------


class CaseUpdate(Strict):
    """A new version of a case: the version it replaces (from GET) and the whole case."""

    version: int = Field(ge=1, le=2**31 - 1, description="the `version` the change was made on")
    case: Case


class RenderRequest(Strict):
    """Which document to render and store with the case."""

    kind: Literal["letter"] = "letter"


class DraftIn(Strict):
    """Whatever part of a case is known; staff finish it in the guided intake."""

    case: dict[str, Any] = Field(
        description="any part of a case, shaped as `priorauth schema` prints it; "
        "each value is kept as sent and checked when the draft's steps are saved"
    )
    indication_id: str | None = Field(
        None, max_length=60, description="the indication, if not in `case.indication_id`"
    )
    request_type: RequestType = RequestType.INITIAL


class FhirBundle(BaseModel):
    """A FHIR R4 Bundle (transaction, collection or searchset), as an EHR exports it.

    Documented loosely here; the FHIR import parses it with the fhir.resources models.
    """

    model_config = ConfigDict(extra="allow")

    resourceType: Literal["Bundle"]
    type: str
    entry: list[dict[str, Any]] = []


class FhirQuery(Strict):
    payer_profile: str | None = Field(
        None, max_length=60, description="the payer profile, when the Coverage does not say"
    )


class Pagination(Strict):
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(25, ge=1, le=100)


# --- responses ------------------------------------------------------------------------------


class CaseSummary(BaseModel):
    id: int
    state: str
    indication_id: str
    request_type: str
    version: int = Field(description="send it back with a change (optimistic locking)")
    content_version: int
    continues_case_id: int | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class CasePage(BaseModel):
    items: list[CaseSummary]
    page: int
    per_page: int
    total: int


class CaseOut(CaseSummary):
    case: dict[str, Any] = Field(description="the case, shaped as `priorauth schema` prints it")


class DocumentOut(BaseModel):
    id: int
    kind: str
    case_version: int
    letter_date: dt.date
    sha256: str
    size_bytes: int
    created_at: dt.datetime
    signed: bool
    out_of_date: bool = Field(description="made before the case's last change")
    download: str = Field(description="the API path of its PDF")


class Verification(BaseModel):
    sha256: str
    found: bool
    of_record: bool
    signed: bool
    superseded: bool
    intact: bool
    case_id: int | None = None
    document_id: int | None = None
    kind: str = ""
    case_version: int | None = None
    signer: str = ""
    signed_at: dt.datetime | None = None


class DraftSummary(BaseModel):
    id: int
    indication_id: str | None
    request_type: str
    continues_case_id: int | None
    steps_saved: list[str]
    version: int
    updated_at: dt.datetime


class DraftOut(DraftSummary):
    formdata: list[list[str]] = Field(description="the intake form's (field, value) pairs")
    continue_at: str = Field(description="the web page where staff go on with it")


class FhirImportOut(BaseModel):
    """The draft a FHIR Bundle became, and what the import filled, lacked and ignored."""

    draft: DraftOut
    from_record: list[dict[str, Any]] = Field(
        description="each value and the resource it came from"
    )
    missing: list[str] = Field(description="parts of a case the record did not give")
    to_complete: list[str] = Field(description="fields staff still fill inside the given parts")
    ignored: list[dict[str, str]] = Field(description="each item not used, and why")


class IndicationSummary(BaseModel):
    id: str
    name: str
    coverage: str
    codes: list[str]


class PayerSummary(BaseModel):
    id: str
    name: str
    description: str
    as_of: str


class ProductSummary(BaseModel):
    id: str
    name: str
    manufacturer: str
    route: str
    hcpcs: str
    billing_unit_mg: int
    concentration_percent: str
    vial_sizes_g: list[str]


# --- reading a request ----------------------------------------------------------------------


def read_json(max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The request's JSON body, or a 4xx that says what is wrong with it."""
    if not request.is_json:
        fail(415, "Send a JSON body with Content-Type: application/json.")
    if (request.content_length or 0) > max_bytes:
        fail(413, f"The body is limited to {max_bytes // 1024} kB.")
    data = request.get_json(silent=True)
    if data is None:
        fail(
            400,
            "The body is not valid JSON.",
            [FieldError(field="(whole body)", message="not valid JSON")],
        )
    return data


def read_body(model: type[M]) -> M:
    """Validate the JSON body as ``model``; 422 with one entry per bad field."""
    data = read_json()
    if not isinstance(data, dict):
        fail(422, "", [FieldError(field="(whole body)", message="a JSON object {...} is expected")])
    try:
        return model.model_validate(data, context={"today": context.today()})
    except ValidationError as error:
        fail(422, "The body is not valid.", field_errors(error))
    except (ValueError, TypeError, ArithmeticError):
        # A value pydantic accepted but the domain cannot use (e.g. a number out of range).
        fail(
            422,
            "The body is not valid.",
            [FieldError(field="(whole body)", message="a value is out of range")],
        )


def read_query(model: type[M]) -> M:
    """Validate the query string as ``model``; 422 with one entry per bad parameter."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        fail(422, "The query is not valid.", field_errors(error))
