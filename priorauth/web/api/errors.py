"""The API's answers when something is wrong: JSON, with the field path and message.

Every 4xx of an API blueprint is JSON shaped like ``Problem``; validation errors
list each field as the command line does (``priorauth assess``): the dotted path
to the field and a plain message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from flask import Blueprint, g, jsonify
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

# Set by the token check: why a request was not authenticated (see auth.py).
AUTH_RESULT_KEY = "priorauth_api_auth"

TITLES = {
    400: "bad request",
    401: "not authenticated",
    403: "not allowed",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "too large",
    415: "unsupported media type",
    422: "invalid input",
    429: "too many requests",
    500: "server error",
    501: "not implemented",
}
DETAILS = {
    401: "Send a personal API token: Authorization: Bearer pa_...",
    403: "Your role may not do this, or the case is not within your reach.",
    404: "No such resource in your organization.",
    405: "This resource does not accept that method.",
    409: "The resource is not in a state that allows this.",
    413: "The request is too large.",
    429: "Too many requests for this token; wait a minute.",
    500: "Something went wrong on the server; the request was not completed.",
}
AUTH_DETAILS = {
    "missing": "Send a personal API token: Authorization: Bearer pa_... (cookies are not used).",
    "unknown": "This token is not valid.",
    "revoked": "This token was revoked.",
    "expired": "This token has expired.",
    "inactive": "The account this token acts as is switched off.",
    "throttled": "Too many requests with tokens that are not valid; wait 15 minutes.",
}
RETRY_AFTER_SECONDS = {"rate_limited": 60, "throttled": 900}


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """What every error of the API answers."""

    status: int
    title: str
    detail: str = ""
    errors: list[FieldError] = []


class ApiProblem(HTTPException):
    """An HTTP error with its JSON body (raised by views and helpers)."""

    def __init__(self, status: int, detail: str = "", errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.code = status
        self.detail = detail
        self.errors = list(errors)


def fail(status: int, detail: str = "", errors: Sequence[FieldError] = ()) -> NoReturn:
    raise ApiProblem(status, detail, errors)


def _field_path(loc: Sequence[int | str], prefix: str) -> str:
    """Dotted path to a field, as the command line writes it."""
    path = ".".join(str(step) for step in loc)
    return f"{prefix}{path}" if path else prefix.rstrip(".") or "(whole body)"


def field_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    """One entry per validation error, worded as ``priorauth assess`` words it."""
    return [
        FieldError(
            field=_field_path(item["loc"], prefix),
            message=str(item["msg"]).removeprefix("Value error, "),
        )
        for item in error.errors()
    ]


def problem_response(status: int, detail: str = "", errors: Sequence[FieldError] = ()) -> Response:
    body = Problem(
        status=status,
        title=TITLES.get(status, "error"),
        detail=detail or DETAILS.get(status, ""),
        errors=list(errors),
    )
    response = jsonify(body.model_dump())
    response.status_code = status
    return response


def _handle(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, ApiProblem):
        return problem_response(status, error.detail, error.errors)
    reason = g.get(AUTH_RESULT_KEY)
    if status == 401 and reason in RETRY_AFTER_SECONDS:
        response = problem_response(
            429, AUTH_DETAILS.get(reason, DETAILS[429]) if reason == "throttled" else ""
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS[reason])
        return response
    if status == 401:
        response = problem_response(401, AUTH_DETAILS.get(reason or "missing", ""))
        response.headers["WWW-Authenticate"] = 'Bearer realm="priorauth"'
        return response
    return problem_response(status)


def _server_error(_error: Any) -> Response:
    return problem_response(500)


def register(blueprint: Blueprint) -> None:
    """JSON answers for every HTTP error raised under this blueprint."""
    blueprint.register_error_handler(HTTPException, _handle)
    blueprint.register_error_handler(500, _server_error)
