# mypy: disallow-subclassing-any=False
"""Denials, appeals, attachments and the fax packet, on a case's pages.

An advocate (or billing) records the payer's denial notice on a denied case:
its date, reference, reasons (and which criteria), the reviewer's words, the
level of appeal and its deadline, and whether waiting would risk the patient's
health. The appeal letter and the peer-to-peer sheet are made from it by the
documents layer; uploaded files are checked there too (``check_upload``) before
anything is kept, so a rejected file leaves the case as it was. Every PDF made
here is stored with the record of what produced it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from io import BytesIO
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from pydantic import ValidationError
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, Form, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from priorauth.documents import DocumentTooLarge, render_html
from priorauth.domain.case import Case
from priorauth.domain.denial import (
    APPEAL_LEVEL_LABELS,
    DENIAL_REASON_LABELS,
    MEDIA_TYPE_LABELS,
    Attachment,
    Denial,
    DenialReason,
    MediaType,
)
from priorauth.rules.assessment import Assessment
from priorauth.store import casework, repository
from priorauth.store.models import STATE_LABELS, AttachmentRecord, CaseRecord, CaseState
from priorauth.store.repository import EditConflict, NotEditable
from priorauth.store.signatures import (
    SIGNED_APPEAL,
    SIGNED_LETTER,
    binding_holds,
    current_signature,
)

from . import context
from .cases import (
    LETTER_PREVIEW_CSP,
    View,
    _case_heading,
    _documents,
    _letter_for,
    _price_tables,
    _record_superseded,
    for_browser,
)
from .fields import (
    CONTROL_CHARACTERS_MESSAGE,
    ErrorLink,
    MultiCheckboxField,
    friendly_message,
    has_control_characters,
    long_text_field,
    no_control_characters,
    options,
    text_field,
)
from .permissions import Permission, case_action, may

bp = Blueprint("appeals", __name__)

TEXT_MAX = 4000
SHORT_MAX = 200
MAX_MISSING_ITEMS = 20
DENIAL_NOTICE = "denial_notice"
# Uploads are read in full: a request a little above the per-file limit still
# reaches check_upload, whose message names the limit.
UPLOAD_REQUEST_LIMIT = 11 * 1024 * 1024
_EXTENSION_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
_EXTENSIONS = {MediaType.PDF.value: "pdf", MediaType.PNG.value: "png", MediaType.JPEG.value: "jpg"}
DOCUMENT_KINDS = ("appeal", "peer_to_peer", "packet")


def denial_form_class(criteria: Sequence[tuple[str, str]]) -> type[Form]:
    """The denial notice form; the criteria to name are the indication's own."""

    class DenialNoticeForm(Form):
        date = DateField(
            "Date on the denial notice", [InputRequired("Enter the date printed on the notice.")]
        )
        received_on = DateField(
            "Date the clinic received it",
            [Optional()],
            description="Some appeal deadlines count from receipt.",
        )
        payer_reference = StringField(
            "Payer's reference number",
            [
                InputRequired("Enter the reference number the notice gives."),
                Length(max=SHORT_MAX),
                no_control_characters(),
            ],
        )
        reasons = MultiCheckboxField(
            "Reasons the notice gives",
            choices=options([(r.value, lab) for r, lab in DENIAL_REASON_LABELS.items()]),
            description="Tick every reason given: the appeal answers each one in its own "
            "section, with the case's evidence.",
        )
        criteria_named = MultiCheckboxField(
            "Criteria the payer says are not met",
            choices=options(list(criteria)),
            description="Only with “Coverage criteria not met”: tick the ones the notice names.",
        )
        missing = long_text_field(
            "What the payer says it did not receive",
            description="Only with “Missing information”: one item per line, as the notice "
            "words it.",
        )
        reviewer_words = long_text_field(
            "The reviewer's words",
            description="The notice's rationale, copied word for word: the appeal quotes it "
            "and answers it.",
        )
        reviewer = text_field("Reviewer named on the notice")
        level = SelectField(
            "Level of appeal",
            choices=options([(lv.value, lab) for lv, lab in APPEAL_LEVEL_LABELS.items()]),
            default="first_internal",
        )
        appeal_deadline = DateField(
            "Appeal deadline on the notice",
            [Optional()],
            description="Leave empty if the notice gives none: the appeal then states the "
            "usual deadline for the level, marked unverified.",
        )
        delay_risks_health = BooleanField(
            "The physician judges that waiting for a standard appeal would seriously risk "
            "the patient's health"
        )
        urgency = long_text_field(
            "Why waiting would risk the patient's health",
            description="In the physician's words; needed to ask for an expedited review.",
        )
        appeals_fax = text_field(
            "Appeals fax number", description="From the notice; printed on the packet's cover."
        )
        appeals_address = text_field("Appeals address")
        previous_appeal_reference = text_field(
            "Reference of the previous appeal",
            description="For a second-level appeal or an external review.",
        )

    return DenialNoticeForm


