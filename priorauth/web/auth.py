# mypy: disallow-subclassing-any=False
"""Logging in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms import EmailField, Form, PasswordField
from wtforms.validators import InputRequired, Length

from priorauth.store.models import Organization, User
from priorauth.store.passwords import verify_password
from priorauth.store.repository import Actor, find_user_by_email, record_event

from . import context

bp = Blueprint("auth", __name__)

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Log in to continue."
login_manager.login_message_category = "info"
# Ties the session to the browser that logged in; a copied cookie is refused.
login_manager.session_protection = "strong"

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


@login_manager.user_loader
def load_user(user_id: str) -> context.SessionUser | None:
    if not user_id.isdigit():
        return None
    row = context.db().get(User, int(user_id))
    if row is None or not row.active:
        return None
    organization = context.db().get(Organization, row.organization_id)
    return context.SessionUser(
        id=row.id,
        name=row.name,
        email=row.email,
        role=row.role,
        organization_id=row.organization_id,
        organization_name=organization.name if organization else "",
        credentials=row.credentials,
        npi=row.npi,
    )


def _safe_next(target: str | None) -> str | None:
    """A same-site path to go back to after login, or None (no open redirect)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("cases.dashboard"))
    form = LoginForm(request.form if request.method == "POST" else None)
    if request.method == "GET" or not form.validate():
        status = 200 if request.method == "GET" else 400
        return render_template("pages/login.html", form=form, failed=False), status

    db = context.db()
    row = find_user_by_email(db, form.email.data or "")
    ok = verify_password(row.password_hash if row else None, form.password.data or "")
    if row is None or not ok or not row.active:
        record_event(
            db,
            Actor(
                row.id if row else None,
                row.organization_id if row else None,
                None,
                request.remote_addr,
            ),
            "login",
            "refused",
        )
        db.commit()
        return render_template(
            "pages/login.html", form=form, failed=True, failed_message=LOGIN_FAILED
        ), 401

    who = load_user(str(row.id))
    assert who is not None
    # A fresh session on login: nothing from before (a planted CSRF token) survives.
    session.clear()
    login_user(who)
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME of inactivity
    record_event(db, context.actor(), "login", "ok")
    db.commit()
    return redirect(_safe_next(request.args.get("next")) or url_for("cases.dashboard"))


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        db = context.db()
        record_event(db, context.actor(), "logout", "ok")
        db.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
