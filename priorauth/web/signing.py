# mypy: disallow-subclassing-any=False
"""Signing a letter, and verifying that a PDF is a signed document of record.

The signed PDF is the letter (appeal, exception request) rendered again with the
signer in its own signature block (name, credentials, NPI, the date, and the
attestation: 21 CFR 11.50's name, time and meaning), then signed with PAdES
(pyHanko) with the clinic's signing certificate, the signature field on the
letter's signature line. The store keeps the bytes, their SHA-256 and the
signature record bound to them.
"""

from __future__ import annotations

import datetime as dt
import hmac
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from wtforms import (
    BooleanField,
    FileField,
    Form,
    HiddenField,
    PasswordField,
    StringField,
)
from wtforms.validators import InputRequired, Length, Optional, Regexp

from priorauth.documents import LETTER_TEMPLATE, Rendered, render_letter
from priorauth.documents.appeal import APPEAL_TEMPLATE, render_appeal
from priorauth.documents.exception import EXCEPTION_TEMPLATE, render_exception_request
from priorauth.documents.pades import check_pdf
from priorauth.documents.parts import SignedBy
from priorauth.documents.signed import sign_document
from priorauth.documents.wording import format_date
from priorauth.domain.case import Case
from priorauth.rules.assessment import Assessment
from priorauth.store.models import CaseRecord, CaseState, utcnow
from priorauth.store.repository import EditConflict
from priorauth.store.signatures import (
    APPEAL_ATTESTATION,
    ATTESTATION,
    EXCEPTION_ATTESTATION,
    SIGNED_APPEAL,
    SIGNED_EXCEPTION,
    SIGNED_LETTER,
    AlreadySigned,
    PdfStatus,
    look_up_pdf,
    record_signature,
)
from priorauth.store.signing_cert import (
    SigningIdentity,
    installation_certificate,
    signing_identity,
)

from . import casefile, context
from .context import View
from .fields import LONG_TEXT_MAX_CHARS
from .pages import case_heading, conflict_page
from .permissions import Permission, case_action, requires
from .safety_view import dose_sentences, flag_views
from .sessions import THROTTLED, Check, check_password
from .signing_terms import (
    ACKNOWLEDGE,
    FOR_PRESCRIBER,
    NOT_READY_SIGN,
    SigningTerms,
    content_digest,
    signing_terms,
    signs_for_prescriber,
    stored_reason,
)

bp = Blueprint("signing", __name__)

WRONG_PASSWORD = "That password is not right. Enter the password you log in with."