# --- helpers -------------------------------------------------------------------------------


def _appeal_rules() -> Any:
    """The appeal rules, loaded at start-up with the library."""
    return context.library().appeal_rules


def _criteria_choices(record: CaseRecord) -> list[tuple[str, str]]:
    definition = context.library().indications.get(record.indication_id)
    if definition is None:
        return []
    return [
        (c.id, c.title)
        for c in definition.all_criteria()
        if record.request_type in getattr(c, "applies_to", (record.request_type,))
    ]


def current_denial(record: CaseRecord) -> Denial | None:
    """The recorded denial the appeal answers, as the domain model (None if none or stale)."""
    stored = casework.current_denial(record)
    if stored is None:
        return None
    try:
        return Denial.model_validate(stored.data, context={"today": context.today()})
    except ValidationError:
        return None


def _attachments(record: CaseRecord) -> list[AttachmentRecord]:
    return casework.active_attachments(record)


def _domain_attachment(stored: AttachmentRecord) -> Attachment:
    return Attachment(
        filename=stored.filename,
        media_type=MediaType(stored.media_type),
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        pages=stored.pages,
        enclosure_id=stored.enclosure_id,
        title=stored.title,
    )


def _appeal_narrative(record: CaseRecord) -> dict[str, str] | None:
    from priorauth.documents.appeal import APPEAL_NARRATIVE_SECTIONS

    if not record.narrative:
        return None
    known = {k: v for k, v in record.narrative.items() if k in APPEAL_NARRATIVE_SECTIONS and v}
    return known or None


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


def _problem_page(record: CaseRecord, title: str, message: str) -> tuple[str, int]:
    return (
        render_template(
            "pages/error.html",
            code=409,
            title=title,
            message=message,
            back_url=url_for("cases.assessment", case_id=record.id),
        ),
        409,
    )


def _store(
    record: CaseRecord,
    *,
    kind: str,
    rendered_pdf: bytes,
    result: Assessment,
    case: Case,
    record_data: Mapping[str, Any],
) -> Response:
    db = context.db()
    document = repository.add_document(
        db,
        record,
        kind=kind,
        pdf=rendered_pdf,
        letter_date=context.today(),
        definition_versions=dict(result.definition_versions),
        assessment=result.model_dump(mode="json"),
        case_snapshot=case.model_dump(mode="json"),
        user_id=context.user().id,
        record_data=record_data,
    )
    context.record("document.create", "ok", case_id=record.id, document_id=document.id)
    db.commit()
    return redirect(url_for("cases.document", case_id=record.id, document_id=document.id), code=303)


def _reused(record: CaseRecord, kind: str, result: Assessment, data: Mapping[str, Any]) -> Any:
    return repository.reusable_document(
        record,
        kind=kind,
        letter_date=context.today(),
        definition_versions=dict(result.definition_versions),
        record_data=data,
    )


def _open_reused(record: CaseRecord, document: Any) -> Response:
    """Send the person to a document already stored for exactly this content and day."""
    context.audit("document.create", "ok", case_id=record.id, document_id=document.id)
    return redirect(url_for("cases.document", case_id=record.id, document_id=document.id), code=303)


