"""A case's stored documents, downloaded or shown in the browser (the same bytes)."""

from __future__ import annotations

from flask import Blueprint, abort
from werkzeug.wrappers import Response

from priorauth.store import repository
from priorauth.store.models import CaseRecord, Document

from . import context, delivery
from .permissions import Permission, case_action

bp = Blueprint("documents", __name__)


def _stored(record: CaseRecord, document_id: int, action: str) -> Document:
    stored = repository.get_document(context.db(), record.organization_id, record.id, document_id)
    if stored is None:
        context.audit(action, "refused", case_id=record.id, document_id=document_id)
        abort(404)
    return stored


def _file_name(record: CaseRecord, stored: Document) -> str:
    # No patient data in the file name: it lands in download histories.
    return f"{stored.kind}-case-{record.id}-document-{stored.id}.pdf"


@bp.get("/cases/<int:case_id>/documents/<int:document_id>")
@case_action(Permission.CASE_READ, action="document.download")
def download(record: CaseRecord, document_id: int) -> Response:
    stored = _stored(record, document_id, "document.download")
    return delivery.send_pdf(stored.pdf, _file_name(record, stored), etag=stored.sha256)


@bp.get("/cases/<int:case_id>/documents/<int:document_id>/view")
@case_action(Permission.CASE_READ, action="document.view")
def view(record: CaseRecord, document_id: int) -> Response:
    """A stored document shown in the browser (the same bytes as the download)."""
    stored = _stored(record, document_id, "document.view")
    return delivery.send_pdf(
        stored.pdf, _file_name(record, stored), inline=True, etag=stored.sha256
    )
