# mypy: disallow-subclassing-any=False
"""The payer's denial notice, recorded on a denied case: what the appeal will answer.

An advocate (or billing) records its date, reference, reasons (and which
criteria), the reviewer's words, the level of appeal and its deadline, and
whether waiting would risk the patient's health. Errors stand beside their
fields: the form checks which of its answers go together; the domain's
validation and the rules' ``denial_problems`` name the field of what else is
wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from pydantic import ValidationError
from wtforms import BooleanField, DateField, Field, Form, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.validators import ValidationError as ShapeError

from priorauth.domain.denial import (
    APPEAL_LEVEL_LABELS,
    DENIAL_REASON_LABELS,
    AppealLevel,
    Denial,
    DenialReason,
)
from priorauth.rules.appeals import denial_problems
from priorauth.store import casework, repository
from priorauth.store.models import STATE_LABELS, CaseRecord, CaseState
from priorauth.store.repository import EditConflict, NotEditable

from . import casefile, context
from .context import View
from .fields import (
    TEXT_MAX_CHARS,
    MultiCheckboxField,
    add_error,
    error_links,
    friendly_message,
    long_text_field,
    no_control_characters,
    options,
    sentence,
    split_path,
    text_field,
)
from .pages import case_heading, conflict_page
from .permissions import Permission, case_action

bp = Blueprint("denials", __name__)

MAX_MISSING_ITEMS = 20
# What a problem the rules find reads as on the form, by the field it is placed on.
PROBLEM_WORDS = {
    "criteria_named": "The indication has no such criterion any more: tick the ones listed."
}
# A reason's details, by where the domain puts them, are these fields of the form.
_REASON_DETAIL_FIELDS = {"criteria": "criteria_named", "missing": "missing"}


class _DenialNoticeForm(Form):
    """Which answers go together on the notice, each message beside the field to change."""

    def validate_reasons(self, field: Field) -> None:
        if not field.data:
            raise ShapeError("Tick at least one reason the notice gives.")

    def validate_criteria_named(self, field: Field) -> None:
        ticked = DenialReason.CRITERIA_NOT_MET.value in (self.reasons.data or ())
        if field.data and not ticked:
            raise ShapeError("Tick “Coverage criteria not met” above, or untick these.")
        if ticked and not field.data:
            raise ShapeError("Tick the criteria the notice says are not met.")

    def validate_missing(self, field: Field) -> None:
        ticked = DenialReason.MISSING_INFORMATION.value in (self.reasons.data or ())
        if (field.data or "").strip() and not ticked:
            raise ShapeError("Tick “Missing information” above, or empty this box.")

    def validate_received_on(self, field: Field) -> None:
        if field.data and self.date.data and field.data < self.date.data:
            raise ShapeError("The notice cannot arrive before its own date")

    def validate_appeal_deadline(self, field: Field) -> None:
        if field.data and self.date.data and field.data < self.date.data:
            raise ShapeError("The deadline is before the denial's date")

    def validate_delay_risks_health(self, field: Field) -> None:
        if self.level.data == AppealLevel.EXPEDITED.value and not field.data:
            raise ShapeError(
                "An expedited appeal asks the payer to decide within days: tick this box when "
                "the physician judges that waiting would seriously risk the patient's health, "
                "and give the reason below."
            )

    def validate_urgency(self, field: Field) -> None:
        if self.delay_risks_health.data and not (field.data or "").strip():
            raise ShapeError(
                "Say why waiting would put the patient's health at risk: the payer decides on it."
            )


def denial_form_class(criteria: Sequence[tuple[str, str]]) -> type[Form]:
    """The denial notice form; the criteria to name are the indication's own."""

    class DenialNoticeForm(_DenialNoticeForm):
        date = DateField(
            "Date on the denial notice", [InputRequired("Enter the date printed on the notice.")]
        )
        received_on = DateField(
            "Date the clinic received it",
            [Optional()],
            description="Some appeal deadlines count from receipt.",
        )
        payer_reference = StringField(
            "Payer's reference number",
            [
                InputRequired("Enter the reference number the notice gives."),
                Length(max=TEXT_MAX_CHARS),
                no_control_characters(),
            ],
        )
        reasons = MultiCheckboxField(
            "Reasons the notice gives",
            choices=options([(r.value, lab) for r, lab in DENIAL_REASON_LABELS.items()]),
            description="Tick every reason given: the appeal answers each one in its own "
            "section, with the case's evidence.",
        )
        criteria_named = MultiCheckboxField(
            "Criteria the payer says are not met",
            choices=options(list(criteria)),
            description="Only with “Coverage criteria not met”: tick the ones the notice names.",
        )
        missing = long_text_field(
            "What the payer says it did not receive",
            description="Only with “Missing information”: one item per line, as the notice "
            "words it.",
        )
        reviewer_words = long_text_field(
            "The reviewer's words",
            description="The notice's rationale, copied word for word: the appeal quotes it "
            "and answers it.",
        )
        reviewer = text_field("Reviewer named on the notice")
        level = SelectField(
            "Level of appeal",
            choices=options([(lv.value, lab) for lv, lab in APPEAL_LEVEL_LABELS.items()]),
            default="first_internal",
        )
        appeal_deadline = DateField(
            "Appeal deadline on the notice",
            [Optional()],
            description="Leave empty if the notice gives none: the appeal then states the "
            "usual deadline for the level, marked unverified.",
        )
        delay_risks_health = BooleanField(
            "The physician judges that waiting for a standard appeal would seriously risk "
            "the patient's health"
        )
        urgency = long_text_field(
            "Why waiting would risk the patient's health",
            description="In the physician's words; needed to ask for an expedited review.",
        )
        appeals_fax = text_field(
            "Appeals fax number", description="From the notice; printed on the packet's cover."
        )
        appeals_address = text_field("Appeals address")
        previous_appeal_reference = text_field(
            "Reference of the previous appeal",
            description="For a second-level appeal or an external review.",
        )

    return DenialNoticeForm


