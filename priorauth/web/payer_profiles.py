# mypy: disallow-subclassing-any=False
"""Payer profiles kept in the app: an admin edits one (or uploads its TOML), sees its history.

The text is checked by the rules layer exactly as ``priorauth forms check`` checks a
file (``rules.loader.payer_from_text``): any problem is shown with its breadcrumb, what
was typed stays in the box, nothing is stored. A profile whose content changes must
carry a raised ``version`` (the version is what cases record and what the work queue's
"Policy changed: re-check" names). A saved version is in effect for the organization
from its next request (``edited_profiles``), never for another organization.
"""

from __future__ import annotations

import difflib
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage
from wtforms import Form, StringField, TextAreaField
from wtforms.fields import FileField
from wtforms.validators import InputRequired, Length

from priorauth.rules.loader import payer_from_text
from priorauth.rules.schema import PayerProfile
from priorauth.store import payer_profiles
from priorauth.store.payer_profiles import MAX_REASON_CHARS, MAX_TOML_CHARS

from . import context
from .context import View
from .edited_profiles import profile_path
from .fields import no_control_characters
from .permissions import Permission, requires

bp = Blueprint("payer_profiles", __name__, url_prefix="/admin/payers")

# The form may carry the whole profile twice (typed and uploaded) in UTF-8.
FORM_MEMORY_BYTES = 8 * MAX_TOML_CHARS


class ProfileForm(Form):
    toml_text = TextAreaField(
        "The profile (TOML)",
        description=f"At most {MAX_TOML_CHARS:,} characters. Raise `version` when you change it.",
        validators=[Length(max=MAX_TOML_CHARS)],
        render_kw={"maxlength": MAX_TOML_CHARS, "rows": 28, "spellcheck": "false"},
    )
    upload = FileField(
        "Or upload the profile's .toml file",
        description=f"Replaces the text above. At most {MAX_TOML_CHARS:,} characters.",
        render_kw={"accept": ".toml,text/plain"},
    )
    reason = StringField(
        "What changed, and why",
        description="Kept with the version (for instance: the payer's policy update and its date).",
        validators=[
            InputRequired("Say what changed and why."),
            Length(max=MAX_REASON_CHARS),
            no_control_characters(),
        ],
        render_kw={"maxlength": MAX_REASON_CHARS},
    )


def form_limit() -> None:
    """Before CSRF reads the form: a profile is larger than the app's usual form."""
    if request.endpoint == "payer_profiles.edit":
        request.max_form_memory_size = FORM_MEMORY_BYTES


def _profile_or_404(profile_id: str) -> PayerProfile:
    profile = context.library().payers.get(profile_id)
    if profile is None:
        abort(404)
    return profile


def _shipped_text(profile_id: str) -> str:
    path = context.state().library.root / profile_path(profile_id)
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _current_text(profile_id: str) -> str:
    saved = payer_profiles.history(context.db(), context.user().organization_id, profile_id)
    return saved[0][0].toml_text if saved else _shipped_text(profile_id)