def _keep(
    record: CaseRecord,
    *,
    kind: str,
    rendered_pdf: bytes,
    result: Assessment,
    case: Case,
    record_data: Mapping[str, Any],
) -> Response:
    """Store a rendered document, unless the same one is already stored today."""
    reused = _reused(record, kind, result, record_data)
    if reused is not None:
        return _open_reused(record, reused)
    return _store(
        record,
        kind=kind,
        rendered_pdf=rendered_pdf,
        result=result,
        case=case,
        record_data=record_data,
    )


# --- the denial notice ---------------------------------------------------------------------


def _initial_values(record: CaseRecord) -> dict[str, Any]:
    """What the form starts with: the last recording, else the decision and submission."""
    stored = casework.current_denial(record)
    if stored is not None:
        data = stored.data
        reasons = data.get("reasons") or []
        return {
            "date": _date(data.get("date")),
            "received_on": _date(data.get("received_on")),
            "payer_reference": data.get("payer_reference", ""),
            "reasons": [r.get("category") for r in reasons],
            "criteria_named": [c for r in reasons for c in r.get("criteria") or ()],
            "missing": "\n".join(m for r in reasons for m in r.get("missing") or ()),
            "reviewer_words": data.get("reviewer_words", ""),
            "reviewer": data.get("reviewer", ""),
            "level": data.get("level", "first_internal"),
            "appeal_deadline": _date(data.get("appeal_deadline")),
            "delay_risks_health": bool(data.get("delay_risks_health")),
            "urgency": data.get("urgency", ""),
            "appeals_fax": data.get("appeals_fax", ""),
            "appeals_address": data.get("appeals_address", ""),
            "previous_appeal_reference": data.get("previous_appeal_reference", ""),
        }
    decision = casework.last_denied_decision(record)
    submission = casework.last_submission(record)
    return {
        "date": decision.decided_on if decision else None,
        "payer_reference": submission.payer_reference if submission else "",
        "reviewer_words": decision.reason if decision else "",
        "appeal_deadline": decision.respond_by if decision else None,
        "level": "second_internal" if submission is not None and submission.appeal else None,
    }


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _denial_data(form: Form) -> dict[str, Any]:
    """The denial as the domain model reads it, from the form's fields."""
    missing = [line.strip() for line in (form.missing.data or "").splitlines() if line.strip()]
    reasons = []
    for category in form.reasons.data or ():
        reason: dict[str, Any] = {"category": category}
        if category == DenialReason.CRITERIA_NOT_MET.value:
            reason["criteria"] = list(form.criteria_named.data or ())
        if category == DenialReason.MISSING_INFORMATION.value:
            reason["missing"] = missing[:MAX_MISSING_ITEMS]
        reasons.append(reason)
    data: dict[str, Any] = {
        "date": form.date.data,
        "received_on": form.received_on.data,
        "payer_reference": (form.payer_reference.data or "").strip(),
        "reasons": reasons,
        "reviewer_words": (form.reviewer_words.data or "").strip(),
        "reviewer": (form.reviewer.data or "").strip(),
        "level": form.level.data,
        "appeal_deadline": form.appeal_deadline.data,
        "delay_risks_health": bool(form.delay_risks_health.data),
        "urgency": (form.urgency.data or "").strip(),
        "appeals_fax": (form.appeals_fax.data or "").strip(),
        "appeals_address": (form.appeals_address.data or "").strip(),
        "previous_appeal_reference": (form.previous_appeal_reference.data or "").strip(),
    }
    return {k: v for k, v in data.items() if v is not None}


# Where a model-level message about the denial belongs, by how it begins.
_MESSAGE_FIELDS = (
    ("received_on:", "received_on"),
    ("appeal_deadline:", "appeal_deadline"),
    ("urgency:", "urgency"),
    ("an expedited appeal", "delay_risks_health"),
    ("name the criteria", "criteria_named"),
    ("criteria are named", "criteria_named"),
    ("missing items", "missing"),
)
_FRIENDLIER = {
    "delay_risks_health": (
        "An expedited appeal asks the payer to decide within days: tick this box when the "
        "physician judges that waiting would seriously risk the patient's health, and give "
        "the reason below."
    ),
    "criteria_named": "Tick the criteria the notice says are not met.",
    "urgency": "Say why waiting would put the patient's health at risk: the payer decides on it.",
}


