"""The letter of medical necessity: its page and preview, its PDF, the physician's narrative,
and the physician's review sheet (the letter's content with every doubt beside it)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from priorauth.documents import NARRATIVE_SECTIONS, build_letter_context, render_letter
from priorauth.documents.letter import LETTER_TEMPLATE, draft_letter
from priorauth.documents.review import REVIEW_TEMPLATE, build_review_sheet_context
from priorauth.domain.case import Case
from priorauth.rules.assessment import Assessment
from priorauth.store import repository
from priorauth.store.models import CaseRecord, CaseState
from priorauth.store.repository import EditConflict, NotEditable
from priorauth.store.workflow import EDITABLE_STATES

from . import casefile, context, delivery
from .casefile import LETTER
from .context import View
from .fields import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from .pages import case_heading, document_rows, locked_page
from .permissions import Permission, case_action
from .render_limits import render_outside

bp = Blueprint("letters", __name__)

MAX_NARRATIVE_CHARS = 20_000
NARRATIVE_LABELS = {
    "opening": "Opening",
    "clinical_history": "Clinical history",
    "justification": "Why the treatment is medically necessary",
    "dosing": "Dosing",
    "closing": "Closing",
}


@bp.get("/cases/<int:case_id>/letter")
@case_action(Permission.CASE_READ, action="letter.view")
def show(record: CaseRecord) -> View:
    _case, result = casefile.assessed(record)
    return render_template(
        "pages/letter.html",
        heading=case_heading(record),
        assessment=result,
        documents=document_rows(record),
        editable_states=[state.value for state in EDITABLE_STATES],
    )


def _render(record: CaseRecord, case: Case, result: Assessment) -> casefile.RenderedPdf:
    """The letter, rendered outside the transaction and within the time limit."""
    with casefile.rendering():
        return render_outside(
            render_letter,
            case,
            result,
            context.library(),
            letter_date=context.today(),
            narrative=casefile.narrative_of(record),
        )


@bp.get("/cases/<int:case_id>/letter/preview")
@case_action(Permission.CASE_READ, action="letter.preview")
def preview(record: CaseRecord) -> Response:
    """The letter as HTML, for the preview frame: built from its context, never rendered
    to PDF (the PDF is made once, when someone asks for it)."""
    case, result = casefile.assessed(record)
    drafted = draft_letter(
        case,
        result,
        context.library(),
        letter_date=context.today(),
        narrative=casefile.narrative_of(record),
    )
    return delivery.preview_page(LETTER_TEMPLATE, drafted.context)


@bp.get("/cases/<int:case_id>/letter/review-sheet")
@case_action(Permission.CASE_READ, action="letter.review_sheet")
def review_sheet(record: CaseRecord) -> Response:
    """The physician's review sheet of the letter, as HTML: built, not rendered to PDF."""
    case, result = casefile.assessed(record)
    today = context.today()
    drafted = draft_letter(
        case, result, context.library(), letter_date=today, narrative=casefile.narrative_of(record)
    )
    sheet = build_review_sheet_context(drafted.review, case, result, prepared_on=today)
    return delivery.preview_page(REVIEW_TEMPLATE, sheet)


@bp.post("/cases/<int:case_id>/letter.pdf")
@case_action(Permission.LETTER_RENDER, action="document.create")
def pdf(record: CaseRecord) -> Response:
    """Render the letter to PDF, store it as a document, and send the browser to it.

    The render holds no transaction (``render_outside``); the document is stored
    in a short write that checks the case did not change meanwhile (``casefile.keep``).
    """
    case, result = casefile.assessed(record)
    reused = casefile.reuse(record, kind=LETTER, assessment=result)
    if reused is not None:
        return reused
    rendered = _render(record, case, result)
    return casefile.keep(record, kind=LETTER, case=case, assessment=result, pdf=rendered.pdf)


# --- the narrative (physicians) ------------------------------------------------------------


def _default_sections(case: Case, result: Assessment) -> dict[str, str]:
    """What the letter says in each narrative section when no one rewrote it."""
    built = build_letter_context(case, result, context.library(), letter_date=context.today())
    return {name: "\n\n".join(getattr(built, name)) for name in NARRATIVE_SECTIONS}


def _posted_sections() -> tuple[dict[str, str], dict[str, str]]:
    """The sections as posted, and what is wrong with each."""
    posted = {
        name: request.form.get(name, "").replace("\r\n", "\n").strip()
        for name in NARRATIVE_SECTIONS
    }
    errors: dict[str, str] = {}
    for name, text in posted.items():
        if len(text) > MAX_NARRATIVE_CHARS:
            errors[name] = f"Shorten this section to {MAX_NARRATIVE_CHARS:,} characters."
        elif has_control_characters(text, long_text=True):
            errors[name] = CONTROL_CHARACTERS_MESSAGE
    return posted, errors


@bp.route("/cases/<int:case_id>/narrative", methods=["GET", "POST"])
@case_action(Permission.NARRATIVE_EDIT, action="narrative.edit", page_action="narrative.edit_form")
def narrative(record: CaseRecord) -> View:
    """The physician rewrites the letter's narrative; a save is a new version of the case."""
    case, result = casefile.assessed(record)
    if CaseState(record.state) not in EDITABLE_STATES:
        return locked_page(record)
    defaults = _default_sections(case, result)
    current = {**defaults, **(casefile.narrative_of(record) or {})}
    errors: dict[str, str] = {}
    conflict = False
    status = 200
    if request.method == "POST":
        current, errors = _posted_sections()
        status = 422 if errors else 200
    if request.method == "POST" and not errors:
        version = request.form.get("version", "")
        changed = {k: v for k, v in current.items() if v and v != defaults[k]}
        db = context.db()
        try:
            superseded = repository.update_narrative(
                db,
                record,
                expected_version=int(version) if version.isdigit() else None,
                user_id=context.user().id,
                narrative=changed,
            )
        except EditConflict:
            db.rollback()
            context.record("narrative.update", "conflict", case_id=record.id)
            db.commit()
            conflict = True
            status = 409
        except NotEditable:
            db.rollback()
            return locked_page(record)
        else:
            context.record("narrative.update", "ok", case_id=record.id)
            casefile.record_superseded(superseded)
            db.commit()
            flash(casefile.saved_message(superseded), "success")
            return redirect(url_for("letters.show", case_id=record.id), code=303)
    return (
        render_template(
            "pages/narrative.html",
            heading=case_heading(record),
            sections=[
                {
                    "name": name,
                    "label": NARRATIVE_LABELS.get(name, name),
                    "text": current.get(name, ""),
                    "error": errors.get(name, ""),
                    "rewritten": current.get(name, "") != defaults[name],
                }
                for name in NARRATIVE_SECTIONS
            ],
            version=record.version_id,
            conflict=conflict,
            max_chars=MAX_NARRATIVE_CHARS,
        ),
        status,
    )
