"""The API's own pages: its OpenAPI document, a readable page of it, and unknown paths.

Neither page holds patient data; both are public so that a clinic's developers
can read them before they have a token. The readable page is rendered on the
server from the document (no script, nothing fetched from the network).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template
from werkzeug.wrappers import Response

from ..permissions import Permission, requires
from . import errors
from .errors import fail
from .schemas import API_PREFIX, spec

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)
errors.register(bp)
PUBLIC = frozenset({"api.openapi", "api.docs"})
METHODS = ("get", "post", "put", "patch", "delete")


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API (generated once per process)."""
    return spec.spec


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for path, item in sorted(doc.get("paths", {}).items()):
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tags": ", ".join(operation.get("tags", [])),
                    "parameters": [
                        f"{p['name']} ({p['in']})" for p in operation.get("parameters", [])
                    ],
                    "body": ", ".join(
                        schema.get("$ref", "").rsplit("/", 1)[-1] or media
                        for media, content in body.items()
                        for schema in [content.get("schema", {})]
                    ),
                    "responses": ", ".join(sorted(operation.get("responses", {}))),
                }
            )
    return rows


@bp.get("/docs")
def docs() -> str:
    doc = document()
    return render_template(
        "pages/api_docs.html",
        info=doc.get("info", {}),
        operations=_operations(doc),
        schemas=sorted(doc.get("components", {}).get("schemas", {})),
    )


@bp.route("/<path:_rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@requires(Permission.SESSION)
def unknown(_rest: str) -> Response:
    fail(404, "No such API path; see /api/v1/docs.")