def _criteria_choices(record: CaseRecord) -> list[tuple[str, str]]:
    definition = context.library().indications.get(record.indication_id)
    if definition is None:
        return []
    return [
        (c.id, c.title)
        for c in definition.all_criteria()
        if record.request_type in getattr(c, "applies_to", (record.request_type,))
    ]


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _initial_values(record: CaseRecord) -> dict[str, Any]:
    """What the form starts with: the last recording, else the decision and submission."""
    stored = casework.current_denial(record)
    if stored is not None:
        data = stored.data
        reasons = data.get("reasons") or []
        return {
            "date": _date(data.get("date")),
            "received_on": _date(data.get("received_on")),
            "payer_reference": data.get("payer_reference", ""),
            "reasons": [r.get("category") for r in reasons],
            "criteria_named": [c for r in reasons for c in r.get("criteria") or ()],
            "missing": "\n".join(m for r in reasons for m in r.get("missing") or ()),
            "reviewer_words": data.get("reviewer_words", ""),
            "reviewer": data.get("reviewer", ""),
            "level": data.get("level", "first_internal"),
            "appeal_deadline": _date(data.get("appeal_deadline")),
            "delay_risks_health": bool(data.get("delay_risks_health")),
            "urgency": data.get("urgency", ""),
            "appeals_fax": data.get("appeals_fax", ""),
            "appeals_address": data.get("appeals_address", ""),
            "previous_appeal_reference": data.get("previous_appeal_reference", ""),
        }
    decision = casework.last_denied_decision(record)
    submission = casework.last_submission(record)
    return {
        "date": decision.decided_on if decision else None,
        "payer_reference": submission.payer_reference if submission else "",
        "reviewer_words": decision.reason if decision else "",
        "appeal_deadline": decision.respond_by if decision else None,
        "level": "second_internal" if submission is not None and submission.appeal else None,
    }


def _denial_data(form: Form) -> dict[str, Any]:
    """The denial as the domain model reads it, from the form's fields."""
    missing = [line.strip() for line in (form.missing.data or "").splitlines() if line.strip()]
    reasons = []
    for category in form.reasons.data or ():
        reason: dict[str, Any] = {"category": category}
        if category == DenialReason.CRITERIA_NOT_MET.value:
            reason["criteria"] = list(form.criteria_named.data or ())
        if category == DenialReason.MISSING_INFORMATION.value:
            reason["missing"] = missing[:MAX_MISSING_ITEMS]
        reasons.append(reason)
    data: dict[str, Any] = {
        "date": form.date.data,
        "received_on": form.received_on.data,
        "payer_reference": (form.payer_reference.data or "").strip(),
        "reasons": reasons,
        "reviewer_words": (form.reviewer_words.data or "").strip(),
        "reviewer": (form.reviewer.data or "").strip(),
        "level": form.level.data,
        "appeal_deadline": form.appeal_deadline.data,
        "delay_risks_health": bool(form.delay_risks_health.data),
        "urgency": (form.urgency.data or "").strip(),
        "appeals_fax": (form.appeals_fax.data or "").strip(),
        "appeals_address": (form.appeals_address.data or "").strip(),
        "previous_appeal_reference": (form.previous_appeal_reference.data or "").strip(),
    }
    return {k: v for k, v in data.items() if v is not None}