def _uploaded_text(upload: Any, form: ProfileForm) -> str | None:
    """The uploaded file's text; None (with the field's error) when it cannot be used."""
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    raw = upload.stream.read(4 * MAX_TOML_CHARS + 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        form.upload.errors = ["The file is not UTF-8 text: save it as UTF-8 and upload it again."]
        return None
    if len(raw) > 4 * MAX_TOML_CHARS or len(text) > MAX_TOML_CHARS:
        form.upload.errors = [f"The file is longer than {MAX_TOML_CHARS:,} characters."]
        return None
    return text


def check(profile_id: str, text: str) -> tuple[PayerProfile | None, list[str]]:
    """The rules' verdict on an edited profile, plus the one rule of editing: raise the version."""
    base = context.state().library
    profile, problems = payer_from_text(
        text, profile_path(profile_id), profile_id, base.indications, base.products
    )
    current = _profile_or_404(profile_id)
    changed = text.strip() != _current_text(profile_id).strip()
    if profile is not None and changed and profile.version == current.version:
        problems.append(
            f"{profile_path(profile_id)} → payer {profile_id} → version: raise it: "
            f"{current.version!r} is the version in effect, and cases record which one "
            "they were assessed under"
        )
    return (profile if not problems else None), problems


@bp.route("/<profile_id>/edit", methods=["GET", "POST"])
@requires(Permission.PAYERS_EDIT, action="payer_profile.edit")
def edit(profile_id: str) -> View:
    profile = _profile_or_404(profile_id)
    form = ProfileForm(request.form)
    problems: list[str] = []
    if request.method == "GET":
        form.toml_text.data = _current_text(profile_id)
    else:
        uploaded = _uploaded_text(request.files.get("upload"), form)
        if uploaded is not None:
            form.toml_text.data = uploaded
        if form.validate() and not form.upload.errors:
            text = form.toml_text.data or ""
            checked, problems = check(profile_id, text)
            if checked is not None:
                return _save(profile_id, text, (form.reason.data or "").strip(), checked)
            form.toml_text.errors = [f"{len(problems)} problem(s): see the list above the box."]
        context.audit("payer_profile.edit", "invalid", detail=profile_id)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "pages/payer_profile_edit.html", profile=profile, form=form, problems=problems
    ), status


def _save(profile_id: str, text: str, reason: str, checked: PayerProfile) -> View:
    who = context.user()
    db = context.db()
    saved = payer_profiles.save(
        db,
        organization_id=who.organization_id,
        profile_id=profile_id,
        toml_text=text,
        reason=reason,
        user_id=who.id,
    )
    context.record(
        "payer_profile.edit",
        "ok",
        detail=f"{profile_id} saved as number {saved.number}, version {checked.version}",
    )
    db.commit()
    flash(
        f"{checked.name}: version {checked.version} is in effect for your organization "
        f"(saved as number {saved.number}). Cases it changes are listed under "
        "“Policy changed: re-check”.",
        "success",
    )
    return redirect(url_for("payer_profiles.history", profile_id=profile_id), code=303)


@bp.get("/<profile_id>/history")
@requires(Permission.PAYERS_READ, action="payer_profile.history")
def history(profile_id: str) -> View:
    profile = _profile_or_404(profile_id)
    saved = payer_profiles.history(context.db(), context.user().organization_id, profile_id)
    texts = [row.toml_text for row, _ in saved] + [_shipped_text(profile_id)]
    versions = [
        {
            "number": row.number,
            "by": name,
            "at": row.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            "reason": row.reason,
            "sha256": row.sha256,
            "diff": "".join(
                difflib.unified_diff(
                    texts[index + 1].splitlines(keepends=True),
                    texts[index].splitlines(keepends=True),
                    "before",
                    "after",
                    n=1,
                )
            ),
        }
        for index, (row, name) in enumerate(saved)
    ]
    return render_template("pages/payer_profile_history.html", profile=profile, versions=versions)


@bp.post("/<profile_id>/restore/<int:number>")
@requires(Permission.PAYERS_EDIT, action="payer_profile.restore")
def restore(profile_id: str, number: int) -> View:
    """Save an earlier version's text again, as the newest version (it is checked again)."""
    profile = _profile_or_404(profile_id)
    saved = payer_profiles.history(context.db(), context.user().organization_id, profile_id)
    earlier = next((row for row, _ in saved if row.number == number), None)
    if earlier is None:
        abort(404)
    base = context.state().library
    checked, problems = payer_from_text(
        earlier.toml_text, profile_path(profile_id), profile_id, base.indications, base.products
    )
    if checked is None:
        flash(
            f"Number {number} no longer loads: {'; '.join(problems)}. Edit the profile instead.",
            "error",
        )
        return redirect(url_for("payer_profiles.history", profile_id=profile.id), code=303)
    return _save(profile_id, earlier.toml_text, f"Restored number {number}", checked)
