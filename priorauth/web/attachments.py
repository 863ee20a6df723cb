"""The files uploaded for a case's packet: what the indication asks for, adding, removing.

Every file is checked by the documents layer (``check_upload``) before anything
is kept, so a rejected file leaves the case as it was.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from priorauth.documents.uploads import MAX_UPLOAD_BYTES, Upload, UploadRejected, check_upload
from priorauth.domain.denial import MEDIA_TYPE_LABELS, MediaType
from priorauth.store import casework
from priorauth.store.models import CaseRecord
from priorauth.store.signatures import supersede_for_enclosures

from . import casefile, context
from .casefile import PACKET
from .context import View
from .errors import MESSAGES
from .fields import CONTROL_CHARACTERS_MESSAGE, TEXT_MAX_CHARS, has_control_characters
from .pages import case_heading, document_rows
from .permissions import Permission, case_action

bp = Blueprint("attachments", __name__)

DENIAL_NOTICE = "denial_notice"
# The whole request of an upload: the 10 MB file, the form's few short fields and
# the multipart framing. Above it Werkzeug answers 413 before reading the body.
UPLOAD_REQUEST_LIMIT = MAX_UPLOAD_BYTES + 256 * 1024
# The multipart decoder keeps up to one read chunk (64 KiB) plus a carried-over
# tail in its buffer and counts that against this limit even for a file part:
# at 64 KiB it refused ordinary photos (issue 16). A file part goes to a temporary
# file beyond 500 KB (Werkzeug's stream factory); this bounds the text fields.
UPLOAD_FORM_MEMORY_BYTES = 512 * 1024
# What is read and thrown away of a refused request's body so that the browser
# gets the answer (a connection closed mid-upload shows as a network error).
TOO_LARGE_DRAIN_BYTES = 64 * 1024 * 1024
_EXTENSION_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
_EXTENSIONS = {MediaType.PDF.value: "pdf", MediaType.PNG.value: "png", MediaType.JPEG.value: "jpg"}


def _enclosure_choices(record: CaseRecord) -> list[tuple[str, str]]:
    """The indication's enclosures for this request, and the denial notice once denied."""
    definition = context.library().indications.get(record.indication_id)
    choices: list[tuple[str, str]] = []
    if definition is not None:
        choices = [
            (e.id, e.title) for e in definition.enclosures if record.request_type in e.applies_to
        ]
    if casework.last_denied_decision(record) is not None:
        choices.append((DENIAL_NOTICE, "Copy of the denial notice"))
    return choices


def _attachment_rows(record: CaseRecord) -> list[dict[str, Any]]:
    titles = dict(_enclosure_choices(record))
    return [
        {
            "id": a.id,
            "filename": a.filename,
            "title": a.title,
            "type": MEDIA_TYPE_LABELS.get(MediaType(a.media_type), a.media_type),
            "pages": a.pages,
            "size_kb": max(1, round(a.size_bytes / 1024)),
            "enclosure": titles.get(a.enclosure_id or "", ""),
            "added": a.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            "sha256": a.sha256,
        }
        for a in casework.active_attachments(record)
    ]


def _checklist(record: CaseRecord) -> list[dict[str, Any]]:
    attached = {a.enclosure_id for a in casework.active_attachments(record) if a.enclosure_id}
    definition = context.library().indications.get(record.indication_id)
    required = {e.id: e.required for e in definition.enclosures} if definition is not None else {}
    return [
        {
            "id": enclosure_id,
            "title": title,
            "attached": enclosure_id in attached,
            "required": required.get(enclosure_id, True),
        }
        for enclosure_id, title in _enclosure_choices(record)
    ]


def _attachments_page(
    record: CaseRecord, *, error: str = "", status: int = 200, chosen: str = "", title: str = ""
) -> tuple[str, int]:
    return (
        render_template(
            "pages/attachments.html",
            heading=case_heading(record),
            attachments=_attachment_rows(record),
            checklist=_checklist(record),
            enclosures=_enclosure_choices(record),
            error=error,
            chosen=chosen,
            title_value=title,
            denied=casework.last_denied_decision(record) is not None,
            documents=document_rows(record, kinds=(PACKET,)),
        ),
        status,
    )


@bp.get("/cases/<int:case_id>/attachments")
@case_action(Permission.CASE_READ, action="attachments.view")
def index(record: CaseRecord) -> View:
    """The files uploaded for the packet, what the indication asks for, the packet itself."""
    return _attachments_page(record)


def _declared_type(filename: str, mimetype: str) -> str:
    """The type the browser declared; from the extension when it declared nothing useful."""
    if mimetype and mimetype != "application/octet-stream":
        return mimetype
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _EXTENSION_TYPES.get(suffix, mimetype or "none")