def _place(form: Form, name: str, message: str, *, reworded: bool = False) -> None:
    """Put a message on a field that has none yet; ``reworded`` uses the friendlier words."""
    field = form[name]
    if not field.errors:
        field.errors = [_FRIENDLIER.get(name, message) if reworded else message]


def read_denial(
    form: Form, record: CaseRecord, case: Case | None
) -> tuple[Denial | None, list[str]]:
    """Validate the form into a Denial; field errors go on the form, the rest are returned."""
    shape_ok = form.validate()
    general: list[str] = []
    ticked = set(form.reasons.data or ())
    if form.criteria_named.data and DenialReason.CRITERIA_NOT_MET.value not in ticked:
        _place(form, "criteria_named", "Tick “Coverage criteria not met” above, or untick these.")
    if (form.missing.data or "").strip() and DenialReason.MISSING_INFORMATION.value not in ticked:
        _place(form, "missing", "Tick “Missing information” above, or empty this box.")
    if not ticked:
        _place(form, "reasons", "Tick at least one reason the notice gives.")
    denial: Denial | None = None
    try:
        denial = Denial.model_validate(_denial_data(form), context={"today": context.today()})
    except ValidationError as error:
        for detail in error.errors():
            message = friendly_message(detail)
            loc = [part for part in detail["loc"] if isinstance(part, str)]
            name = loc[0] if loc else ""
            if name == "reasons" and "criteria" in loc:
                name = "criteria_named"
            elif name == "reasons" and "missing" in loc:
                name = "missing"
            if not loc or name == "reasons":
                lowered = message.lower()
                name = next((f for start, f in _MESSAGE_FIELDS if lowered.startswith(start)), "")
                if not name and loc:
                    name = "reasons"
            if name and name in form:
                words = message.split(": ", 1)[-1] if ": " in message else message
                _place(form, name, words[:1].upper() + words[1:], reworded=True)
            else:
                general.append(message)
    if denial is not None:
        from priorauth.rules.appeals import denial_problems

        definition = context.library().indications.get(record.indication_id)
        if definition is not None and denial_problems(denial, definition):
            _place(
                form,
                "criteria_named",
                "The indication has no such criterion any more: tick the ones listed.",
            )
    has_errors = any(f.errors for f in form) or general
    if not shape_ok or has_errors:
        return None, general
    return denial, general


def _denial_page(
    record: CaseRecord, form: Form, *, general: Sequence[str] = (), status: int = 200
) -> tuple[str, int]:
    errors = [ErrorLink("", "", message) for message in general]
    for item in form:
        for message in item.errors or ():
            anchor = f"{item.id}-0" if isinstance(item, MultiCheckboxField) else item.id
            errors.append(ErrorLink(anchor, str(item.label.text), str(message)))
    return (
        render_template(
            "pages/denial.html",
            heading=_case_heading(record.data, record),
            form=form,
            errors=errors,
            version=record.version_id,
            recorded=casework.current_denial(record) is not None,
        ),
        status,
    )


def _not_denied(record: CaseRecord) -> tuple[str, int] | None:
    if record.state != CaseState.DENIED or casework.last_denied_decision(record) is None:
        state = STATE_LABELS.get(CaseState(record.state), record.state).lower()
        return _problem_page(
            record,
            "There is no denial to record",
            f"The case is {state}. The denial notice is recorded after the payer's denial is "
            "recorded on the case (“Record a denial”), and before the appeal goes for signature.",
        )
    return None


