"""Error pages: a plain explanation, never patient data or a stack trace."""

from __future__ import annotations

import traceback

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from . import context

MESSAGES = {
    400: (
        "The request could not be understood",
        "Something in what was sent is not in the expected form. Go back and try again.",
    ),
    401: ("Log in first", "This page needs you to log in."),
    403: ("Not allowed", "Your account cannot do this."),
    404: (
        "Not found",
        "There is no such page, or it belongs to another organization.",
    ),
    405: ("Not allowed", "This page cannot be used that way."),
    409: (
        "This case cannot be shown",
        "The case no longer matches the installed definitions. Open it for editing to see "
        "what needs changing.",
    ),
    429: (
        "Too many attempts",
        "Wait a few minutes, then try again.",
    ),
    413: (
        "Too much to handle",
        "What was sent, or the document it would make, is larger than this application accepts. "
        "Shorten the longest texts or remove rows, then try again.",
    ),
    503: (
        "The document took too long to prepare",
        "It was stopped so that everyone else can keep working, and nothing was saved. "
        "Shorten the longest texts (the narrative, the notes), then try again; if it "
        "happens again, tell your administrator.",
    ),
    500: (
        "Something went wrong on our side",
        "The error has been logged. Nothing you saved before is lost; try again in a moment.",
    ),
}
CSRF_MESSAGE = (
    "The form expired or did not come from this site",
    "For your safety the form was not accepted. Go back, reload the page, and send it again.",
)


def _page(code: int, title: str, message: str) -> tuple[str, int]:
    return render_template("pages/error.html", code=code, title=title, message=message), code


def handle_http(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    title, message = MESSAGES.get(code, (error.name, "The request could not be completed."))
    return _page(code, title, message)


def handle_csrf(_error: CSRFError) -> tuple[str, int]:
    return _page(400, *CSRF_MESSAGE)


def handle_unexpected(_error: InternalServerError) -> tuple[str, int]:
    context.close_db()
    return _page(500, *MESSAGES[500])


def describe_exception(error: BaseException) -> str:
    """Name an exception and where it was raised, leaving out its message.

    Messages can quote what was typed (a validation error repeats its input), and
    the log must never hold patient data; the type and the frames are enough to
    find the bug.
    """
    frames = traceback.extract_tb(error.__traceback__)[-8:]
    where = " <- ".join(f"{f.filename}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(error).__module__}.{type(error).__qualname__} at {where}"


def register(app: Flask) -> None:
    """Attach the error pages to the application."""
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(HTTPException, handle_http)
