"""The medical-exception request a not-ready case is signed as: the physician's reason,
and its preview.

The reason is saved with the case (a narrative section of the request) before
signing, as a new content version: the signing page then shows the request with
the reason in it, and its digest covers exactly that.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from priorauth.documents.exception import (
    EXCEPTION_REASON,
    EXCEPTION_TEMPLATE,
    NoExceptionNeeded,
    draft_exception,
)
from priorauth.store import repository
from priorauth.store.models import CaseRecord, CaseState
from priorauth.store.repository import EditConflict, NotEditable

from . import casefile, context, delivery
from .context import View
from .fields import CONTROL_CHARACTERS_MESSAGE, LONG_TEXT_MAX_CHARS, has_control_characters
from .pages import case_heading, conflict_page
from .permissions import Permission, case_action

bp = Blueprint("exception_request", __name__)

NO_REASON = "Write your reason for a medical exception."


def reason_error(text: str) -> str:
    """What is wrong with a typed reason, or ""."""
    if not text:
        return NO_REASON
    if len(text) > LONG_TEXT_MAX_CHARS:
        return f"Shorten the reason to {LONG_TEXT_MAX_CHARS} characters."
    if has_control_characters(text, long_text=True):
        return CONTROL_CHARACTERS_MESSAGE
    return ""


@bp.get("/cases/<int:case_id>/exception/preview")
@case_action(Permission.CASE_READ, action="exception.preview")
def preview(record: CaseRecord) -> View:
    """The exception request as HTML, for the preview frame (with the saved reason)."""
    case, result = casefile.assessed(record)
    try:
        with casefile.rendering():
            drafted = draft_exception(
                case,
                result,
                context.library(),
                letter_date=context.today(),
                attachments=casefile.attachments_of(record),
                narrative=casefile.exception_narrative_of(record),
            )
    except NoExceptionNeeded:
        return delivery.preview(
            "<!doctype html><html><head><title>No reason yet</title></head><body>"
            "<p>Record your reason for a medical exception: the request appears here "
            "with it.</p></body></html>"
        )
    return delivery.preview_page(EXCEPTION_TEMPLATE, drafted.context)


@bp.post("/cases/<int:case_id>/exception/reason")
@case_action(Permission.SIGN, action="exception.reason")
def reason(record: CaseRecord) -> View:
    """Save the physician's reason: a new content version, shown before it is signed."""
    if record.state != CaseState.READY_FOR_SIGNATURE:
        return conflict_page(record, "Nothing to sign", "This case is not waiting for a signature.")
    text = request.form.get("exception_reason", "").replace("\r\n", "\n").strip()
    error = reason_error(text)
    version = request.form.get("version", "")
    if error:
        context.audit("exception.reason", "invalid", case_id=record.id)
        return (
            render_template(
                "pages/exception_reason.html",
                heading=case_heading(record),
                error=error,
                text=text,
                version=version if version.isdigit() else record.version_id,
                max_chars=LONG_TEXT_MAX_CHARS,
            ),
            422,
        )
    db = context.db()
    try:
        superseded = repository.update_narrative(
            db,
            record,
            expected_version=int(version) if version.isdigit() else None,
            user_id=context.user().id,
            narrative={**(record.narrative or {}), EXCEPTION_REASON: text},
        )
    except (EditConflict, NotEditable):
        db.rollback()
        return conflict_page(
            record,
            "The case changed",
            "The case changed while the page was open; the reason was not saved. "
            "Open the signing page again.",
        )
    context.record("exception.reason", "ok", case_id=record.id)
    casefile.record_superseded(superseded)
    db.commit()
    flash("Your reason is saved. Read the request with it, then sign.", "success")
    return redirect(url_for("signing.sign", case_id=record.id), code=303)
