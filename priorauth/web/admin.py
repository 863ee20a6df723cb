# mypy: disallow-subclassing-any=False
"""Administration: the organization's accounts, its audit trail, the payer data in use.

Administrators make no clinical edits and reach no case (``permissions``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms import EmailField, Form, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from priorauth.domain.identifiers import is_valid_npi
from priorauth.store import accounts, payer_profiles, repository
from priorauth.store.models import ROLE_LABELS, User

from . import context
from .context import View
from .fields import no_control_characters, options
from .permissions import Permission, requires

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 200


class AccountForm(Form):
    name = StringField(
        "Full name",
        [InputRequired("Enter the person's name."), Length(max=200), no_control_characters()],
    )
    email = EmailField(
        "Email",
        [InputRequired("Enter their email."), Length(max=254)],
        description="They log in with it.",
    )
    role = SelectField(
        "Role", choices=options([(r.value, label) for r, label in ROLE_LABELS.items()])
    )
    credentials = StringField(
        "Credentials",
        [Optional(), Length(max=40), no_control_characters()],
        description="Physicians: e.g. MD or DO.",
    )
    npi = StringField(
        "NPI",
        [Optional(), Length(max=20)],
        description="Physicians: their 10-digit NPI. It decides which cases they sign.",
    )
    password = PasswordField(
        "First password",
        [InputRequired("Set a first password."), Length(max=accounts.MAX_PASSWORD_CHARS)],
        description=f"At least {accounts.MIN_PASSWORD_CHARS} characters. Give it to them "
        "in person or by phone, never by email.",
        render_kw={"autocomplete": "new-password"},
    )


def npi_problem(npi: str) -> str:
    """What is wrong with an NPI typed for an account, or ''."""
    if not npi:
        return ""
    if len(npi) != 10 or not npi.isdigit():
        return "An NPI is exactly 10 digits."
    if not is_valid_npi(npi):
        return "This NPI's check digit is wrong; check for a typing slip."
    return ""


def _user_rows(users: list[User]) -> list[dict[str, Any]]:
    return [
        {
            "id": u.id,
            "name": u.name,
            "email": u.email,
            "role": ROLE_LABELS.get(u.role, u.role),  # type: ignore[call-overload]
            "credentials": u.credentials,
            "npi": u.npi or "",
            "active": u.active,
            "created_at": u.created_at.strftime("%Y-%m-%d"),
        }
        for u in users
    ]


@bp.get("/users")
@requires(Permission.ACCOUNTS_MANAGE, action="accounts.list")
def users() -> View:
    who = context.user()
    rows = _user_rows(repository.list_users(context.db(), who.organization_id))
    return render_template("pages/admin_users.html", users=rows, me=who.id)


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.ACCOUNTS_MANAGE, action="accounts.create")
def new_user() -> View:
    form = AccountForm(request.form if request.method == "POST" else None)
    if request.method == "GET":
        return render_template("pages/admin_user_new.html", form=form)
    valid = form.validate()
    npi = (form.npi.data or "").strip().replace(" ", "").replace("-", "")
    if npi_problem(npi):
        form.npi.errors = [*form.npi.errors, npi_problem(npi)]
        valid = False
    if not valid:
        return render_template("pages/admin_user_new.html", form=form), 422
    db = context.db()
    who = context.user()
    try:
        made = accounts.create_user(
            db,
            who.organization_id,
            accounts.NewAccount(
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data or "",
                password=form.password.data or "",
                credentials=form.credentials.data or "",
                npi=npi or None,
            ),
        )
    except accounts.AccountError as error:
        db.rollback()
        for name, message in error.problems.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, message]
        return render_template("pages/admin_user_new.html", form=form), 422
    context.record("accounts.create", "ok", detail=f"user {made.id} role {made.role}")
    db.commit()
    flash(f"Account created for {made.name}.", "success")
    return redirect(url_for("admin.users"), code=303)


@bp.post("/users/<int:user_id>/active")
@requires(Permission.ACCOUNTS_MANAGE, action="accounts.set_active")
def set_active(user_id: int) -> View:
    """Switch an account off (it can no longer log in) or back on."""
    who = context.user()
    db = context.db()
    person = db.get(User, user_id)
    if person is None or person.organization_id != who.organization_id:
        context.audit("accounts.set_active", "refused", detail=f"user {user_id}")
        abort(404)
    if person.id == who.id:
        flash("You cannot switch off your own account.", "error")
        return redirect(url_for("admin.users"), code=303)
    person.active = request.form.get("active") == "1"
    if not person.active:
        accounts.end_user_sessions(db, person.id, "account_off")
    context.record(
        "accounts.set_active", "ok", detail=f"user {person.id} {'on' if person.active else 'off'}"
    )
    db.commit()
    flash(f"{person.name} is {'active' if person.active else 'switched off'}.", "success")
    return redirect(url_for("admin.users"), code=303)


@bp.post("/users/<int:user_id>/sessions/end")
@requires(Permission.ACCOUNTS_MANAGE, action="accounts.sign_out")
def sign_out(user_id: int) -> View:
    """End every session of one account, wherever its cookie was copied to."""
    who = context.user()
    db = context.db()
    person = db.get(User, user_id)
    if person is None or person.organization_id != who.organization_id:
        context.audit("accounts.sign_out", "refused", detail=f"user {user_id}")
        abort(404)
    ended = accounts.end_user_sessions(db, person.id, "signed_out")
    context.record("accounts.sign_out", "ok", detail=f"user {person.id} sessions {ended}")
    db.commit()
    flash(f"{person.name} is signed out everywhere ({ended} session(s) ended).", "success")
    if person.id == who.id:
        return redirect(url_for("auth.login"), code=303)
    return redirect(url_for("admin.users"), code=303)


@bp.get("/audit")
@requires(Permission.AUDIT_READ, action="audit.read")
def audit() -> View:
    """The organization's audit events, newest first; filter by case number."""
    who = context.user()
    raw = request.args.get("case", "").strip()
    case_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
    db = context.db()
    events = repository.list_events(db, who.organization_id, case_id=case_id, limit=AUDIT_PAGE_SIZE)
    names = {u.id: u.name for u in repository.list_users(db, who.organization_id)}
    rows = [
        {
            "seq": e.seq,
            "at": e.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "who": names.get(e.user_id, "") if e.user_id else "",
            "role": e.role or "",
            "action": e.action,
            "case_id": e.case_id,
            "document_id": e.document_id,
            "outcome": e.outcome,
            "remote_addr": e.remote_addr or "",
            "detail": e.detail,
        }
        for e in events
    ]
    context.audit("audit.read", "ok", case_id=case_id)
    return render_template(
        "pages/admin_audit.html", events=rows, case_filter=case_id, limit=AUDIT_PAGE_SIZE
    )


@bp.get("/payers")
@requires(Permission.PAYERS_READ, action="payers.read")
def payers() -> View:
    """The payer profiles and price tables the app uses, with their sources and dates."""
    library = context.library()
    profiles = sorted(library.payers.values(), key=lambda p: p.name.lower())
    edited = {
        row.profile_id: {"number": row.number, "at": row.created_at.strftime("%Y-%m-%d")}
        for row in payer_profiles.in_effect(context.db(), context.user().organization_id)
    }
    tables = list(library.prices.values())  # loaded and checked at start-up
    return render_template(
        "pages/admin_payers.html",
        profiles=[
            {
                "id": p.id,
                "name": p.name,
                "as_of": p.as_of,
                "version": p.version,
                "effective_date": p.effective_date.isoformat(),
                "edited": edited.get(p.id),
                "overrides": len(p.overrides),
                "sources": list(p.sources),
            }
            for p in profiles
        ],
        tables=[
            {
                "id": t.id,
                "name": t.name,
                "effective_from": t.effective_from.isoformat(),
                "source": t.source,
                "illustrative": t.illustrative,
            }
            for t in tables
        ],
        forms_dir=str(library.root),
    )
