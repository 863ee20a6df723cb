# mypy: disallow-subclassing-any=False
"""The guided intake: a new case in steps, each saved as a draft, then reviewed and saved.

Patient and coverage → indication → diagnosis and questions → prior therapies →
weight, height and regimen → review (``steps.STEPS``). Every "Save and
continue" stores the form's values as typed in the draft, so a person can
leave and come back; a step that still has problems says so and lets them go
on. Each step page carries the other steps' values as hidden fields, so the
form posted is always the whole intake form: the live readiness check and the
final save read it exactly as the one-page form is read (``intake.read_case``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from priorauth.domain.case import RequestType
from priorauth.store import drafts, repository
from priorauth.store.models import IntakeDraft
from priorauth.store.repository import EditConflict

from . import casefile, context, intake, readiness, steps
from .context import View
from .draft_form import (
    build,
    check,
    closed_redirect,
    definition_of,
    errors_by_step,
    first_regimen,
    formdata_of,
    hidden_fields,
    indication_groups,
    next_step_to_show,
    problems_message,
    review_sections,
    step_url,
    summary_notice,
)
from .fields import ErrorLink
from .intake import prefill
from .permissions import Permission, draft_action, requires

bp = Blueprint("drafts", __name__)
# Where "Save the case" is offered: the review, and the last step of data, for the
# person who checked the live readiness panel as they went (the review stays a click away).
FINISHING_STEPS = frozenset({"measurements", "review"})

MAX_QUERY_CHARS = 100
CONFLICT_MESSAGE = (
    "This draft was saved from another page after you opened this one, so what you "
    "changed here is NOT saved yet. It is shown below: save again to keep it."
)


def _indicator(
    draft: IntakeDraft | None, current: str, problems: dict[str, list[ErrorLink]]
) -> list[dict[str, Any]]:
    chosen = draft is not None and draft.indication_id is not None
    items = []
    for number, step in enumerate(steps.STEPS, start=1):
        saved = draft is not None and step.key in draft.steps_saved
        # A saved step's problems; the review lists everything, so it counts none itself.
        count = len(problems.get(step.key, ())) if saved and step.key != "review" else 0
        reachable = draft is not None and (step.key in ("patient", "indication") or chosen)
        items.append(
            {
                "key": step.key,
                "number": number,
                "title": step.title,
                "current": step.key == current,
                "saved": saved,
                "problems": count,
                "url": url_for("drafts.step", draft_id=draft.id, step=step.key)
                if reachable and draft is not None
                else "",
            }
        )
    return items


def _previous_weight(draft: IntakeDraft) -> str:
    """For a continuation: the weight on the case it renews, to be measured again."""
    if draft.continues_case_id is None:
        return ""
    previous = repository.get_case(
        context.db(), context.user().organization_id, draft.continues_case_id
    )
    measurements = (previous.data.get("measurements") or {}) if previous else {}
    if not measurements.get("weight"):
        return ""
    return (
        f"Weigh the patient again: the dose is computed on today's weight. Case "
        f"{draft.continues_case_id} used {measurements['weight']} "
        f"{measurements.get('weight_unit', 'kg')}, measured on {measurements.get('measured_on')}."
    )


# --- pages ---------------------------------------------------------------------------------


def _render_step(
    draft: IntakeDraft | None,
    step: steps.Step,
    form: intake.IntakeForm,
    *,
    show_errors: bool,
    status: int = 200,
    notices: Sequence[str] = (),
) -> tuple[str, int]:
    library = context.library()
    today = context.today()
    definition = definition_of(draft) if draft is not None else None
    # The checklist and the step indicator read the whole draft, on a form of their
    # own: the page's form shows only the errors its own step may show.
    problems: dict[str, list[ErrorLink]] = {}
    checked = readiness.NO_INDICATION
    if draft is not None:
        whole = build(draft, formdata_of(draft.formdata))
        case = check(whole, draft)
        problems = errors_by_step(whole)
        if definition is not None:
            checked = readiness.summarize_read(
                whole,
                case,
                library,
                today,
                lambda anchor: step_url(draft.id, anchor),
                first_step=step.key,
            )
    errors: list[ErrorLink] = []
    if show_errors and step.key == "review" and draft is not None:
        # The review lists every problem left, each linking to the field on its step.
        errors = [
            ErrorLink(step_url(draft.id, e.anchor) if e.anchor else "", e.label, e.message)
            for e in intake.error_summary(form)
        ]
    elif show_errors:
        errors = [
            e
            for e in intake.error_summary(form)
            if (steps.step_of(e.anchor).key == step.key if e.anchor else False)
        ]
    return (
        render_template(
            "pages/draft_step.html",
            draft=draft,
            step=step,
            number=steps.STEP_KEYS.index(step.key) + 1,
            total=len(steps.STEPS),
            form=form,
            definition=definition,
            errors=errors,
            notices=[*form.notices, *notices, summary_notice(draft, form)]
            if draft is not None and step.key in FINISHING_STEPS
            else [*form.notices, *notices],
            hidden=hidden_fields(draft, step, form) if draft is not None else [],
            indicator=_indicator(draft, step.key, problems),
            readiness=checked,
            readiness_url=url_for("cases.readiness", indication_id=definition.id)
            if definition is not None
            else "",
            post_url=url_for("drafts.save_step", draft_id=draft.id, step=step.key)
            if draft is not None
            else url_for("drafts.begin"),
            previous_weight=_previous_weight(draft)
            if draft is not None and step.key == "measurements"
            else "",
            review=review_sections(form) if step.key == "review" and definition else [],
            directory=_directory(form) if step.key == "patient" else None,
            phases=prefill.phase_json(definition)
            if definition is not None and step.key == "measurements"
            else "",
        ),
        status,
    )


def _directory(form: intake.IntakeForm) -> dict[str, Any]:
    values = dict(intake.form_pairs(form))
    return prefill.choices(context.db(), context.user().organization_id, values)


def _posted(step_key: str, draft: IntakeDraft | None = None) -> MultiDict[str, str]:
    """The posted form, with what the directory choices or the dosing phase chosen fill in."""
    posted = MultiDict(list(request.form.items(multi=True)))
    if step_key == "measurements" and draft is not None:
        return prefill.apply_phase(posted, definition_of(draft))
    if step_key != "patient":
        return posted
    return prefill.apply_choices(posted, context.db(), context.user().organization_id)


@bp.get("/cases/start")
@requires(Permission.CASE_CREATE, action="draft.start")
def start() -> View:
    """The first step of a new case, before anything is saved."""
    initial = MultiDict([("coverage-payer_profile", "reference")])
    # A clinic with one prescriber on file: theirs is the request (it can be changed).
    only = prefill.only_prescriber(context.db(), context.user().organization_id)
    if only is not None:
        initial.update(only)
    form = intake.patient_step_form(context.library(), initial)
    return _render_step(None, steps.BY_KEY["patient"], form, show_errors=False)


@bp.post("/cases/start")
@requires(Permission.CASE_CREATE, action="draft.create")
def begin() -> View:
    """Save the first step as a new draft, then go on to choosing the indication."""
    form = intake.patient_step_form(context.library(), _posted("patient"))
    who = context.user()
    db = context.db()
    draft = drafts.create_draft(
        db,
        organization_id=who.organization_id,
        user_id=who.id,
        formdata=intake.form_pairs(form),
        steps_saved=["patient"],
    )
    context.record("draft.create", "ok", detail=f"draft {draft.id}")
    _remember_patient(form)
    db.commit()
    return _after_save(draft, steps.BY_KEY["patient"], form, request.form.get("action", ""))


def _after_save(
    draft: IntakeDraft, step: steps.Step, form: intake.IntakeForm, action: str
) -> Response:
    """Where a saved step goes: the next step, back, elsewhere, or itself to fix problems."""
    if action == "later":
        flash("Draft saved. It is listed under “Unfinished intakes” on the Cases page.", "success")
        return redirect(url_for("dashboard.index"), code=303)
    if action.startswith("goto:") and action[5:] in steps.BY_KEY:
        return redirect(step_url(draft.id, key=action[5:]), code=303)
    if action == "back":
        previous = steps.previous_step(step.key)
        return redirect(step_url(draft.id, key=(previous or step).key), code=303)
    # "Save and continue" always continues: a step's problems stay marked on the step
    # indicator and listed on the review, to fix in any order.
    check(form, draft)
    problems = errors_by_step(form)
    mine = problems.get(step.key, [])
    following = next_step_to_show(draft, step, problems)
    if mine:
        flash(problems_message(len(mine), step.title), "info")
    return redirect(step_url(draft.id, key=following.key), code=303)


@bp.get("/drafts/<int:draft_id>/<step>")
@draft_action(Permission.CASE_CREATE, action="draft.view")
def step(draft: IntakeDraft, step: str) -> View:
    found = steps.BY_KEY.get(step)
    if found is None:
        abort(404)
    closed = closed_redirect(draft)
    if closed is not None:
        return closed
    if found.key == "indication":
        return _indication_page(draft)
    if found.key != "patient" and definition_of(draft) is None:
        return redirect(step_url(draft.id, key="indication"), code=303)
    values = formdata_of(draft.formdata)
    if found.key == "measurements" and "measurements" not in draft.steps_saved:
        values = first_regimen(draft, values)
    form = build(draft, values)
    show = found.key in draft.steps_saved or found.key == "review"
    if show:
        check(form, draft)
    return _render_step(draft, found, form, show_errors=show)


@bp.post("/drafts/<int:draft_id>/<step>")
@draft_action(Permission.CASE_CREATE, action="draft.save")
def save_step(draft: IntakeDraft, step: str) -> View:
    found = steps.BY_KEY.get(step)
    if found is None:
        abort(404)
    closed = closed_redirect(draft)
    if closed is not None:
        return closed
    if found.key == "indication":
        return _choose_indication(draft)
    if found.key != "patient" and definition_of(draft) is None:
        return redirect(step_url(draft.id, key="indication"), code=303)
    action = request.form.get("action", "continue")
    form = build(draft, formdata_of(list(_posted(found.key, draft).items(multi=True))))
    row_action = definition_of(draft) is not None and intake.apply_row_action(form, action)
    db = context.db()
    try:
        drafts.save_draft(
            db,
            draft,
            expected_version=_posted_version(),
            user_id=context.user().id,
            formdata=intake.form_pairs(form),
            # Leaving a step by the step indicator keeps what was typed but is not
            # "done with this step": its problems are not shown until it is saved on.
            step=None
            if action.startswith("goto:") and found.key not in draft.steps_saved
            else found.key,
        )
    except EditConflict:
        db.rollback()
        context.record("draft.save", "conflict", detail=f"draft {draft.id}")
        db.commit()
        fresh = drafts.get_draft(db, context.user().organization_id, draft.id)
        if fresh is None:
            abort(404)
        return _render_step(
            fresh, found, form, show_errors=False, status=409, notices=[CONFLICT_MESSAGE]
        )
    context.record("draft.save", "ok", detail=f"draft {draft.id}")
    if found.key == "patient":
        _remember_patient(form)
    db.commit()
    if row_action:
        return redirect(step_url(draft.id, key=found.key), code=303)
    if found.key in FINISHING_STEPS and action == "finish":
        return _finish(draft, form)
    return _after_save(draft, found, form, action)


def _remember_patient(form: intake.IntakeForm) -> None:
    """A new patient goes on file with their first case's first step (audited, no name)."""
    pairs = intake.form_pairs(form)
    made = prefill.remember_patient(context.db(), context.user().organization_id, pairs)
    if made is not None:
        context.record("directory.patient.create", "ok", detail=f"patient {made.id}")