@bp.route("/cases/<int:case_id>/denial", methods=["GET", "POST"])
@case_action(Permission.DENIAL_RECORD, action="denial.record", page_action="denial.form")
def denial(record: CaseRecord) -> View:
    """Record the payer's denial notice: what the appeal will answer."""
    refused = _not_denied(record)
    if refused is not None:
        return refused
    form_class = denial_form_class(_criteria_choices(record))
    if request.method == "GET":
        form = form_class(data=_initial_values(record))
        return _denial_page(record, form)
    form = form_class(request.form)
    case, _result = _letter_for(record)
    denial_model, general = read_denial(form, record, case)
    if denial_model is None:
        return _denial_page(record, form, general=general, status=422)
    version = request.form.get("version", "")
    db = context.db()
    decision = casework.last_denied_decision(record)
    try:
        _stored, superseded = repository.record_denial(
            db,
            record,
            expected_version=int(version) if version.isdigit() and len(version) < 10 else None,
            user_id=context.user().id,
            data=denial_model.model_dump(mode="json"),
            decision_id=decision.id if decision else None,
        )
    except (EditConflict, NotEditable):
        db.rollback()
        context.record("denial.record", "conflict", case_id=record.id)
        db.commit()
        return _problem_page(
            record,
            "Someone changed the case first",
            "The case changed while this page was open, so the denial was not recorded. "
            "Open the case again, then record it.",
        )
    context.record("denial.record", "ok", case_id=record.id)
    _record_superseded(superseded)
    db.commit()
    flash(
        "Denial recorded. The appeal below answers each reason; when it reads right, send it "
        "to the physician for signature from the case page.",
        "success",
    )
    return redirect(url_for("appeals.appeal", case_id=record.id), code=303)


# --- the appeal page, its preview and its documents ------------------------------------------


@bp.get("/cases/<int:case_id>/appeal")
@case_action(Permission.CASE_READ, action="appeal.view")
def appeal(record: CaseRecord) -> View:
    """The appeal letter's preview, its deadline, and the documents for the appeal."""
    from priorauth.documents.appeal import AppealInputError, build_appeal_context
    from priorauth.rules.appeals import appeal_deadline

    case, result = _letter_for(record)
    denial_model = current_denial(record)
    deadline = None
    draft_reasons: tuple[str, ...] = ()
    problem = ""
    if denial_model is not None:
        deadline = appeal_deadline(denial_model, case.coverage.plan_type, _appeal_rules())
        try:
            built = build_appeal_context(
                case,
                result,
                context.library(),
                denial_model,
                letter_date=context.today(),
                rules=_appeal_rules(),
                attachments=tuple(_domain_attachment(a) for a in _attachments(record)),
                narrative=_appeal_narrative(record),
            )
            draft_reasons = built.draft_reasons
        except AppealInputError as error:
            problem = "; ".join(error.problems)
    documents = [d for d in _documents(record) if d["kind"] in DOCUMENT_KINDS]
    return render_template(
        "pages/appeal.html",
        heading=_case_heading(record.data, record),
        denial=_denial_view(denial_model) if denial_model else None,
        deadline=deadline,
        days_left=deadline.days_left(context.today()) if deadline and deadline.date else None,
        draft_reasons=draft_reasons,
        problem=problem,
        denied=casework.last_denied_decision(record) is not None,
        can_record=may(Permission.DENIAL_RECORD, record) and record.state == CaseState.DENIED,
        documents=documents,
        attachments=_attachment_rows(record),
    )


def _denial_view(denial_model: Denial) -> dict[str, Any]:
    return {
        "date": denial_model.date.isoformat(),
        "payer_reference": denial_model.payer_reference,
        "level": APPEAL_LEVEL_LABELS[denial_model.level],
        "reasons": [DENIAL_REASON_LABELS[r.category] for r in denial_model.reasons],
        "criteria": [c for r in denial_model.reasons for c in r.criteria],
        "reviewer_words": denial_model.reviewer_words,
        "expedited": denial_model.expedited,
        "urgency": denial_model.urgency,
    }


def _appeal_inputs(record: CaseRecord) -> tuple[Case, Assessment, Denial]:
    case, result = _letter_for(record)
    denial_model = current_denial(record)
    if denial_model is None:
        abort(409)
    return case, result, denial_model


