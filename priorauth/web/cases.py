"""A case: its page, a new one on one page, an edit, the live readiness check, a renewal.

Every view declares its permission (``permissions``); a case view receives the
case record only after the organization, the role and the person's reach were
checked, and every request on a case is audited. The guided intake, in steps,
is ``guided``; the letter, costs, denials and appeals have blueprints of their own.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from priorauth.domain.case import RequestType
from priorauth.domain.dosing import BASIS_LABELS
from priorauth.rules.assessment import STATUS_LABELS
from priorauth.rules.schema import IndicationDefinition
from priorauth.store import casework, drafts, rechecks, repository
from priorauth.store.models import CaseRecord, CaseState
from priorauth.store.repository import EditConflict, NotEditable
from priorauth.store.workflow import EDITABLE_STATES

from . import casefile, context, intake, policy_versions, readiness, steps
from .context import View
from .draft_form import indication_choice, step_url
from .history import case_history
from .pages import case_heading, document_rows, locked_page
from .permissions import Permission, case_action, may, requires
from .safety_view import dose_sentences, flag_views
from .workflow_panel import panel

bp = Blueprint("cases", __name__)

MAX_QUERY_CHARS = 100


def _definition_or_404(indication_id: str) -> IndicationDefinition:
    definition = context.library().indications.get(indication_id)
    if definition is None:
        abort(404)
    return definition


# --- the case page --------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>")
@case_action(Permission.CASE_READ, action="case.view")
def assessment(record: CaseRecord) -> View:
    """The case: its assessment, its documents, its workflow and its history."""
    heading = case_heading(record)
    case = casefile.stored_case(record)
    if case is None or case.indication_id not in context.library().indications:
        return render_template("pages/unreadable.html", heading=heading, case_id=record.id), 409
    result = casefile.assessment_of(record, case)
    history = case_history(record, _history_page())
    return render_template(
        "pages/assessment.html",
        heading=heading,
        assessment=result,
        clinical_summary=case.clinical_summary,
        status_labels=STATUS_LABELS,
        basis_labels=BASIS_LABELS,
        safety=flag_views(result),
        dose_sentences=dose_sentences(result),
        product_name=result.product.name if result.product is not None else "the product",
        documents=document_rows(record),
        panel=panel(record),
        history=history.rows,
        history_views=history.views,
        history_page=history,
        continues=record.continues_case_id,
        continued_by=repository.continuations_of(context.db(), record),
        appeal=_appeal_summary(record),
        attachments_count=len(casework.active_attachments(record)),
        recheck=policy_versions.recheck_for_page(record),
        versions=policy_versions.versions_for_page(result.definition_versions),
    )


def _history_page() -> int:
    """The page of the history asked for (``?history=N``), 1 when none or not a number."""
    raw = request.args.get("history", "")
    return int(raw) if raw.isdigit() and len(raw) <= 6 else 1


def _appeal_summary(record: CaseRecord) -> dict[str, Any] | None:
    """For a denied case: whether the denial notice is recorded, and what to do next."""
    decision = casework.last_denied_decision(record)
    if decision is None:
        return None
    return {
        "recorded": casework.current_denial(record) is not None,
        "respond_by": decision.respond_by.isoformat() if decision.respond_by else "",
        "can_record": may(Permission.DENIAL_RECORD, record) and record.state == CaseState.DENIED,
    }


# --- the intake form on one page: new and edit ----------------------------------------------


def _render_intake(
    form: intake.IntakeForm,
    *,
    record: CaseRecord | None,
    status: int = 200,
    conflict: bool = False,
) -> tuple[str, int]:
    definition = form.definition
    library = context.library()
    # The checklist reads the form's values on a form of its own: its errors are
    # the checklist's, not the page's.
    whole = intake.make_form(definition, library, MultiDict(intake.form_pairs(form)))
    checked = readiness.summarize(whole, library, context.today(), lambda anchor: f"#{anchor}")
    return (
        render_template(
            "pages/intake.html",
            form=form,
            definition=definition,
            readiness=checked,
            readiness_url=url_for("cases.readiness", indication_id=definition.id),
            errors=intake.error_summary(form),
            record_id=record.id if record else None,
            action=url_for("cases.edit", case_id=record.id)
            if record
            else url_for("cases.create", indication_id=definition.id),
            conflict=conflict,
            heading=case_heading(record) if record else None,
        ),
        status,
    )


def _form_from_post(definition: IndicationDefinition) -> tuple[intake.IntakeForm, bool]:
    """Build the form from what was posted; True when only a row or type change was asked."""
    formdata: MultiDict[str, str] = MultiDict(request.form)
    form = intake.make_form(definition, context.library(), formdata)
    action = request.form.get("action", intake.ACTION_SAVE)
    if intake.apply_row_action(form, action):
        return form, True
    shown_for = form.form_request_type.data
    if shown_for and shown_for != form.built_for.value:
        # The request type changed: show the questions of the new type first.
        form.form_request_type.data = form.built_for.value
        form.notices.append(
            "The questions now match a "
            f"{intake.REQUEST_TYPE_LABELS[form.built_for].lower()}. Check them, then save."
        )
        return form, True
    return form, False


@bp.get("/cases/new")
@requires(Permission.CASE_CREATE)
def choose() -> View:
    query = request.args.get("q", "")[:MAX_QUERY_CHARS]
    choices = [indication_choice(d) for d in intake.matching_indications(context.library(), query)]
    return render_template(
        "pages/choose.html",
        query=query,
        choices=choices,
        request_types=list(intake.REQUEST_TYPE_LABELS.items()),
    )


@bp.route("/cases/new/<indication_id>", methods=["GET", "POST"])
@requires(Permission.CASE_CREATE, action="case.create")
def create(indication_id: str) -> View:
    definition = _definition_or_404(indication_id)
    if request.method == "GET":
        try:
            request_type = RequestType(request.args.get("request_type", "initial"))
        except ValueError:
            request_type = RequestType.INITIAL
        form = intake.make_form(definition, context.library(), intake.new_formdata(request_type))
        return _render_intake(form, record=None)

    form, only_redisplay = _form_from_post(definition)
    if only_redisplay:
        return _render_intake(form, record=None)
    case = intake.read_case(form, context.library(), context.today(), new_request=True)
    if case is None:
        return _render_intake(form, record=None, status=422)
    return casefile.save_new_case(case)


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@case_action(Permission.CASE_EDIT, action="case.edit", page_action="case.edit_form")
def edit(record: CaseRecord) -> View:
    definition = _definition_or_404(record.indication_id)
    if CaseState(record.state) not in EDITABLE_STATES:
        return locked_page(record)
    if request.method == "GET":
        formdata = intake.formdata_for_case(record.data, version=record.version_id)
        form = intake.make_form(definition, context.library(), formdata)
        if casefile.stored_case(record) is None:
            intake.read_case(form, context.library(), context.today())  # show what is wrong
        return _render_intake(form, record=record)

    form, only_redisplay = _form_from_post(definition)
    if only_redisplay:
        return _render_intake(form, record=record)
    case = intake.read_case(form, context.library(), context.today())
    if case is None:
        return _render_intake(form, record=record, status=422)

    db = context.db()
    posted = form.version.data or ""
    try:
        superseded = repository.update_case(
            db,
            record,
            expected_version=int(posted) if posted.isdigit() else None,
            user_id=context.user().id,
            data=case.model_dump(mode="json"),
            assessment=casefile.assess(case).model_dump(mode="json"),
        )
    except NotEditable:
        db.rollback()
        return locked_page(record)
    except EditConflict as conflict:
        db.rollback()
        context.record("case.update", "conflict", case_id=record.id)
        db.commit()
        # Keep everything typed; the next save, knowingly, replaces the other version.
        form.version.data = str(conflict.current_version)
        when = conflict.updated_at.strftime("%H:%M UTC on %Y-%m-%d") if conflict.updated_at else ""
        form.general_errors.append(
            f"Someone else saved this case{' at ' + when if when else ''} while you were "
            "editing it. Your changes are below and are NOT saved yet. Open the case in a new "
            "tab to compare; press Save again to replace their version with yours."
        )
        return _render_intake(form, record=record, status=409, conflict=True)
    context.record("case.update", "ok", case_id=record.id)
    casefile.record_superseded(superseded)
    db.commit()
    flash(casefile.saved_message(superseded), "success")
    return redirect(url_for("cases.assessment", case_id=record.id), code=303)


@bp.post("/intake/<indication_id>/readiness", endpoint="readiness")
@requires(Permission.CASE_EDIT, action="intake.readiness")
def readiness_check(indication_id: str) -> Response:
    """The readiness checklist for the intake form's current values, as JSON (and HTML).

    The form is read exactly as saving reads it; nothing is stored, and nothing
    stored is read (a draft's id only decides where the error links point).
    """
    definition = _definition_or_404(indication_id)
    library = context.library()
    formdata: MultiDict[str, str] = MultiDict(
        [(k, v) for k, v in request.form.items(multi=True) if k not in steps.BOOKKEEPING]
    )
    form = intake.make_form(definition, library, formdata)
    posted_draft = request.form.get("draft_id", "")

    def link(anchor: str) -> str:
        return f"#{anchor}"

    if posted_draft.isdigit() and len(posted_draft) < 10:
        draft = drafts.get_draft(context.db(), context.user().organization_id, int(posted_draft))
        if draft is not None:
            draft_id = draft.id

            def link(anchor: str) -> str:
                return step_url(draft_id, anchor)

    step = request.form.get("readiness_step", "")  # a guided step: its fixes first
    first = step if step in steps.BY_KEY else ""
    result = readiness.summarize(form, library, context.today(), link, first_step=first)
    html = render_template("pages/readiness_fragment.html", readiness=result)
    return jsonify({**result.as_json(), "html": html})


@bp.post("/cases/<int:case_id>/continuation")
@case_action(Permission.CASE_CREATE, action="case.continue")
def continuation(record: CaseRecord) -> View:
    """Start the renewal: a continuation draft filled from this case, new measures left empty."""
    definition = _definition_or_404(record.indication_id)
    product = context.library().products.get(
        str((record.data.get("regimen") or {}).get("product_id"))
    )
    approval = casework.current_approval(record)
    formdata = intake.continuation_formdata(
        record.data,
        definition,
        today=context.today(),
        authorization_start=approval.start_date if approval is not None else None,
        authorization_end=record.authorization_end,
        product_name=product.name if product is not None else "",
    )
    db = context.db()
    draft = drafts.create_draft(
        db,
        organization_id=record.organization_id,
        user_id=context.user().id,
        formdata=list(formdata.items(multi=True)),
        indication_id=definition.id,
        request_type=RequestType.CONTINUATION.value,
        continues_case_id=record.id,
        steps_saved=["patient", "indication", "therapies"],
    )
    context.record("case.continue", "ok", case_id=record.id, detail=f"draft {draft.id}")
    db.commit()
    flash(
        f"Continuation started from case {record.id}: the patient, coverage, prescriber, codes, "
        "therapies (with the course being renewed), the maintenance regimen, its start and the "
        "baseline measures are filled in. Enter the current measures here, then today's weight.",
        "success",
    )
    return redirect(url_for("drafts.step", draft_id=draft.id, step="questions"), code=303)


@bp.post("/cases/<int:case_id>/recheck")
@case_action(Permission.CASE_EDIT, action="case.recheck")
def recheck(record: CaseRecord) -> View:
    """Record that a person looked at the case again after a policy change."""
    db = context.db()
    if rechecks.clear(db, record.id, context.user().id):
        context.record("case.recheck", "ok", case_id=record.id)
        db.commit()
        flash("Marked as re-checked under the policy versions now in effect.", "success")
    else:
        flash("Nothing to re-check on this case.", "info")
    return redirect(url_for("cases.assessment", case_id=record.id), code=303)
