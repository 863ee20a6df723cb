"""Shared: run a document render outside the database transaction and within its time limit.

The request first commits what it did so far (``context.end_transaction``): the
render holds no lock and no pooled connection while it runs, and its result is
stored afterwards in a short write that checks the case did not change
(``casefile.keep``). The render itself runs in a process that is stopped after
``PRIORAUTH_RENDER_SECONDS`` (``documents.deadline``); a stopped render answers
503 with a page that says what happened and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app

from priorauth.documents.deadline import RenderStopped, render_workers

from . import context

T = TypeVar("T")


def render_outside(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` (a documents renderer) with no transaction open, limited."""
    context.end_transaction()
    workers = render_workers(int(current_app.config["PRIORAUTH_RENDER_WORKERS"]))
    try:
        return workers.run(
            float(current_app.config["PRIORAUTH_RENDER_SECONDS"]), function, *args, **kwargs
        )
    except RenderStopped:
        abort(503)