@bp.get("/cases/<int:case_id>/appeal/preview")
@case_action(Permission.CASE_READ, action="appeal.preview")
def appeal_preview(record: CaseRecord) -> Response:
    """The appeal letter as HTML, for the preview frame: its own strict policy, no script."""
    from priorauth.documents.appeal import APPEAL_TEMPLATE, AppealInputError, build_appeal_context
    from priorauth.documents.pdf import print_stylesheet_text

    case, result, denial_model = _appeal_inputs(record)
    try:
        built = build_appeal_context(
            case,
            result,
            context.library(),
            denial_model,
            letter_date=context.today(),
            rules=_appeal_rules(),
            attachments=tuple(_domain_attachment(a) for a in _attachments(record)),
            narrative=_appeal_narrative(record),
        )
    except AppealInputError:
        abort(409)
    html = render_html(APPEAL_TEMPLATE, built)
    html = html.replace("</head>", f"<style>{print_stylesheet_text()}</style></head>", 1)
    response = Response(for_browser(html), mimetype="text/html")
    response.headers["Content-Security-Policy"] = LETTER_PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/cases/<int:case_id>/appeal.pdf")
@case_action(Permission.APPEAL_PREPARE, action="document.create")
def appeal_pdf(record: CaseRecord) -> Response:
    """Render the appeal letter to PDF, store it with its record, and send it."""
    from priorauth.documents.appeal import AppealInputError, render_appeal
    from priorauth.documents.output import document_record

    case, result, denial_model = _appeal_inputs(record)
    attachments = tuple(_domain_attachment(a) for a in _attachments(record))
    narrative = _appeal_narrative(record)
    expected = document_record(
        "appeal",
        case,
        result,
        document_date=context.today(),
        denial=denial_model,
        attachments=attachments,
        narrative=narrative,
    )
    reused = _reused(record, "appeal", result, expected)
    if reused is not None:
        return _open_reused(record, reused)
    try:
        rendered = render_appeal(
            case,
            result,
            context.library(),
            denial_model,
            letter_date=context.today(),
            rules=_appeal_rules(),
            attachments=attachments,
            narrative=narrative,
        )
    except AppealInputError:
        abort(409)
    except DocumentTooLarge:
        abort(413)
    return _store(
        record,
        kind="appeal",
        rendered_pdf=rendered.pdf,
        result=result,
        case=case,
        record_data=rendered.record,
    )


@bp.post("/cases/<int:case_id>/peer-to-peer.pdf")
@case_action(Permission.APPEAL_PREPARE, action="document.create")
def peer_to_peer_pdf(record: CaseRecord) -> Response:
    """The physician's peer-to-peer preparation sheet, for the denial when there is one."""
    from priorauth.documents.appeal import AppealInputError
    from priorauth.documents.peer_to_peer import render_peer_to_peer

    case, result = _letter_for(record)
    denial_model = current_denial(record)
    attachments = tuple(_domain_attachment(a) for a in _attachments(record))
    try:
        rendered = render_peer_to_peer(
            case,
            result,
            context.library(),
            prepared_on=context.today(),
            denial=denial_model,
            rules=_appeal_rules(),
            attachments=attachments,
        )
    except AppealInputError:
        abort(409)
    except DocumentTooLarge:
        abort(413)
    return _keep(
        record,
        kind="peer_to_peer",
        rendered_pdf=rendered.pdf,
        result=result,
        case=case,
        record_data=rendered.record,
    )


@bp.post("/cases/<int:case_id>/packet.pdf")
@case_action(Permission.PACKET_ASSEMBLE, action="document.create")
def packet_pdf(record: CaseRecord) -> Response:
    """The fax packet: cover, letter (or appeal), cost summary, checklist, attachments."""
    from priorauth.documents.appeal import AppealInputError
    from priorauth.documents.packet import build_packet
    from priorauth.documents.uploads import CheckedUpload, UploadRejected

    case, result = _letter_for(record)
    denial_model = current_denial(record)
    stored = _attachments(record)
    uploads = [CheckedUpload(attachment=_domain_attachment(a), data=a.data) for a in stored]
    narrative = _appeal_narrative(record) if denial_model else _letter_narrative(record)
    # Fax what the physician signed when the signature still covers this content and
    # is of the document the packet leads with; otherwise a fresh, unsigned rendering.
    signature = current_signature(record)
    wanted_kind = SIGNED_APPEAL if denial_model else SIGNED_LETTER
    signed_pdf = (
        signature.document.pdf
        if signature is not None
        and signature.document.kind == wanted_kind
        and binding_holds(signature, signature.document)
        else None
    )
    try:
        packet = build_packet(
            case,
            result,
            context.library(),
            packet_date=context.today(),
            denial=denial_model,
            narrative=narrative,
            uploads=uploads,
            price_tables=_price_tables(),
            rules=_appeal_rules(),
            signed_pdf=signed_pdf,
        )
    except UploadRejected as error:
        context.audit("document.create", "invalid", case_id=record.id)
        flash(f"The packet was not made: {error.reason}.", "error")
        return redirect(url_for("appeals.attachments", case_id=record.id), code=303)
    except AppealInputError:
        abort(409)
    except DocumentTooLarge:
        abort(413)
    return _keep(
        record,
        kind="packet",
        rendered_pdf=packet.pdf,
        result=result,
        case=case,
        record_data=packet.record,
    )


