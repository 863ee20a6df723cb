"""The API tokens page: make a token (shown once), list them, revoke one.

Everyone makes and revokes their own tokens; an administrator also sees and
revokes every token of the organization. A new token is shown on the page that
answers the form (never stored, never put in a flash message or the session).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from priorauth.store import tokens
from priorauth.store.models import ApiToken, User

from .. import context
from ..context import View
from ..permissions import Permission, has, requires

bp = Blueprint("tokens", __name__)

LIFETIMES = {"30": 30, "90": 90, "365": 365, "": None}


def _manages_all() -> bool:
    return has(context.user().role, Permission.ACCOUNTS_MANAGE)


def _rows() -> list[dict[str, Any]]:
    who = context.user()
    db = context.db()
    found = tokens.list_tokens(db, who.organization_id, user_id=None if _manages_all() else who.id)
    names = {
        u.id: u.name for u in db.query(User).filter(User.organization_id == who.organization_id)
    }
    return [
        {
            "id": t.id,
            "prefix": t.prefix,
            "name": t.name,
            "owner": names.get(t.user_id, ""),
            "mine": t.user_id == who.id,
            "state": tokens.token_state(t),
            "created_at": t.created_at.strftime("%Y-%m-%d"),
            "expires_at": t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "never",
            "last_used_at": t.last_used_at.strftime("%Y-%m-%d %H:%M UTC")
            if t.last_used_at
            else "never",
        }
        for t in found
    ]


def _page(status: int = 200, **values: Any) -> tuple[str, int]:
    values.setdefault("name", "")
    values.setdefault("lifetime", "90")
    values.setdefault("error", "")
    values.setdefault("secret", "")
    return (
        render_template(
            "pages/api_tokens.html",
            rows=_rows(),
            manages_all=_manages_all(),
            max_name=tokens.MAX_NAME_CHARS,
            **values,
        ),
        status,
    )


@bp.get("/account/tokens")
@requires(Permission.SESSION, action="token.list")
def index() -> View:
    return _page()


@bp.post("/account/tokens")
@requires(Permission.SESSION, action="token.create")
def create() -> View:
    name = request.form.get("name", "")[: tokens.MAX_NAME_CHARS * 2]
    lifetime = request.form.get("lifetime", "90")
    if lifetime not in LIFETIMES:
        return _page(422, name=name, lifetime="90", error="Choose how long the token lasts.")
    db = context.db()
    user = db.get(User, context.user().id)
    assert user is not None
    try:
        made = tokens.create_token(
            db, user, name, created_by_id=user.id, lifetime_days=LIFETIMES[lifetime]
        )
    except tokens.TokenError as error:
        db.rollback()
        return _page(422, name=name, lifetime=lifetime, error=str(error))
    context.record("token.create", "ok", detail=f"token {made.token.prefix}")
    db.commit()
    return _page(201, secret=made.secret_text)


@bp.post("/account/tokens/<int:token_id>/revoke")
@requires(Permission.SESSION, action="token.revoke")
def revoke(token_id: int) -> View:
    who = context.user()
    db = context.db()
    token: ApiToken | None = tokens.get_token(db, who.organization_id, token_id)
    if token is None or (token.user_id != who.id and not _manages_all()):
        context.audit("token.revoke", "refused", detail=f"token id {token_id}")
        abort(404)
    if tokens.revoke_token(db, token, revoked_by_id=who.id):
        context.record("token.revoke", "ok", detail=f"token {token.prefix} user {token.user_id}")
        db.commit()
        flash(f"Token {token.prefix} revoked: it no longer works.", "success")
    return redirect(url_for("tokens.index"), code=303)