class SignForm(Form):
    password = PasswordField(
        "Your password",
        [InputRequired("Enter your password to sign."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    read_it = BooleanField(
        "I have read the letter above in full, and I attest to the statement.",
        [InputRequired("Confirm that you have read the letter.")],
    )
    acknowledge = BooleanField(
        "I have read the warnings and safety flags listed under “Before you sign”."
    )
    for_prescriber = BooleanField(
        "I sign for the prescribing physician named above, as a physician of the same "
        "practice; the letter says that I sign for them."
    )
    content_version = HiddenField()
    content_digest = HiddenField()


class VerifyForm(Form):
    pdf = FileField("The PDF to check")
    sha256 = StringField(
        "Or its SHA-256",
        [Optional(), Regexp(r"^\s*[0-9a-fA-F]{64}\s*$", message="A SHA-256 is 64 hex digits.")],
        description="As shown beside a stored document, e.g. by `sha256sum letter.pdf`.",
    )


def _what(record: CaseRecord, terms: SigningTerms) -> tuple[str, str]:
    """The kind of signed document this signature makes, and its name on the page."""
    if casefile.current_denial(record) is not None:
        return SIGNED_APPEAL, "appeal letter"
    if terms.exception_only:
        return SIGNED_EXCEPTION, "medical-exception request"
    return SIGNED_LETTER, "letter"


def _sign_page(
    record: CaseRecord,
    form: SignForm,
    assessment: Assessment,
    *,
    error: str = "",
    status: int = 200,
) -> tuple[str, int]:
    appeal = casefile.current_denial(record) is not None
    terms = signing_terms(assessment, appeal=appeal)
    kind, what = _what(record, terms)
    attestations = {
        SIGNED_APPEAL: APPEAL_ATTESTATION,
        SIGNED_EXCEPTION: EXCEPTION_ATTESTATION,
        SIGNED_LETTER: ATTESTATION,
    }
    return (
        render_template(
            "pages/sign.html",
            safety=flag_views(assessment),
            dose_sentences=dose_sentences(assessment),
            product_reasons=assessment.safety.product_reasons,
            heading=case_heading(record),
            form=form,
            attestation=attestations[kind],
            appeal=appeal,
            what=what,
            terms=terms,
            verdict_label=assessment.verdict_label,
            unmet=assessment.unmet_required(),
            preview_url=url_for("appeals.appeal_preview", case_id=record.id)
            if appeal
            else url_for("exception_request.preview", case_id=record.id)
            if terms.exception_only
            else url_for("letters.preview", case_id=record.id),
            exception_reason=stored_reason(record),
            reason_max=LONG_TEXT_MAX_CHARS,
            version=record.version_id,
            error=error,
            content_version=record.content_version,
            signer=context.user(),
            for_prescriber=signs_for_prescriber(
                casefile.readable_case(record), context.user().name, context.user().npi
            ),
        ),
        status,
    )


TEMPLATES = {
    SIGNED_LETTER: LETTER_TEMPLATE,
    SIGNED_APPEAL: APPEAL_TEMPLATE,
    SIGNED_EXCEPTION: EXCEPTION_TEMPLATE,
}


def _render_for_signature(
    record: CaseRecord, case: Case, result: Assessment, kind: str
) -> tuple[Rendered[Any], str, dict[str, Any] | None]:
    """What is signed: the appeal after a denial, the exception request for a case the
    rules judge not ready (with the physician's reason), else the letter.

    Returns the rendered document, the attestation and the renderer's record.
    """
    library = context.library()
    today = context.today()
    if kind == SIGNED_APPEAL:
        denial = casefile.current_denial(record)
        assert denial is not None
        rendered = render_appeal(
            case,
            result,
            library,
            denial,
            letter_date=today,
            rules=library.appeal_rules,
            attachments=casefile.attachments_of(record),
            narrative=casefile.appeal_narrative_of(record),
        )
        return rendered, APPEAL_ATTESTATION, dict(rendered.record)
    if kind == SIGNED_EXCEPTION:
        exception = render_exception_request(
            case,
            result,
            library,
            letter_date=today,
            attachments=casefile.attachments_of(record),
            narrative=casefile.exception_narrative_of(record),
        )
        return exception, EXCEPTION_ATTESTATION, dict(exception.record)
    letter = render_letter(
        case, result, library, letter_date=today, narrative=casefile.narrative_of(record)
    )
    return letter, ATTESTATION, None


def signing_keys() -> SigningIdentity:
    """The clinic's signing key and certificate: configured, or made once under instance/."""
    config = current_app.config
    return signing_identity(
        Path(current_app.instance_path),
        context.user().organization_name,
        key_path=config.get("PRIORAUTH_SIGNING_KEY"),
        cert_path=config.get("PRIORAUTH_SIGNING_CERT"),
    )


def _conflict(record: CaseRecord, message: str) -> tuple[str, int]:
    context.record("case.sign", "conflict", case_id=record.id)
    context.db().commit()
    return conflict_page(record, "Not signed", message)


@bp.route("/cases/<int:case_id>/sign", methods=["GET", "POST"])
@case_action(Permission.SIGN, action="case.sign", page_action="case.sign_page")
def sign(record: CaseRecord) -> View:
    """Show the letter to sign; on POST, ask the password again and store the signed PDF."""
    if record.state != CaseState.READY_FOR_SIGNATURE:
        return conflict_page(
            record,
            "Nothing to sign",
            "This case is not waiting for a signature. Billing sends a letter "
            "for signature when the case is complete.",
        )
    case, result = casefile.assessed(record)
    terms = signing_terms(result, appeal=casefile.current_denial(record) is not None)
    kind, _what_name = _what(record, terms)
    digest = content_digest(record, kind=kind, document_date=context.today())
    form = SignForm(request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.content_version.data = str(record.content_version)
        form.content_digest.data = digest
        return _sign_page(record, form, result)
    if not form.validate():
        return _sign_page(record, form, result, status=422)
    if form.content_version.data != str(record.content_version) or not hmac.compare_digest(
        form.content_digest.data or "", digest
    ):
        return _conflict(
            record,
            "What you were shown changed after you opened it (the case, its date, or an "
            "enclosure added or removed), so nothing was signed. Open it again and read "
            "the new version before signing.",
        )
    if terms.exception_only and not stored_reason(record):
        context.record("case.sign", "refused", case_id=record.id, detail="not ready")
        context.db().commit()
        return _sign_page(record, form, result, error=NOT_READY_SIGN, status=422)
    if terms.needs_acknowledgement and not form.acknowledge.data:
        form.acknowledge.errors = [ACKNOWLEDGE]
        return _sign_page(record, form, result, status=422)
    who = context.user()
    for_prescriber = signs_for_prescriber(case, who.name, who.npi)
    if for_prescriber and not form.for_prescriber.data:
        form.for_prescriber.errors = [FOR_PRESCRIBER]
        return _sign_page(record, form, result, status=422)

    db = context.db()
    check, _row = check_password(who.email, form.password.data or "")
    if check is not Check.OK:
        context.record("case.sign", "refused", case_id=record.id, detail="password")
        db.commit()
        if check is Check.THROTTLED:
            return _sign_page(record, form, result, error=THROTTLED, status=429)
        return _sign_page(record, form, result, error=WRONG_PASSWORD, status=403)
    # The login attempt is recorded; the render below must not hold the write lock.
    db.commit()

    signed_at = utcnow()
    letter_date = context.today()
    keys = signing_keys()
    with casefile.rendering():
        rendered, attestation, rendered_record = _render_for_signature(record, case, result, kind)
        signed = sign_document(
            rendered,
            TEMPLATES[kind],
            SignedBy(
                name=who.name,
                credentials=who.credentials,
                npi=who.npi or "",
                signed_on=format_date(letter_date),
                signed_at=signed_at.strftime("%Y-%m-%d %H:%M UTC"),
                attestation=attestation,
                for_prescriber=for_prescriber,
            ),
            title=rendered.context.pdf_title,
            key_pem=keys.key_pem,
            cert_pem=keys.cert_pem,
        )
    pdf = signed.pdf
    try:
        document = casefile.add_document(
            record,
            kind=kind,
            case=case,
            assessment=result,
            pdf=pdf,
            provenance=rendered_record,
        )
        record_signature(
            db,
            record,
            document=document,
            signer_id=who.id,
            signer_name=who.name,
            signer_credentials=who.credentials,
            signer_npi=who.npi or "",
            signed_at=signed_at,
            attestation=attestation,
        )
        notes = [
            "medical exception" if kind == SIGNED_EXCEPTION else "",
            "warnings acknowledged" if terms.needs_acknowledgement else "",
            "for the prescriber on the case" if for_prescriber else "",
        ]
        detail = "; ".join(note for note in notes if note)
        context.record("case.sign", "ok", case_id=record.id, document_id=document.id, detail=detail)
        db.commit()
    except (AlreadySigned, EditConflict, IntegrityError):
        db.rollback()
        return _conflict(
            record,
            "Another signature of this version was recorded first, or the case changed "
            "while you were signing. Nothing was signed twice; open the case to see it.",
        )
    what = {SIGNED_APPEAL: "appeal", SIGNED_EXCEPTION: "medical-exception request"}.get(
        kind, "letter"
    )
    flash(f"Signed. The signed {what} is stored with the case and cannot be changed.", "success")
    return redirect(url_for("cases.assessment", case_id=record.id), code=303)


# --- verification ---------------------------------------------------------------------------


def _status_view(status: PdfStatus) -> dict[str, Any]:
    return {
        "sha256": status.sha256,
        "found": status.found,
        "signed": status.signed,
        "of_record": status.of_record,
        "intact": status.intact,
        "superseded": status.superseded,
        "case_id": status.case_id,
        "document_id": status.document_id,
        "case_version": status.case_version,
        "signer": f"{status.signer_name}, {status.signer_credentials}".strip(", "),
        "npi": status.signer_npi,
        "signed_at": _when(status.signed_at),
        "attestation": status.attestation,
        "superseded_at": _when(status.superseded_at),
        "superseded_by_version": status.superseded_by_version,
    }


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


@bp.route("/verify", methods=["GET", "POST"])
@requires(Permission.VERIFY, action="document.verify")
def verify() -> View:
    """Say whether a PDF is a signed document of record of this organization, and whose."""
    form = VerifyForm(request.form if request.method == "POST" else None)
    if request.method == "GET":
        return render_template("pages/verify.html", form=form, result=None)
    upload = request.files.get("pdf")
    data = upload.read() if upload is not None else b""
    typed = (form.sha256.data or "").strip().lower()
    if not form.validate() or (not data and not typed):
        if not data and not typed:
            form.pdf.errors = ["Choose the PDF file to check, or paste its SHA-256."]
        return render_template("pages/verify.html", form=form, result=None), 422
    status = look_up_pdf(
        context.db(), data if data else typed, organization_id=context.user().organization_id
    )
    context.audit(
        "document.verify",
        "ok" if status.of_record else "not_found" if not status.found else "not_signed",
        case_id=status.case_id,
        document_id=status.document_id,
    )
    digital = check_pdf(data, trusted_pem=_installation_certificate()) if data else None
    return render_template(
        "pages/verify.html", form=form, result=_status_view(status), digital=digital
    )


def _installation_certificate() -> bytes | None:
    return installation_certificate(
        Path(current_app.instance_path),
        cert_path=current_app.config.get("PRIORAUTH_SIGNING_CERT"),
    )