def _letter_narrative(record: CaseRecord) -> dict[str, str] | None:
    from .cases import narrative_of

    return narrative_of(record)


# --- attachments ---------------------------------------------------------------------------


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
        for a in _attachments(record)
    ]


def _checklist(record: CaseRecord) -> list[dict[str, Any]]:
    attached = {a.enclosure_id for a in _attachments(record) if a.enclosure_id}
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
            heading=_case_heading(record.data, record),
            attachments=_attachment_rows(record),
            checklist=_checklist(record),
            enclosures=_enclosure_choices(record),
            error=error,
            chosen=chosen,
            title_value=title,
            denied=casework.last_denied_decision(record) is not None,
            documents=[d for d in _documents(record) if d["kind"] == "packet"],
        ),
        status,
    )


@bp.get("/cases/<int:case_id>/attachments")
@case_action(Permission.CASE_READ, action="attachments.view")
def attachments(record: CaseRecord) -> View:
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
    from priorauth.documents.uploads import Upload, UploadRejected, check_upload

    enclosure = request.form.get("enclosure", "")[:60] or None
    title = request.form.get("title", "").strip()[:SHORT_MAX]
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
    allowed = dict(_enclosure_choices(record))
    if enclosure is not None and enclosure not in allowed:
        return rejected("Choose what the file is from the list, or “Another document”.")
    data = sent.read()
    try:
        checked = check_upload(
            Upload(
                filename=sent.filename,
                declared_type=_declared_type(sent.filename, sent.mimetype or ""),
                data=data,
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
    return redirect(url_for("appeals.attachments", case_id=record.id), code=303)


@bp.post("/cases/<int:case_id>/attachments/<int:attachment_id>/remove")
@case_action(Permission.ATTACHMENTS_MANAGE, action="attachment.remove")
def remove_attachment(record: CaseRecord, attachment_id: int) -> View:
    db = context.db()
    found = casework.get_attachment(db, record.organization_id, record.id, attachment_id)
    if found is None or found.removed_at is not None:
        abort(404)
    casework.remove_attachment(db, found, user_id=context.user().id)
    context.record(
        "attachment.remove", "ok", case_id=record.id, detail=f"attachment {attachment_id}"
    )
    db.commit()
    flash("Attachment removed: later packets leave it out.", "success")
    return redirect(url_for("appeals.attachments", case_id=record.id), code=303)


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@case_action(Permission.CASE_READ, action="attachment.download")
def attachment(record: CaseRecord, attachment_id: int) -> Response:
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
    if request.endpoint == "appeals.upload":
        request.max_content_length = UPLOAD_REQUEST_LIMIT
        request.max_form_memory_size = 64 * 1024


def too_large(_error: Exception) -> Response | tuple[str, int]:
    """A file far above the limit: back to the attachments page with the reason."""
    from .errors import MESSAGES

    args = request.view_args or {}
    if request.endpoint == "appeals.upload" and "case_id" in args:
        context.audit("attachment.add", "invalid", case_id=args["case_id"], detail="too large")
        flash(
            "The file was not attached: it is larger than 10 MB, the limit per file. Scan "
            "at a lower resolution or split it, then attach it again.",
            "error",
        )
        return redirect(url_for("appeals.attachments", case_id=args["case_id"]), code=303)
    title, message = MESSAGES[413]
    return render_template("pages/error.html", code=413, title=title, message=message), 413
