# mypy: disallow-subclassing-any=False
"""Logging in and out (the password checks and the idle timeout are in ``sessions``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import EmailField, Form, PasswordField
from wtforms.validators import InputRequired, Length

from priorauth.store import accounts
from priorauth.store.models import User
from priorauth.store.repository import Actor, record_event

from . import context, sessions
from .permissions import Permission, requires
from .sessions import THROTTLED, Check, check_password, load_user, safe_next

bp = Blueprint("auth", __name__)

# Same words whether the email is unknown, the password wrong or the account off,
# so the page does not tell anyone which accounts exist.
LOGIN_FAILED = "That email and password do not match an active account."


class LoginForm(Form):
    email = EmailField(
        "Email",
        [InputRequired("Enter your email."), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        [InputRequired("Enter your password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm(request.form if request.method == "POST" else None)
    if request.method == "GET" or not form.validate():
        status = 200 if request.method == "GET" else 400
        return render_template("pages/login.html", form=form, failed=False), status

    db = context.db()
    result, row = check_password(form.email.data or "", form.password.data or "")
    if result is not Check.OK:
        who = row if row is not None and row.active else None
        record_event(
            db,
            Actor(
                who.id if who else None,
                who.organization_id if who else None,
                None,
                request.remote_addr,
            ),
            "login",
            "refused",
            detail=result.value,
        )
        db.commit()
        throttled = result is Check.THROTTLED
        return render_template(
            "pages/login.html",
            form=form,
            failed=True,
            failed_message=THROTTLED if throttled else LOGIN_FAILED,
        ), (429 if throttled else 401)

    assert row is not None
    db.commit()
    who = load_user(str(row.id))
    assert who is not None
    sessions.begin(who)
    record_event(db, context.actor(), "login", "ok")
    db.commit()
    return redirect(safe_next(request.args.get("next")) or url_for("dashboard.index"))


@bp.route("/logout", methods=["POST"])
@requires(Permission.SESSION)
def logout() -> Response:
    db = context.db()
    record_event(db, context.actor(), "logout", "ok")
    sessions.end_here("logout")
    db.commit()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


class PasswordForm(Form):
    current = PasswordField(
        "Current password",
        [InputRequired("Enter your current password."), Length(max=accounts.MAX_PASSWORD_CHARS)],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        "New password",
        [InputRequired("Choose a new password."), Length(max=accounts.MAX_PASSWORD_CHARS)],
        description=f"At least {accounts.MIN_PASSWORD_CHARS} characters and hard to guess: "
        "a phrase of four or more unrelated words works well.",
        render_kw={"autocomplete": "new-password"},
    )
    again = PasswordField(
        "New password again",
        [InputRequired("Type the new password again."), Length(max=accounts.MAX_PASSWORD_CHARS)],
        render_kw={"autocomplete": "new-password"},
    )


@bp.route("/account/password", methods=["GET", "POST"])
@requires(Permission.SESSION, action="password.change")
def change_password() -> Response | str | tuple[str, int]:
    """Change one's own password; every other session of the account ends."""
    form = PasswordForm(request.form if request.method == "POST" else None)
    if request.method == "GET":
        return render_template("pages/password.html", form=form)
    if not form.validate():
        return render_template("pages/password.html", form=form), 422
    db = context.db()
    who = context.user()
    result, row = check_password(who.email, form.current.data or "")
    db.commit()  # the attempt counts, whatever follows
    if result is not Check.OK or row is None or row.id != who.id:
        message = THROTTLED if result is Check.THROTTLED else "This is not your current password."
        form.current.errors = [*form.current.errors, message]
        context.audit("password.change", "refused", detail=result.value)
        return render_template("pages/password.html", form=form), 422
    new = form.new.data or ""
    problem = accounts.password_problem(
        new, user_inputs=accounts.account_words(who.email, who.name, who.organization_name)
    )
    if not problem and new == form.current.data:
        problem = "The new password is the one you have now."
    if problem:
        form.new.errors = [*form.new.errors, problem]
        return render_template("pages/password.html", form=form), 422
    if form.again.data != new:
        form.again.errors = [*form.again.errors, "The two new passwords differ."]
        return render_template("pages/password.html", form=form), 422
    user = db.get(User, who.id)
    assert user is not None
    accounts.set_password(db, user, new)
    record_event(db, context.actor(), "password.change", "ok")
    sessions.begin(who)
    db.commit()
    flash("Your password is changed. Every other session of this account has ended.", "success")
    return redirect(url_for("dashboard.index"), code=303)
