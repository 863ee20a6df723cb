# mypy: disallow-subclassing-any=False
"""The health check a load balancer or Docker's HEALTHCHECK calls: no login, no data."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from . import context

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def check() -> tuple[Response, int]:
    """200 when the app answers and its database does; 503 otherwise. Says nothing else."""
    try:
        context.db().execute(text("SELECT 1"))
    except SQLAlchemyError:
        context.close_db()
        return jsonify(status="database unavailable"), 503
    return jsonify(status="ok"), 200