@bp.post("/cases/<int:case_id>/attachments")
@case_action(Permission.ATTACHMENTS_MANAGE, action="attachment.add")
def upload(record: CaseRecord) -> View:
    """Check an uploaded file and keep it; a rejected file changes nothing."""
    enclosure = request.form.get("enclosure", "")[:60] or None
    title = request.form.get("title", "").strip()[:TEXT_MAX_CHARS]
    sent = request.files.get("file")

    def rejected(message: str) -> tuple[str, int]:
        context.audit("attachment.add", "invalid", case_id=record.id)
        return _attachments_page(
            record, error=message, status=422, chosen=enclosure or "", title=title
        )

    if sent is None or not sent.filename:
        return rejected("Choose the file to attach.")
    if has_control_characters(title):
        return rejected(CONTROL_CHARACTERS_MESSAGE)
    if enclosure is not None and enclosure not in dict(_enclosure_choices(record)):
        return rejected("Choose what the file is from the list, or “Another document”.")
    try:
        checked = check_upload(
            Upload(
                filename=sent.filename,
                declared_type=_declared_type(sent.filename, sent.mimetype or ""),
                # Werkzeug spooled the file to a temporary file: read from there,
                # so the upload is in memory once, as what is kept.
                stream=sent.stream,
                enclosure_id=enclosure,
                title=title,
            )
        )
    except UploadRejected as error:
        return rejected(f"The file was not attached. {error}")
    attachment = checked.attachment
    db = context.db()
    stored = casework.add_attachment(
        db,
        record,
        casework.AttachmentDetails(
            filename=attachment.filename,
            media_type=attachment.media_type.value,
            size_bytes=attachment.size_bytes,
            sha256=attachment.sha256,
            pages=attachment.pages,
            enclosure_id=attachment.enclosure_id,
            title=attachment.title,
            data=checked.data,
        ),
        user_id=context.user().id,
    )
    context.record("attachment.add", "ok", case_id=record.id, detail=f"attachment {stored.id}")
    db.commit()
    pages = f"{attachment.pages} page{'s' if attachment.pages != 1 else ''}"
    # Not the file's name: a flash message travels in the session cookie, and a
    # file's name may carry the patient's.
    flash(f"File attached ({MEDIA_TYPE_LABELS[attachment.media_type]}, {pages}).", "success")
    return redirect(url_for("attachments.index", case_id=record.id), code=303)


@bp.post("/cases/<int:case_id>/attachments/<int:attachment_id>/remove")
@case_action(Permission.ATTACHMENTS_MANAGE, action="attachment.remove")
def remove(record: CaseRecord, attachment_id: int) -> View:
    db = context.db()
    found = casework.get_attachment(db, record.organization_id, record.id, attachment_id)
    if found is None or found.removed_at is not None:
        abort(404)
    casework.remove_attachment(db, found, user_id=context.user().id)
    superseded = supersede_for_enclosures(db, record, user_id=context.user().id)
    context.record(
        "attachment.remove", "ok", case_id=record.id, detail=f"attachment {attachment_id}"
    )
    casefile.record_superseded(superseded)
    db.commit()
    flash(
        "Attachment removed. The signed letter named it: its signature and packet are "
        "superseded, and the case needs signing again."
        if superseded
        else "Attachment removed: later packets leave it out.",
        "success",
    )
    return redirect(url_for("attachments.index", case_id=record.id), code=303)


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@case_action(Permission.CASE_READ, action="attachment.download")
def download(record: CaseRecord, attachment_id: int) -> Response:
    found = casework.get_attachment(context.db(), record.organization_id, record.id, attachment_id)
    if found is None:
        abort(404)
    # No patient data in the file name (an uploaded file's own name may carry it).
    response = send_file(
        BytesIO(found.data),
        mimetype=found.media_type,
        as_attachment=True,
        download_name=f"attachment-case-{record.id}-{found.id}.{_EXTENSIONS[found.media_type]}",
        etag=found.sha256,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def upload_limit() -> None:
    """Before CSRF reads the form: let an upload through up to a little over the file limit."""
    if request.endpoint == "attachments.upload":
        request.max_content_length = UPLOAD_REQUEST_LIMIT
        request.max_form_memory_size = UPLOAD_FORM_MEMORY_BYTES


def _drain_body() -> None:
    """Read and drop what is left of a refused request body, up to a bound."""
    stream = request.environ.get("wsgi.input")
    length = request.content_length or 0
    if stream is None or not 0 < length <= TOO_LARGE_DRAIN_BYTES:
        return
    left = length
    try:
        while left > 0:
            chunk = stream.read(min(left, 64 * 1024))
            if not chunk:
                return
            left -= len(chunk)
    except OSError:
        return


def too_large(_error: Exception) -> Response | tuple[str, int]:
    """A file far above the limit: back to the attachments page with the reason."""
    args = request.view_args or {}
    if request.endpoint == "attachments.upload":
        _drain_body()
    if request.endpoint == "attachments.upload" and "case_id" in args:
        context.audit("attachment.add", "invalid", case_id=args["case_id"], detail="too large")
        flash(
            "The file was not attached: it is larger than 10 MB, the limit per file. Scan "
            "at a lower resolution or split it, then attach it again.",
            "error",
        )
        return redirect(url_for("attachments.index", case_id=args["case_id"]), code=303)
    title, message = MESSAGES[413]
    return render_template("pages/error.html", code=413, title=title, message=message), 413