def _field_at(form: Form, location: Sequence[str | int]) -> Field | None:
    """The form field a location in the Denial names (a reason's details have their own)."""
    names = [part for part in location if isinstance(part, str)]
    if not names:
        return None
    if names[0] == "reasons":
        details = [_REASON_DETAIL_FIELDS[n] for n in names[1:] if n in _REASON_DETAIL_FIELDS]
        return form[details[0] if details else "reasons"]
    found: Field | None = form._fields.get(names[0])
    return found


def read_denial(form: Form, record: CaseRecord) -> tuple[Denial | None, list[str]]:
    """Validate the form into a Denial; field errors go on the form, the rest are returned."""
    shape_ok = form.validate()
    general: list[str] = []
    denial: Denial | None = None
    try:
        denial = Denial.model_validate(_denial_data(form), context={"today": context.today()})
    except ValidationError as error:
        for detail in error.errors():
            target = _field_at(form, detail["loc"])
            if target is not None:
                add_error(target, friendly_message(detail))
            elif shape_ok:
                # About the notice as a whole. Its checks are the form's own checks of
                # which answers go together: when those failed, it says the same again.
                general.append(friendly_message(detail))
    definition = context.library().indications.get(record.indication_id)
    if denial is not None and definition is not None:
        for problem in denial_problems(denial, definition):
            target = _field_at(form, split_path(problem.field))
            if target is None:
                general.append(sentence(problem.message))
            else:
                add_error(target, PROBLEM_WORDS.get(target.short_name, sentence(problem.message)))
    if not shape_ok or general or any(f.errors for f in form):
        return None, general
    return denial, general


def _denial_page(
    record: CaseRecord, form: Form, *, general: Sequence[str] = (), status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "pages/denial.html",
            heading=case_heading(record),
            form=form,
            errors=error_links(form, general),
            version=record.version_id,
            recorded=casework.current_denial(record) is not None,
        ),
        status,
    )


def _not_denied(record: CaseRecord) -> tuple[str, int] | None:
    if record.state != CaseState.DENIED or casework.last_denied_decision(record) is None:
        state = STATE_LABELS.get(CaseState(record.state), record.state).lower()
        return conflict_page(
            record,
            "There is no denial to record",
            f"The case is {state}. The denial notice is recorded after the payer's denial is "
            "recorded on the case (“Record a denial”), and before the appeal goes for signature.",
        )
    return None


@bp.route("/cases/<int:case_id>/denial", methods=["GET", "POST"])
@case_action(Permission.DENIAL_RECORD, action="denial.record", page_action="denial.form")
def notice(record: CaseRecord) -> View:
    """Record the payer's denial notice: what the appeal will answer."""
    refused = _not_denied(record)
    if refused is not None:
        return refused
    form_class = denial_form_class(_criteria_choices(record))
    if request.method == "GET":
        return _denial_page(record, form_class(data=_initial_values(record)))
    form = form_class(request.form)
    casefile.readable_case(record)  # 409 for a case that no longer reads
    denial, general = read_denial(form, record)
    if denial is None:
        return _denial_page(record, form, general=general, status=422)
    version = request.form.get("version", "")
    db = context.db()
    decision = casework.last_denied_decision(record)
    try:
        _stored, superseded = repository.record_denial(
            db,
            record,
            expected_version=int(version) if version.isdigit() and len(version) < 10 else None,
            user_id=context.user().id,
            data=denial.model_dump(mode="json"),
            decision_id=decision.id if decision else None,
        )
    except (EditConflict, NotEditable):
        db.rollback()
        context.record("denial.record", "conflict", case_id=record.id)
        db.commit()
        return conflict_page(
            record,
            "Someone changed the case first",
            "The case changed while this page was open, so the denial was not recorded. "
            "Open the case again, then record it.",
        )
    context.record("denial.record", "ok", case_id=record.id)
    casefile.record_superseded(superseded)
    db.commit()
    flash(
        "Denial recorded. The appeal below answers each reason; when it reads right, send it "
        "to the physician for signature from the case page.",
        "success",
    )
    return redirect(url_for("appeals.appeal", case_id=record.id), code=303)
