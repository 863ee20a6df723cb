# mypy: disallow-subclassing-any=False
"""The clinic's directory: its letterhead, prescribers, payers and patients, kept by hand.

What the first step of every intake would otherwise retype. Billing staff and
administrators keep the letterhead, the prescribers (each linked to the
physician account that signs their letters) and the payers (name and plan type
→ the payer profile whose rules a case is checked against, and where requests
and appeals go); billing staff keep the patients, who are patient data and so
out of an administrator's reach. Every change is validated field by field and
recorded in the audit trail (by row number, never with patient data).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms import Form, SelectField, StringField
from wtforms.validators import InputRequired, Length

from priorauth.domain.case import PLAN_LABELS, SITE_LABELS
from priorauth.domain.facts import SPECIALTIES
from priorauth.domain.identifiers import is_valid_npi
from priorauth.store import directory, repository
from priorauth.store.models import PatientRecord, PayerEntry, Prescriber, Role

from . import context
from .context import View
from .fields import (
    date_field,
    error_links,
    no_control_characters,
    options,
    select_field,
    text_field,
)
from .intake import SEX_LABELS
from .permissions import Permission, requires

bp = Blueprint("directory", __name__, url_prefix="/directory")

REQUIRED = "Required: fill this in."


def _required(label: str, max_chars: int = 200, **kwargs: Any) -> Any:
    """A text field that must be filled, with the shared length and control-character checks."""
    kwargs.setdefault("render_kw", {})["maxlength"] = max_chars
    return StringField(
        label,
        [
            InputRequired(REQUIRED),
            Length(max=max_chars, message=f"Too long: at most {max_chars} characters."),
            no_control_characters(),
        ],
        **kwargs,
    )


class LetterheadForm(Form):
    practice_name = text_field("Practice name")
    practice_address = text_field("Practice address")
    phone = text_field("Phone")
    fax = text_field("Fax")
    usual_site_of_care = SelectField(
        "Usual site of care",
        choices=[
            ("", "None: choose on each case"),
            *((s.value, t) for s, t in SITE_LABELS.items()),
        ],
        description="Preselected on a new case's regimen; it can be changed there.",
        default="",  # a post without the field keeps none, rather than failing as no choice
    )
    usual_product_id = SelectField(
        "Usual product",
        description="The product the clinic stocks, preselected on a new case; it can be changed.",
        default="",
    )


def _letterhead_form(**kwargs: Any) -> LetterheadForm:
    form = LetterheadForm(**kwargs)
    products = sorted(context.library().products.values(), key=lambda p: p.name.lower())
    form.usual_product_id.choices = [
        ("", "None: choose on each case"),
        *((p.id, p.name) for p in products),
    ]
    return form


class PrescriberForm(Form):
    user_id = SelectField(
        "Physician account that signs",
        validate_choice=False,  # checked against the organization's physicians when saved
        description="Their letters go to this account to be signed.",
    )
    name = _required("Name", description="As it should appear on the letter.")
    credentials = text_field("Credentials", 40, description="For example MD or DO.")
    npi = _required(
        "NPI",
        20,
        description="10 digits, the last a check digit.",
        render_kw={"inputmode": "numeric"},
    )
    specialty = select_field("Specialty", SPECIALTIES)
    phone = text_field("Phone", description="Empty: the letterhead's.")
    fax = text_field("Fax", description="Empty: the letterhead's.")
    practice_name = text_field("Practice name", description="Empty: the letterhead's.")
    practice_address = text_field("Practice address", description="Empty: the letterhead's.")


def payer_form_class() -> type[Form]:
    profiles = sorted(context.library().payers.values(), key=lambda p: p.name)

    class PayerForm(Form):
        name = _required("Payer name", description="The insurer, as on the member's card.")
        plan_type = select_field(
            "Plan type", [(p.value, label) for p, label in PLAN_LABELS.items()]
        )
        payer_profile = select_field(
            "Payer rules",
            [(p.id, p.name) for p in profiles],
            description="Whose coverage and dosing-weight rules a case for this payer is "
            "checked against. A case that chooses this payer gets these rules.",
        )
        pa_fax = text_field("Prior-authorization fax")
        pa_address = text_field("Prior-authorization address")
        appeals_fax = text_field("Appeals fax")
        appeals_address = text_field("Appeals address")

    return PayerForm


def patient_form_class(payers: list[PayerEntry]) -> type[Form]:
    class PatientForm(Form):
        first_name = _required("First name", render_kw={"autocomplete": "off"})
        last_name = _required("Last name", render_kw={"autocomplete": "off"})
        date_of_birth = date_field("Date of birth")
        sex = select_field("Sex", [(s.value, label) for s, label in SEX_LABELS.items()])
        payer_entry_id = select_field(
            "Payer",
            [(str(p.id), f"{p.name} ({PLAN_LABELS_BY_VALUE.get(p.plan_type)})") for p in payers],
        )
        member_id = text_field("Member ID", render_kw={"autocomplete": "off"})
        group_number = text_field("Group number")

    return PatientForm


PLAN_LABELS_BY_VALUE = {p.value: label for p, label in PLAN_LABELS.items()}


def npi_problem(npi: str) -> str:
    """What is wrong with a typed NPI, or ''."""
    if len(npi) != 10 or not npi.isdigit():
        return "An NPI is exactly 10 digits."
    if not is_valid_npi(npi):
        return "This NPI's check digit is wrong; check for a typing slip."
    return ""


def _required_choice(form: Form, *names: str) -> bool:
    ok = True
    for name in names:
        item = form[name]
        if not item.data:
            item.errors = [*item.errors, "Choose one of the options."]
            ok = False
    return ok


# --- the overview: letterhead, prescribers, payers ------------------------------------------


@bp.get("")
@requires(Permission.DIRECTORY_MANAGE, action="directory.read")
def index() -> View:
    return _index()


def _index(letterhead_form: Form | None = None, status: int = 200) -> tuple[str, int]:
    who = context.user()
    db = context.db()
    if letterhead_form is None:
        kept = directory.letterhead(db, who.organization_id)
        letterhead_form = _letterhead_form(obj=kept)
    profiles = {p.id: p.name for p in context.library().payers.values()}
    return (
        render_template(
            "pages/directory.html",
            letterhead=letterhead_form,
            prescribers=directory.list_prescribers(db, who.organization_id),
            payers=directory.list_payers(db, who.organization_id),
            profiles=profiles,
            plan_labels=PLAN_LABELS_BY_VALUE,
            specialties=dict(SPECIALTIES),
        ),
        status,
    )


@bp.post("/letterhead")
@requires(Permission.DIRECTORY_MANAGE, action="directory.letterhead")
def letterhead() -> View:
    form = _letterhead_form(formdata=request.form)
    if not form.validate():
        return _index(form, 422)
    db = context.db()
    values = {name: (form[name].data or "").strip() for name in directory.LETTERHEAD_FIELDS}
    row = directory.save_letterhead(db, context.user().organization_id, values)
    context.record("directory.letterhead", "ok", detail=f"letterhead {row.id}")
    db.commit()
    flash("Letterhead saved.", "success")
    return redirect(url_for("directory.index"), code=303)


# --- prescribers ---------------------------------------------------------------------------


def _physicians() -> list[tuple[str, str]]:
    users = repository.list_users(context.db(), context.user().organization_id)
    return [
        (str(u.id), f"{u.name}{f' ({u.npi})' if u.npi else ''}")
        for u in users
        if u.role == Role.PHYSICIAN.value and u.active
    ]


@bp.route("/prescribers/new", methods=["GET", "POST"], defaults={"row_id": None})
@bp.route("/prescribers/<int:row_id>", methods=["GET", "POST"])
@requires(Permission.DIRECTORY_MANAGE, action="directory.prescriber")
def prescriber(row_id: int | None) -> View:
    who = context.user()
    db = context.db()
    row = _row(Prescriber, row_id, "directory.prescriber")
    form = PrescriberForm(request.form if request.method == "POST" else None, obj=row)
    form.user_id.choices = options([("", "None yet"), *_physicians()])
    if request.method == "GET":
        if row is not None:
            form.user_id.data = str(row.user_id or "")
        return _page("prescriber", form, row)
    valid = form.validate()
    npi = (form.npi.data or "").strip().replace(" ", "").replace("-", "")
    problem = npi_problem(npi) if npi else ""
    if problem:
        form.npi.errors = [*form.npi.errors, problem]
        valid = False
    same = directory.prescriber_by_npi(db, who.organization_id, npi) if npi else None
    if same is not None and same is not row:
        form.npi.errors = [*form.npi.errors, "A prescriber with this NPI is on file already."]
        valid = False
    if not valid:
        return _page("prescriber", form, row, 422)
    kept = directory.letterhead(db, who.organization_id)
    values: dict[str, Any] = {
        name: (form[name].data or "").strip() for name in directory.PRESCRIBER_FIELDS
    }
    values["npi"] = npi
    for name, source in (
        ("phone", "phone"),
        ("fax", "fax"),
        ("practice_name", "practice_name"),
        ("practice_address", "practice_address"),
    ):
        if not values[name] and kept is not None:
            values[name] = getattr(kept, source)  # empty: the practice's letterhead
    chosen = form.user_id.data or ""
    values["user_id"] = int(chosen) if chosen in {v for v, _ in _physicians()} else None
    saved = directory.save(db, Prescriber, who.organization_id, values, row)
    context.record(
        f"directory.prescriber.{'create' if row is None else 'update'}",
        "ok",
        detail=f"prescriber {saved.id}",
    )
    db.commit()
    flash(f"Prescriber {saved.name} saved.", "success")
    return redirect(url_for("directory.index"), code=303)


# --- payers --------------------------------------------------------------------------------


@bp.route("/payers/new", methods=["GET", "POST"], defaults={"row_id": None})
@bp.route("/payers/<int:row_id>", methods=["GET", "POST"])
@requires(Permission.DIRECTORY_MANAGE, action="directory.payer")
def payer(row_id: int | None) -> View:
    who = context.user()
    db = context.db()
    row = _row(PayerEntry, row_id, "directory.payer")
    form = payer_form_class()(request.form if request.method == "POST" else None, obj=row)
    if request.method == "GET":
        return _page("payer", form, row)
    valid = form.validate() & _required_choice(form, "plan_type", "payer_profile")
    if not valid:
        return _page("payer", form, row, 422)
    values = {name: (form[name].data or "").strip() for name in directory.PAYER_FIELDS}
    saved = directory.save(db, PayerEntry, who.organization_id, values, row)
    context.record(
        f"directory.payer.{'create' if row is None else 'update'}",
        "ok",
        detail=f"payer {saved.id}",
    )
    db.commit()
    flash(f"Payer {saved.name} saved.", "success")
    return redirect(url_for("directory.index"), code=303)


# --- patients (billing staff only: patient data) ----------------------------------------------


@bp.get("/patients")
@requires(Permission.CASE_CREATE, action="directory.patients")
def patients() -> View:
    who = context.user()
    db = context.db()
    payers = {p.id: p.name for p in directory.list_payers(db, who.organization_id)}
    return render_template(
        "pages/directory_patients.html",
        patients=directory.list_patients(db, who.organization_id),
        payers=payers,
    )


@bp.route("/patients/new", methods=["GET", "POST"], defaults={"row_id": None})
@bp.route("/patients/<int:row_id>", methods=["GET", "POST"])
@requires(Permission.CASE_CREATE, action="directory.patient")
def patient(row_id: int | None) -> View:
    who = context.user()
    db = context.db()
    row = _row(PatientRecord, row_id, "directory.patient")
    payers = directory.list_payers(db, who.organization_id, active_only=True)
    form = patient_form_class(payers)(request.form if request.method == "POST" else None, obj=row)
    if request.method == "GET":
        if row is not None:
            form.payer_entry_id.data = str(row.payer_entry_id or "")
        return _page("patient", form, row)
    valid = form.validate()
    born = birth_date_problem(form.date_of_birth.data or "", context.today())
    if born:
        form.date_of_birth.errors = [*form.date_of_birth.errors, born]
        valid = False
    if not valid:
        return _page("patient", form, row, 422)
    values: dict[str, Any] = {
        name: (form[name].data or "").strip() for name in directory.PATIENT_FIELDS
    }
    chosen = form.payer_entry_id.data or ""
    values["payer_entry_id"] = int(chosen) if chosen in {str(p.id) for p in payers} else None
    saved = directory.save(db, PatientRecord, who.organization_id, values, row)
    context.record(
        f"directory.patient.{'create' if row is None else 'update'}",
        "ok",
        detail=f"patient {saved.id}",
    )
    db.commit()
    flash("Patient saved.", "success")
    return redirect(url_for("directory.patients"), code=303)


def birth_date_problem(typed: str, today: dt.date) -> str:
    """What is wrong with a typed date of birth, or ''."""
    if not typed.strip():
        return REQUIRED
    try:
        born = dt.date.fromisoformat(typed.strip())
    except ValueError:
        return "Enter a real date as year-month-day (for example 1968-04-12)."
    if born > today:
        return "A date of birth cannot be in the future."
    return ""


def _row(model: Any, row_id: int | None, action: str) -> Any:
    if row_id is None:
        return None
    row = directory.get(context.db(), model, context.user().organization_id, row_id)
    if row is None:
        context.audit(action, "refused", detail=f"{model.__tablename__} {row_id}")
        abort(404)
    return row


KINDS = {
    "prescriber": ("Prescriber", "directory.prescriber", "directory.index"),
    "payer": ("Payer", "directory.payer", "directory.index"),
    "patient": ("Patient", "directory.patient", "directory.patients"),
}


def _page(kind: str, form: Form, row: Any, status: int = 200) -> tuple[str, int]:
    title, endpoint, back = KINDS[kind]
    action = url_for(endpoint, row_id=row.id if row is not None else None)
    return (
        render_template(
            "pages/directory_edit.html",
            form=form,
            title=f"{'Change' if row is not None else 'Add'} a {title.lower()}",
            action=action,
            back=url_for(back),
            errors=error_links(form),
        ),
        status,
    )