def _posted_version() -> int | None:
    posted = request.form.get("draft_version", "")
    return int(posted) if posted.isdigit() and len(posted) < 10 else None


def _finish(draft: IntakeDraft, form: intake.IntakeForm) -> Response:
    """Turn the reviewed draft into a case; on a problem, back to the review that lists it."""
    case = intake.read_case(form, context.library(), context.today(), new_request=True)
    if case is None:
        flash(
            "Not saved as a case yet: the review lists what to fix. The draft keeps everything.",
            "error",
        )
        return redirect(step_url(draft.id, key="review"), code=303)
    return casefile.save_new_case(case, draft=draft)


@bp.post("/drafts/<int:draft_id>/discard")
@draft_action(Permission.CASE_CREATE, action="draft.discard")
def discard(draft: IntakeDraft) -> View:
    closed = closed_redirect(draft)
    if closed is not None:
        return closed
    db = context.db()
    draft_id = draft.id
    drafts.delete_draft(db, draft)
    context.record("draft.discard", "ok", detail=f"draft {draft_id}")
    db.commit()
    flash("Draft discarded.", "success")
    return redirect(url_for("dashboard.index"), code=303)


# --- the indication step ---------------------------------------------------------------------


def _indication_page(draft: IntakeDraft, status: int = 200, error: str = "") -> tuple[str, int]:
    query = request.args.get("q", "")[:MAX_QUERY_CHARS]
    current = definition_of(draft)
    values = formdata_of(draft.formdata)
    groups = indication_groups(query, values.get("prescriber-specialty", ""))
    whole = build(draft, values)
    check(whole, draft)
    return (
        render_template(
            "pages/draft_indication.html",
            draft=draft,
            step=steps.BY_KEY["indication"],
            number=steps.STEP_KEYS.index("indication") + 1,
            total=len(steps.STEPS),
            indicator=_indicator(draft, "indication", errors_by_step(whole)),
            query=query,
            groups=groups,
            current=current,
            request_types=list(intake.REQUEST_TYPE_LABELS.items()),
            chosen_request_type=draft.request_type,
            error=error,
        ),
        status,
    )


