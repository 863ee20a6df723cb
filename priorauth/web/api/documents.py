"""A case's documents over the API: list, render (the letter), download, and verify a PDF."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from pydantic import Field
from werkzeug.wrappers import Response

from priorauth.documents import render_letter
from priorauth.store import repository
from priorauth.store.models import CaseRecord, Document
from priorauth.store.signatures import look_up_pdf

from .. import casefile, context
from ..casefile import LETTER
from ..permissions import Permission, case_action, requires
from . import errors
from .errors import FieldError, fail
from .schemas import (
    API_PREFIX,
    DocumentOut,
    RenderRequest,
    Strict,
    Verification,
    answers,
    read_body,
    spec,
)

bp = Blueprint("api_documents", __name__, url_prefix=API_PREFIX)
errors.register(bp)
TAGS = ["documents"]


class VerifyRequest(Strict):
    """A PDF's SHA-256 (or send the PDF itself with Content-Type: application/pdf)."""

    sha256: str = Field(min_length=64, max_length=64, pattern=r"^[0-9a-fA-F]{64}$")


def _out(record: CaseRecord, document: Document) -> DocumentOut:
    signed = any(s.document_id == document.id for s in record.signatures)
    return DocumentOut(
        id=document.id,
        kind=document.kind,
        case_version=document.case_version,
        letter_date=document.letter_date,
        sha256=document.sha256,
        size_bytes=document.size_bytes,
        created_at=document.created_at,
        signed=signed,
        out_of_date=document.case_version != record.content_version,
        download=url_for("api_documents.download", case_id=record.id, document_id=document.id),
    )


@bp.get("/cases/<int(max=2147483647):case_id>/documents")
@case_action(Permission.CASE_READ, action="documents.list")
@spec.validate(resp=answers(list[DocumentOut], 403, 404), tags=TAGS, skip_validation=True)
def list_documents(record: CaseRecord) -> Response:
    """The case's stored documents, newest first."""
    return jsonify([_out(record, d).model_dump(mode="json") for d in reversed(record.documents)])


@bp.post("/cases/<int(max=2147483647):case_id>/documents")
@case_action(Permission.LETTER_RENDER, action="document.create")
@spec.validate(
    json=RenderRequest,
    resp=answers(DocumentOut, 400, 403, 404, 409, 413, 415, 422, ok_status=201),
    tags=TAGS,
    skip_validation=True,
)
def render(record: CaseRecord) -> Response:
    """Render the letter to PDF and store it with the case (the one made today, if unchanged)."""
    read_body(RenderRequest)
    case, result = casefile.assessed(record)
    found = repository.reusable_document(
        record,
        kind=LETTER,
        letter_date=context.today(),
        definition_versions=dict(result.definition_versions),
        record_data=None,
    )
    status = 200
    if found is None:
        with casefile.rendering():
            rendered = render_letter(
                case,
                result,
                context.library(),
                letter_date=context.today(),
                narrative=casefile.narrative_of(record),
            )
        found = casefile.add_document(
            record, kind=LETTER, case=case, assessment=result, pdf=rendered.pdf
        )
        context.record("document.create", "ok", case_id=record.id, document_id=found.id)
        context.db().commit()
        status = 201
    else:
        context.audit("document.create", "ok", case_id=record.id, document_id=found.id)
    response = jsonify(_out(record, found).model_dump(mode="json"))
    response.status_code = status
    return response


@bp.get("/cases/<int(max=2147483647):case_id>/documents/<int(max=2147483647):document_id>")
@case_action(Permission.CASE_READ, action="document.download")
@spec.validate(resp=answers(None, 403, 404), tags=TAGS, skip_validation=True)
def download(record: CaseRecord, document_id: int) -> Response:
    """The stored PDF, byte for byte (application/pdf)."""
    stored = repository.get_document(context.db(), record.organization_id, record.id, document_id)
    if stored is None:
        fail(404, "No such document on this case.")
    # No patient data in the file name: it lands in download folders.
    name = f"{stored.kind}-case-{record.id}-document-{stored.id}.pdf"
    # Built whole, not streamed (send_file): spectree reads the body after the view.
    response = Response(stored.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    response.set_etag(stored.sha256)
    return response


@bp.post("/documents/verify")
@requires(Permission.VERIFY, action="document.verify")
@spec.validate(
    json=VerifyRequest,
    resp=answers(Verification, 400, 403, 413, 415, 422),
    tags=TAGS,
    skip_validation=True,
)
def verify() -> Response:
    """Whether a PDF is a signed document of record of your organization, and whose."""
    if request.mimetype == "application/pdf":
        data: bytes | str = request.get_data(cache=False)
        if not data:
            fail(422, "", [FieldError(field="(whole body)", message="the PDF is empty")])
    else:
        data = read_body(VerifyRequest).sha256.lower()
    status = look_up_pdf(context.db(), data, organization_id=context.user().organization_id)
    context.audit(
        "document.verify",
        "ok" if status.of_record else "not_found" if not status.found else "not_signed",
        case_id=status.case_id,
        document_id=status.document_id,
    )
    signer = f"{status.signer_name}, {status.signer_credentials}".strip(", ")
    body = Verification(
        sha256=status.sha256,
        found=status.found,
        of_record=status.of_record,
        signed=status.signed,
        superseded=status.superseded,
        intact=status.intact,
        case_id=status.case_id,
        document_id=status.document_id,
        kind=status.kind,
        case_version=status.case_version,
        signer=signer,
        signed_at=status.signed_at,
    )
    return jsonify(body.model_dump(mode="json"))
