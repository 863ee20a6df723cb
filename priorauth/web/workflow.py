# mypy: disallow-subclassing-any=False
"""The case workflow pages: state transitions, assignments, units used.

Which transition a role may make from which state is decided by
``priorauth.store.workflow.TRANSITIONS`` alone; views here read it, collect the
details a transition records (submission, decision), and write them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms import DateField, Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from priorauth.rules.assessment import Verdict
from priorauth.store import casework, repository
from priorauth.store import workflow as table
from priorauth.store.models import (
    SUBMISSION_METHOD_LABELS,
    CaseRecord,
    CaseState,
    DecisionOutcome,
    User,
)
from priorauth.store.repository import EditConflict
from priorauth.store.signatures import current_signature

from . import casefile, context
from .context import View
from .fields import no_control_characters, options
from .pages import conflict_page
from .permissions import Permission, case_action
from .signing_terms import NOT_READY_SEND, ready_to_submit
from .workflow_panel import ASSIGNABLE_ROLES, state_label

bp = Blueprint("workflow", __name__)

TEXT_MAX = 2000


class SubmissionForm(Form):
    submitted_on = DateField("Date submitted", [InputRequired("Enter the date it was sent.")])
    method = SelectField(
        "How it was sent",
        choices=options([(m.value, label) for m, label in SUBMISSION_METHOD_LABELS.items()]),
    )
    payer_reference = StringField(
        "Payer's reference number",
        [Optional(), Length(max=100), no_control_characters()],
        description="The number the payer gave for this request, if any.",
    )


class ApprovalForm(Form):
    decided_on = DateField("Date of the decision", [InputRequired("Enter the decision's date.")])
    authorization_number = StringField(
        "Authorization number",
        [InputRequired("Enter the authorization number."), Length(max=60), no_control_characters()],
    )
    approved_units = IntegerField(
        "Units approved",
        [InputRequired("Enter the units approved."), NumberRange(min=1, max=1_000_000)],
        description="The HCPCS billing units the payer approved.",
    )
    start_date = DateField("First day covered", [InputRequired("Enter the start date.")])
    end_date = DateField("Last day covered", [InputRequired("Enter the end date.")])

    def validate_end_date(self, field: DateField) -> None:
        if self.start_date.data and field.data and field.data < self.start_date.data:
            raise ValidationError("The last day covered is before the first.")


class DenialForm(Form):
    decided_on = DateField("Date of the denial", [InputRequired("Enter the denial's date.")])
    reason = TextAreaField(
        "The payer's reason",
        [
            InputRequired("Enter the reason the payer gave."),
            Length(max=TEXT_MAX),
            no_control_characters(long_text=True),
        ],
        description="As the denial letter words it: the appeal must answer it.",
    )
    respond_by = DateField(
        "Appeal deadline",
        [Optional()],
        description="The last day to appeal, from the denial letter.",
    )

    def validate_respond_by(self, field: DateField) -> None:
        if self.decided_on.data and field.data and field.data < self.decided_on.data:
            raise ValidationError("The appeal deadline is before the denial.")


class PendForm(Form):
    decided_on = DateField("Date of the request", [InputRequired("Enter the request's date.")])
    reason = TextAreaField(
        "What the payer asks for",
        [
            InputRequired("Enter what the payer asks for."),
            Length(max=TEXT_MAX),
            no_control_characters(long_text=True),
        ],
    )
    respond_by = DateField("Answer by", [Optional()])


DETAIL_FORMS: dict[str, type[Form]] = {
    "submission": SubmissionForm,
    "approval": ApprovalForm,
    "denial": DenialForm,
    "pend": PendForm,
}


class UsageForm(Form):
    used_on = DateField("Date given", [InputRequired("Enter the date.")])
    units = IntegerField(
        "Units given", [InputRequired("Enter the units."), NumberRange(min=1, max=100_000)]
    )
    over_reason = StringField(
        "Reason, if past the approved total",
        [Optional(), Length(max=500), no_control_characters()],
    )


def _wrong_state(record: CaseRecord, transition: table.Transition) -> tuple[str, int]:
    return conflict_page(
        record,
        "Not possible in this state",
        f"“{transition.label}” is not possible while the case is "
        f"{state_label(record.state).lower()}. Reload the case page to see what it needs now.",
    )


@bp.route("/cases/<int:case_id>/state/<name>", methods=["GET", "POST"])
@case_action(Permission.TRANSITION, action="case.transition", page_action="case.transition_form")
def transition(record: CaseRecord, name: str) -> View:
    """Move a case to another state, recording what the transition needs."""
    found = table.transition(name)
    if found is None:
        abort(404)
    who = context.user()
    if who.role not in found.roles:
        context.audit("case.transition", "refused", case_id=record.id, detail=name)
        abort(403)
    if found.details == "signature":
        return redirect(url_for("signing.sign", case_id=record.id), code=303)
    if record.state not in found.sources:
        return _wrong_state(record, found)
    if found.needs_unsigned_content and current_signature(record) is not None:
        return conflict_page(
            record,
            "This version is signed already",
            "The letter as it stands carries the physician's signature. To appeal, "
            "first edit the case or have the physician rewrite the narrative to answer "
            "the payer's reason; the new version then goes for signature."
            if found.name == "appeal"
            else "The letter as it stands is signed already: submit it, or edit the case first.",
        )
    if found.needs_current_signature and current_signature(record) is None:
        return conflict_page(
            record,
            "The letter needs a signature first",
            "The case changed after the letter was signed. Send the new version "
            "for signature, then submit it.",
        )
    if (
        found.name == "submit"
        and record.state == CaseState.SIGNED
        and _not_ready(record)
        and not ready_to_submit(record, Verdict.NOT_READY)
    ):
        return conflict_page(
            record,
            "Not ready to submit",
            "The letter was signed as a standard request, but the rules now judge the case "
            "not ready. Complete what is missing, or have it signed as a medical-exception "
            "request, then submit.",
        )
    not_ready = found.name == "send_for_signature" and _not_ready(record)
    if not_ready and request.method == "POST" and request.form.get("as_exception") != "y":
        context.audit("case.transition", "refused", case_id=record.id, detail="not ready")
        return conflict_page(record, "Not sent for signature", NOT_READY_SEND)
    form_class = DETAIL_FORMS.get(found.details)
    form = form_class(request.form if request.method == "POST" else None) if form_class else None
    if form is not None and request.method == "GET":
        for date_field in ("submitted_on", "decided_on"):
            if hasattr(form, date_field):
                getattr(form, date_field).data = context.today()
    if request.method == "GET" or (form is not None and not form.validate()):
        return (
            render_template(
                "pages/transition.html",
                record_id=record.id,
                state=state_label(record.state),
                transition=found,
                target=state_label(found.target.value),
                form=form,
                version=record.version_id,
                not_ready=NOT_READY_SEND if not_ready else "",
            ),
            200 if request.method == "GET" else 422,
        )
    version = request.form.get("version", "")
    if not version.isdigit() or int(version) != record.version_id:
        return _conflict(record)
    db = context.db()
    try:
        _apply(record, found, form)
    except (EditConflict, casework.MissingSignature):
        db.rollback()
        return _conflict(record)
    detail = f"{name} as a medical-exception request" if not_ready else name
    context.record("case.transition", "ok", case_id=record.id, detail=detail)
    db.commit()
    flash(f"Done: the case is now {state_label(found.target.value).lower()}.", "success")
    return redirect(url_for("cases.assessment", case_id=record.id), code=303)


def _not_ready(record: CaseRecord) -> bool:
    """The stored verdict (the rules decide) says the case is not ready."""
    case = casefile.stored_case(record)
    if case is None or case.indication_id not in context.library().indications:
        return True
    return casefile.assessment_of(record, case).verdict is Verdict.NOT_READY


def _conflict(record: CaseRecord) -> tuple[str, int]:
    context.record("case.transition", "conflict", case_id=record.id)
    context.db().commit()
    return conflict_page(
        record,
        "Someone changed the case first",
        "The case changed while this page was open, so nothing was recorded. "
        "Open the case again to see its state, then try again if it still applies.",
    )


def _apply(record: CaseRecord, found: table.Transition, form: Form | None) -> None:
    db = context.db()
    user_id = context.user().id
    data: dict[str, Any] = dict(form.data) if form is not None else {}
    if found.details == "submission":
        casework.record_submission(
            db,
            record,
            casework.SubmissionDetails(
                submitted_on=data["submitted_on"],
                method=data["method"],
                payer_reference=(data.get("payer_reference") or "").strip(),
            ),
            user_id=user_id,
        )
    elif found.details in ("approval", "denial", "pend"):
        outcome = {
            "approval": DecisionOutcome.APPROVED,
            "denial": DecisionOutcome.DENIED,
            "pend": DecisionOutcome.PENDED,
        }[found.details]
        casework.record_decision(
            db,
            record,
            casework.DecisionDetails(
                outcome=outcome,
                decided_on=data["decided_on"],
                authorization_number=(data.get("authorization_number") or "").strip() or None,
                approved_units=data.get("approved_units"),
                start_date=data.get("start_date"),
                end_date=data.get("end_date"),
                reason=(data.get("reason") or "").strip(),
                respond_by=data.get("respond_by"),
            ),
            user_id=user_id,
        )
        if outcome is DecisionOutcome.DENIED:  # to the advocates' queue, by rule
            for made in casework.assign_advocates_on_denial(db, record, assigned_by_id=user_id):
                context.record(
                    "case.assign", "ok", case_id=record.id, detail=f"user {made.user_id} (denial)"
                )
    else:
        repository.change_state(db, record, found.target, user_id=user_id)


# --- assignments ----------------------------------------------------------------------------


@bp.post("/cases/<int:case_id>/assignments")
@case_action(Permission.ASSIGN, action="case.assign")
def assign(record: CaseRecord) -> View:
    """Assign a physician (to review and sign) or an advocate (to appeal) to the case."""
    raw = request.form.get("user_id", "")
    person = context.db().get(User, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if (
        person is None
        or person.organization_id != record.organization_id
        or not person.active
        or person.role not in ASSIGNABLE_ROLES
    ):
        flash("Choose a physician or an advocate of your organization.", "error")
        return redirect(url_for("cases.assessment", case_id=record.id), code=303)
    db = context.db()
    made = casework.assign(db, record, person, assigned_by_id=context.user().id)
    context.record("case.assign", "ok", case_id=record.id, detail=f"user {person.id}")
    db.commit()
    flash(f"{person.name} is assigned to the case." if made else "Already assigned.", "success")
    return redirect(url_for("cases.assessment", case_id=record.id), code=303)


@bp.post("/cases/<int:case_id>/assignments/<int:user_id>/remove")
@case_action(Permission.ASSIGN, action="case.unassign")
def unassign(record: CaseRecord, user_id: int) -> View:
    db = context.db()
    if not casework.unassign(db, record, user_id):
        abort(404)
    context.record("case.unassign", "ok", case_id=record.id, detail=f"user {user_id}")
    db.commit()
    flash("Assignment removed.", "success")
    return redirect(url_for("cases.assessment", case_id=record.id), code=303)


# --- units used -----------------------------------------------------------------------------


@bp.post("/cases/<int:case_id>/usage")
@case_action(Permission.USAGE_RECORD, action="usage.record")
def usage(record: CaseRecord) -> View:
    """Record units given under the approved authorization."""
    if record.state != CaseState.APPROVED or casework.current_approval(record) is None:
        return conflict_page(
            record,
            "No approval to count against",
            "Units can be recorded once the payer's approval is recorded.",
        )
    form = UsageForm(request.form)
    if not form.validate():
        flash("Enter the date and the number of units given (a whole number).", "error")
        return redirect(url_for("cases.assessment", case_id=record.id), code=303)
    db = context.db()
    approval = casework.current_approval(record)
    assert approval is not None
    reason = (form.over_reason.data or "").strip() or None
    used = casework.units_used(db, approval.id)
    over = approval.approved_units is not None and used + form.units.data > approval.approved_units
    if over and reason is None:
        flash(
            f"Not recorded: {form.units.data} more units would make {used + form.units.data} "
            f"of the {approval.approved_units} approved. Give the reason to record them past "
            "the approved total.",
            "error",
        )
        return redirect(url_for("cases.assessment", case_id=record.id), code=303)
    try:
        casework.record_usage(
            db,
            record,
            used_on=form.used_on.data,
            units=form.units.data,
            user_id=context.user().id,
            over_reason=reason if over else None,
        )
    except casework.UsageConflict:
        db.rollback()
        flash(
            f"Units for {form.used_on.data.isoformat()} are recorded already: remove that "
            "entry in the list to correct it.",
            "error",
        )
        return redirect(url_for("cases.assessment", case_id=record.id), code=303)
    context.record("usage.record", "ok", case_id=record.id, detail="over" if over else "")
    db.commit()
    flash("Units recorded.", "success")
    return redirect(url_for("cases.assessment", case_id=record.id), code=303)


@bp.post("/cases/<int:case_id>/usage/<int:usage_id>/remove")
@case_action(Permission.USAGE_RECORD, action="usage.remove")
def usage_remove(record: CaseRecord, usage_id: int) -> View:
    """Remove one day's entry, to correct it (recorded in the audit trail)."""
    db = context.db()
    removed = casework.remove_usage(db, record, usage_id)
    if removed is None:
        abort(404)
    context.record("usage.remove", "ok", case_id=record.id, detail=f"entry {usage_id}")
    db.commit()
    flash("Entry removed.", "success")
    return redirect(url_for("cases.assessment", case_id=record.id), code=303)