def _choose_indication(draft: IntakeDraft) -> View:
    """Record the indication and request type; answers of another indication are dropped."""
    indication_id = request.form.get("indication_id", "")[:MAX_QUERY_CHARS]
    definition = context.library().indications.get(indication_id)
    try:
        request_type = RequestType(request.form.get("request_type", ""))
    except ValueError:
        request_type = RequestType.INITIAL
    if definition is None:
        return _indication_page(draft, 422, "Choose one of the indications listed.")
    changed = indication_id != draft.indication_id
    pairs = [
        (name, value)
        for name, value in draft.formdata
        if name not in ("request_type", "form_request_type")
        and not (
            changed and (name in ("icd10_codes", "icd10_code_typed") or name.startswith("answers-"))
        )
    ]
    pairs += [("request_type", request_type.value), ("form_request_type", request_type.value)]
    if changed and len(definition.codes) == 1:
        pairs.append(("icd10_codes", definition.codes[0].code))  # the only code: tick it
    db = context.db()
    try:
        drafts.save_draft(
            db,
            draft,
            expected_version=_posted_version(),
            user_id=context.user().id,
            formdata=pairs,
            step="indication",
            indication_id=definition.id,
            request_type=request_type.value,
        )
    except EditConflict:
        db.rollback()
        return _indication_page(draft, 409, CONFLICT_MESSAGE)
    context.record("draft.save", "ok", detail=f"draft {draft.id}")
    db.commit()
    return redirect(step_url(draft.id, key="questions"), code=303)
