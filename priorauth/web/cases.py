"""Cases: the dashboard and work queue, intake (new and edit), the assessment, the letter.

Every view declares its permission (``permissions``); a case view receives the
case record only after the organization, the role and the person's reach were
checked, and every request on a case is audited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from io import BytesIO
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from priorauth.documents import NARRATIVE_SECTIONS, DocumentTooLarge, render_letter
from priorauth.domain.case import PLAN_LABELS, SITE_LABELS, Case, RequestType, SiteOfCare
from priorauth.domain.dosing import BASIS_LABELS
from priorauth.rules.assessment import STATUS_LABELS, VERDICT_LABELS, Assessment
from priorauth.rules.engine import evaluate
from priorauth.rules.schema import IndicationDefinition
from priorauth.store import casework, drafts, repository
from priorauth.store.models import ROLE_LABELS, STATE_LABELS, AuditEvent, CaseRecord, CaseState
from priorauth.store.repository import EditConflict, NotEditable
from priorauth.store.signatures import SIGNED_LETTER
from priorauth.store.workflow import EDITABLE_STATES

from . import context, intake, readiness, steps, workqueue
from .fields import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from .permissions import Permission, case_action, may, reach, requires

bp = Blueprint("cases", __name__)

LETTER = "letter"
MAX_NARRATIVE_CHARS = 20_000
DOCUMENT_LABELS = {
    LETTER: "Letter of medical necessity (unsigned)",
    SIGNED_LETTER: "Signed letter",
    "signed_appeal": "Signed appeal letter",
    "appeal": "Appeal letter (unsigned)",
    "peer_to_peer": "Peer-to-peer preparation sheet",
    "packet": "Fax packet",
}
MAX_QUERY_CHARS = 100
# Content-Security-Policy of the letter preview frame: the letter carries its
# print stylesheet inline and nothing else; no script, no fetch, no form.
LETTER_PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)

View = Response | str | tuple[str, int]
# The print stylesheet names its fonts by the renderer's own scheme (asset:...), which
# a browser cannot load; in a preview they become the same fonts installed locally.
_ASSET_FONT = re.compile(r'url\(\s*"?asset:fonts/([A-Za-z0-9_-]+)\.ttf"?\s*\)')


def for_browser(html: str) -> str:
    """A document's preview HTML with its fonts named as a browser can find them."""
    return _ASSET_FONT.sub(lambda match: f'local("{match.group(1)}")', html)


# --- helpers --------------------------------------------------------------------------------


def _definition_or_404(indication_id: str) -> IndicationDefinition:
    definition = context.library().indications.get(indication_id)
    if definition is None:
        abort(404)
    return definition


def _stored_case(record: CaseRecord) -> Case | None:
    """The stored case as the domain model, or None if it no longer validates."""
    try:
        return Case.model_validate(record.data, context={"today": context.today()})
    except ValidationError:
        return None


def _assess(case: Case) -> Assessment:
    return evaluate(case, context.library(), context.today())


def _label(labels: Mapping[Any, str], key: Any) -> str:
    """The label of an enum value stored as text, or the text itself."""
    return labels.get(key, "" if key is None else str(key))


def _case_heading(data: Mapping[str, Any], record: CaseRecord | None = None) -> dict[str, Any]:
    """Plain values naming a case on its pages."""
    library = context.library()
    patient = data.get("patient") or {}
    coverage = data.get("coverage") or {}
    regimen = data.get("regimen") or {}
    definition = library.indications.get(str(data.get("indication_id")))
    product = library.products.get(str(regimen.get("product_id")))
    payer = library.payers.get(str(coverage.get("payer_profile")))
    return {
        "id": record.id if record else None,
        "patient_name": f"{patient.get('first_name', '')} {patient.get('last_name', '')}".strip(),
        "date_of_birth": patient.get("date_of_birth", ""),
        "indication": definition.name if definition else str(data.get("indication_id")),
        "request_type": _label(intake.REQUEST_TYPE_LABELS, data.get("request_type")),
        "payer_name": coverage.get("payer_name", ""),
        "payer_rules": payer.name if payer else coverage.get("payer_profile", ""),
        "plan_type": _label(PLAN_LABELS, coverage.get("plan_type")),
        "site_of_care": _label(SITE_LABELS, data.get("site_of_care")),
        "product": f"{product.name} ({product.hcpcs})" if product else regimen.get("product_id"),
        "codes": ", ".join(data.get("icd10_codes") or []),
        "state": _label(STATE_LABELS, record.state) if record else "",
        "state_key": record.state if record else "",
        "version": record.content_version if record else None,
    }


def _document_state(document: Any, signature: Any, record: CaseRecord) -> tuple[str, str]:
    """What a stored document is now, in words, and a key for its style."""
    if signature is not None:
        if signature.superseded_at is not None:
            return "Superseded: the case changed after signing", "superseded"
        return "Signed, current", "signed"
    if document.case_version != record.content_version:
        return "Made before the last change to the case", "old"
    if document.kind == LETTER and record.state == CaseState.READY_FOR_SIGNATURE:
        return "Draft, waiting for the physician's signature", "waiting"
    return "Draft, matches the case", "current"


def _documents(record: CaseRecord) -> list[dict[str, Any]]:
    signatures = {s.document_id: s for s in record.signatures}
    can_sign = may(Permission.SIGN, record) and record.state == CaseState.READY_FOR_SIGNATURE
    rows = []
    for document in reversed(record.documents):
        signature = signatures.get(document.id)
        state, state_key = _document_state(document, signature, record)
        rows.append(
            {
                "id": document.id,
                "kind": document.kind,
                "state": state,
                "state_key": state_key,
                "download_url": url_for(
                    "cases.document", case_id=record.id, document_id=document.id
                ),
                "view_url": url_for(
                    "cases.document_view", case_id=record.id, document_id=document.id
                ),
                "sign_url": url_for("signing.sign", case_id=record.id)
                if can_sign
                and document.kind == LETTER
                and document.case_version == record.content_version
                else "",
                "label": DOCUMENT_LABELS.get(document.kind, document.kind.replace("_", " ")),
                "letter_date": document.letter_date.isoformat(),
                "created_at": document.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                "sha256": document.sha256,
                "size_kb": max(1, round(document.size_bytes / 1024)),
                "version": document.case_version,
                "current": document.case_version == record.content_version,
                "signed_by": (
                    f"{signature.signer_name}, {signature.signer_credentials}" if signature else ""
                ),
                "signed_at": (
                    signature.signed_at.strftime("%Y-%m-%d %H:%M UTC") if signature else ""
                ),
                "superseded": bool(signature and signature.superseded_at is not None),
            }
        )
    return rows


def narrative_of(record: CaseRecord) -> dict[str, str] | None:
    """The physician's narrative sections still known to the letter (others are ignored)."""
    if not record.narrative:
        return None
    known = {k: v for k, v in record.narrative.items() if k in NARRATIVE_SECTIONS and v}
    return known or None


def locked_page(record: CaseRecord) -> tuple[str, int]:
    """The answer to an edit of a case whose state does not allow one."""
    state = _label(STATE_LABELS, record.state)
    return (
        render_template(
            "pages/error.html",
            code=409,
            title="This case cannot be changed now",
            message=(
                f"The case is {state.lower()}. What was sent to the payer stays as it was sent. "
                "If the payer asks for more information, record that on the case page "
                "(pended), then edit it."
            ),
            back_url=url_for("cases.assessment", case_id=record.id),
        ),
        409,
    )


def _render_intake(
    form: intake.IntakeForm,
    *,
    record: CaseRecord | None,
    status: int = 200,
    conflict: bool = False,
) -> tuple[str, int]:
    definition = form.definition
    library = context.library()
    # The checklist reads the form's values on a form of its own: its errors are
    # the checklist's, not the page's.
    whole = intake.make_form(definition, library, MultiDict(intake.form_pairs(form)))
    checked = readiness.summarize(whole, library, context.today(), lambda anchor: f"#{anchor}")
    return (
        render_template(
            "pages/intake.html",
            form=form,
            definition=definition,
            readiness=checked,
            readiness_url=url_for("cases.readiness", indication_id=definition.id),
            errors=intake.error_summary(form),
            record_id=record.id if record else None,
            action=url_for("cases.edit", case_id=record.id)
            if record
            else url_for("cases.create", indication_id=definition.id),
            conflict=conflict,
            heading=_case_heading(record.data, record) if record else None,
        ),
        status,
    )


def _form_from_post(definition: IndicationDefinition) -> tuple[intake.IntakeForm, bool]:
    """Build the form from what was posted; True when only a row or type change was asked."""
    formdata: MultiDict[str, str] = MultiDict(request.form)
    form = intake.make_form(definition, context.library(), formdata)
    action = request.form.get("action", intake.ACTION_SAVE)
    if intake.apply_row_action(form, action):
        return form, True
    shown_for = form.form_request_type.data
    if shown_for and shown_for != form.built_for.value:
        # The request type changed: show the questions of the new type first.
        form.form_request_type.data = form.built_for.value
        form.notices.append(
            "The questions now match a "
            f"{intake.REQUEST_TYPE_LABELS[form.built_for].lower()}. Check them, then save."
        )
        return form, True
    return form, False


# --- pages ----------------------------------------------------------------------------------


@bp.route("/", methods=["GET", "POST"])
@requires(Permission.SESSION)
def dashboard() -> View:
    """The cases this person reaches, what needs them (the work queue), and a search.

    The search is posted, never put in the URL: a patient's name must not land in
    browser history, server logs or a Referer header.
    """
    who = context.user()
    rows = []
    records = []
    if may(Permission.CASE_LIST):
        records = repository.list_cases(context.db(), who.organization_id, reach(who))
    for record in records:
        heading = _case_heading(record.data, record)
        verdict = (record.assessment or {}).get("verdict")
        heading["verdict"] = VERDICT_LABELS.get(verdict, "") if verdict else ""
        heading["verdict_key"] = verdict or ""
        heading["updated_at"] = record.updated_at.strftime("%Y-%m-%d %H:%M UTC")
        heading["references"] = _payer_references(record)
        rows.append(heading)
    queue = workqueue.build(
        context.db(),
        records,
        role=who.role,
        today=context.today(),
        decision_days=int(current_app.config["PRIORAUTH_DECISION_DAYS"]),
        names={r["id"]: r["patient_name"] for r in rows},
    )
    search = _search_terms()
    payers = sorted({r["payer_name"] for r in rows if r["payer_name"]}, key=str.lower)
    shown = [r for r in rows if _matches(r, search)] if search.active else rows
    unfinished = _unfinished(search) if may(Permission.CASE_CREATE) else []
    if records or search.active:
        context.audit(
            "case.search" if search.active else "case.list",
            "ok",
            detail=f"{len(shown)} of {len(records)} cases",
        )
    return render_template(
        "pages/dashboard.html",
        cases=shown,
        total=len(rows),
        queue=queue,
        search=search,
        states=[(state.value, label) for state, label in STATE_LABELS.items()],
        payers=payers,
        unfinished=unfinished,
    )


MAX_SEARCH_CHARS = 100


class SearchTerms:
    """What the dashboard's search form asked for (posted; empty on a plain GET)."""

    def __init__(self, text: str = "", state: str = "", payer: str = "") -> None:
        self.text = text
        self.state = state
        self.payer = payer

    @property
    def active(self) -> bool:
        return bool(self.text or self.state or self.payer)


def _search_terms() -> SearchTerms:
    if request.method != "POST" or request.form.get("action") == "clear":
        return SearchTerms()
    text = " ".join(request.form.get("q", "").split())[:MAX_SEARCH_CHARS]
    state = request.form.get("state", "")[:40]
    if state not in {s.value for s in CaseState} and state != INTAKE_STATE:
        state = ""
    payer = request.form.get("payer", "").strip()[:MAX_SEARCH_CHARS]
    return SearchTerms(text, state, payer)


INTAKE_STATE = "intake"


def _payer_references(record: CaseRecord) -> list[str]:
    """The payer's numbers for this case: submission references, denial references, auths."""
    found = [s.payer_reference for s in record.submissions if s.payer_reference]
    found += [str(d.data.get("payer_reference", "")) for d in record.denials]
    found += [d.authorization_number for d in record.decisions if d.authorization_number]
    return list(dict.fromkeys(ref for ref in found if ref))


def _matches(row: Mapping[str, Any], search: SearchTerms) -> bool:
    if search.state and row["state_key"] != search.state:
        return False
    if search.payer and row["payer_name"] != search.payer:
        return False
    if search.text:
        wanted = search.text.casefold()
        names = [row["patient_name"], *row.get("references", ())]
        if not any(wanted in str(name).casefold() for name in names):
            return False
    return True


def _draft_name(pairs: Any) -> str:
    values = {name: value for name, value in pairs}
    name = f"{values.get('patient-first_name', '')} {values.get('patient-last_name', '')}"
    return name.strip() or "(no name yet)"


def _unfinished(search: SearchTerms) -> list[dict[str, Any]]:
    """The organization's intake drafts, as the dashboard lists them."""
    if (search.state and search.state != INTAKE_STATE) or search.payer:
        return []
    library = context.library()
    rows = []
    for draft in drafts.list_drafts(context.db(), context.user().organization_id):
        name = _draft_name(draft.formdata)
        if search.text and search.text.casefold() not in name.casefold():
            continue
        definition = library.indications.get(draft.indication_id or "")
        saved = [step for step in steps.STEPS if step.key in draft.steps_saved]
        following = next(
            (step for step in steps.STEPS if step.key not in draft.steps_saved), steps.STEPS[-1]
        )
        rows.append(
            {
                "id": draft.id,
                "patient_name": name,
                "indication": definition.short_name or definition.name if definition else "",
                "continues": draft.continues_case_id,
                "steps_done": len(saved),
                "steps_total": len(steps.STEPS),
                "next_title": following.title,
                "url": url_for("drafts.step", draft_id=draft.id, step=following.key),
                "updated_at": draft.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
            }
        )
    return rows


def _matching_indications(query: str) -> list[IndicationDefinition]:
    return intake.matching_indications(context.library(), query)


@bp.get("/cases/new")
@requires(Permission.CASE_CREATE)
def choose() -> View:
    query = request.args.get("q", "")[:MAX_QUERY_CHARS]
    choices = [
        {
            "id": d.id,
            "name": d.name,
            "summary": d.summary.strip(),
            "codes": ", ".join(c.code for c in d.codes[:6]) + ("…" if len(d.codes) > 6 else ""),
            "coverage": d.coverage.value,
        }
        for d in _matching_indications(query)
    ]
    return render_template(
        "pages/choose.html",
        query=query,
        choices=choices,
        request_types=list(intake.REQUEST_TYPE_LABELS.items()),
    )


@bp.route("/cases/new/<indication_id>", methods=["GET", "POST"])
@requires(Permission.CASE_CREATE, action="case.create")
def create(indication_id: str) -> View:
    definition = _definition_or_404(indication_id)
    if request.method == "GET":
        try:
            request_type = RequestType(request.args.get("request_type", "initial"))
        except ValueError:
            request_type = RequestType.INITIAL
        form = intake.make_form(definition, context.library(), intake.new_formdata(request_type))
        return _render_intake(form, record=None)

    form, only_redisplay = _form_from_post(definition)
    if only_redisplay:
        return _render_intake(form, record=None)
    case = intake.read_case(form, context.library(), context.today())
    if case is None:
        return _render_intake(form, record=None, status=422)

    who = context.user()
    db = context.db()
    record = repository.create_case(
        db,
        organization_id=who.organization_id,
        user_id=who.id,
        data=case.model_dump(mode="json"),
        assessment=_assess(case).model_dump(mode="json"),
    )
    context.record("case.create", "ok", case_id=record.id)
    db.commit()
    flash("Case saved.", "success")
    return redirect(url_for("cases.assessment", case_id=record.id), code=303)


@bp.post("/intake/<indication_id>/readiness", endpoint="readiness")
@requires(Permission.CASE_EDIT, action="intake.readiness")
def readiness_check(indication_id: str) -> Response:
    """The readiness checklist for the intake form's current values, as JSON (and HTML).

    The form is read exactly as saving reads it; nothing is stored, and nothing
    stored is read (a draft's id only decides where the error links point).
    """
    from . import guided

    definition = _definition_or_404(indication_id)
    library = context.library()
    formdata: MultiDict[str, str] = MultiDict(
        [(k, v) for k, v in request.form.items(multi=True) if k not in steps.BOOKKEEPING]
    )
    form = intake.make_form(definition, library, formdata)
    posted_draft = request.form.get("draft_id", "")

    def link(anchor: str) -> str:
        return f"#{anchor}"

    if posted_draft.isdigit() and len(posted_draft) < 10:
        draft = drafts.get_draft(context.db(), context.user().organization_id, int(posted_draft))
        if draft is not None:
            draft_id = draft.id

            def link(anchor: str) -> str:
                return guided.step_url(draft_id, anchor)

    result = readiness.summarize(form, library, context.today(), link)
    html = render_template("pages/readiness_fragment.html", readiness=result)
    return jsonify({**result.as_json(), "html": html})


@bp.post("/cases/<int:case_id>/continuation")
@case_action(Permission.CASE_CREATE, action="case.continue")
def continuation(record: CaseRecord) -> View:
    """Start the renewal: a continuation draft filled from this case, new measures left empty."""
    definition = _definition_or_404(record.indication_id)
    formdata = intake.continuation_formdata(record.data, definition)
    who = context.user()
    db = context.db()
    draft = drafts.create_draft(
        db,
        organization_id=record.organization_id,
        user_id=who.id,
        formdata=list(formdata.items(multi=True)),
        indication_id=definition.id,
        request_type=RequestType.CONTINUATION.value,
        continues_case_id=record.id,
        steps_saved=["patient", "indication", "therapies"],
    )
    context.record("case.continue", "ok", case_id=record.id, detail=f"draft {draft.id}")
    db.commit()
    flash(
        f"Continuation started from case {record.id}: the patient, coverage, prescriber, codes, "
        "therapies, regimen and baseline measures are filled in. Enter the current measures "
        "here, then today's weight.",
        "success",
    )
    return redirect(url_for("drafts.step", draft_id=draft.id, step="questions"), code=303)


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@case_action(Permission.CASE_EDIT, action="case.edit", page_action="case.edit_form")
def edit(record: CaseRecord) -> View:
    definition = _definition_or_404(record.indication_id)
    if CaseState(record.state) not in EDITABLE_STATES:
        return locked_page(record)
    if request.method == "GET":
        formdata = intake.formdata_for_case(record.data, version=record.version_id)
        form = intake.make_form(definition, context.library(), formdata)
        if _stored_case(record) is None:
            intake.read_case(form, context.library(), context.today())  # show what is wrong
        return _render_intake(form, record=record)

    form, only_redisplay = _form_from_post(definition)
    if only_redisplay:
        return _render_intake(form, record=record)
    case = intake.read_case(form, context.library(), context.today())
    if case is None:
        return _render_intake(form, record=record, status=422)

    who = context.user()
    db = context.db()
    posted = form.version.data or ""
    try:
        superseded = repository.update_case(
            db,
            record,
            expected_version=int(posted) if posted.isdigit() else None,
            user_id=who.id,
            data=case.model_dump(mode="json"),
            assessment=_assess(case).model_dump(mode="json"),
        )
    except NotEditable:
        db.rollback()
        return locked_page(record)
    except EditConflict as conflict:
        db.rollback()
        context.record("case.update", "conflict", case_id=record.id)
        db.commit()
        # Keep everything typed; the next save, knowingly, replaces the other version.
        form.version.data = str(conflict.current_version)
        when = conflict.updated_at.strftime("%H:%M UTC on %Y-%m-%d") if conflict.updated_at else ""
        form.general_errors.append(
            f"Someone else saved this case{' at ' + when if when else ''} while you were "
            "editing it. Your changes are below and are NOT saved yet. Open the case in a new "
            "tab to compare; press Save again to replace their version with yours."
        )
        return _render_intake(form, record=record, status=409, conflict=True)
    context.record("case.update", "ok", case_id=record.id)
    _record_superseded(superseded)
    db.commit()
    flash(_saved_message(superseded), "success")
    return redirect(url_for("cases.assessment", case_id=record.id), code=303)


def _record_superseded(superseded: list[Any]) -> None:
    for signature in superseded:
        context.record(
            "signature.supersede",
            "ok",
            case_id=signature.case_id,
            document_id=signature.document_id,
            detail=f"version {signature.case_version} superseded",
        )


def _saved_message(superseded: list[Any]) -> str:
    if superseded:
        return (
            "Case saved as a new version. The signed letter no longer matches it: it is kept, "
            "marked superseded, and the new version needs the physician's signature."
        )
    return "Case saved."


# --- the narrative (physicians) ------------------------------------------------------------

NARRATIVE_LABELS = {
    "opening": "Opening",
    "clinical_history": "Clinical history",
    "justification": "Why the treatment is medically necessary",
    "dosing": "Dosing",
    "closing": "Closing",
}


def _default_sections(case: Case, result: Assessment) -> dict[str, str]:
    """What the letter says in each narrative section when no one rewrote it."""
    from priorauth.documents import build_letter_context

    built = build_letter_context(case, result, context.library(), letter_date=context.today())
    return {name: "\n\n".join(getattr(built, name)) for name in NARRATIVE_SECTIONS}


@bp.route("/cases/<int:case_id>/narrative", methods=["GET", "POST"])
@case_action(Permission.NARRATIVE_EDIT, action="narrative.edit", page_action="narrative.edit_form")
def narrative(record: CaseRecord) -> View:
    """The physician rewrites the letter's narrative; a save is a new version of the case."""
    case, result = _letter_for(record)
    if CaseState(record.state) not in EDITABLE_STATES:
        return locked_page(record)
    defaults = _default_sections(case, result)
    current = {**defaults, **(narrative_of(record) or {})}
    errors: dict[str, str] = {}
    conflict = False
    status = 200
    if request.method == "POST":
        posted = {
            name: request.form.get(name, "").replace("\r\n", "\n").strip()
            for name in NARRATIVE_SECTIONS
        }
        for name, text in posted.items():
            if len(text) > MAX_NARRATIVE_CHARS:
                errors[name] = f"Shorten this section to {MAX_NARRATIVE_CHARS:,} characters."
            elif has_control_characters(text, long_text=True):
                errors[name] = CONTROL_CHARACTERS_MESSAGE
        current = posted
        version = request.form.get("version", "")
        if not errors:
            changed = {k: v for k, v in posted.items() if v and v != defaults[k]}
            db = context.db()
            try:
                superseded = repository.update_narrative(
                    db,
                    record,
                    expected_version=int(version) if version.isdigit() else None,
                    user_id=context.user().id,
                    narrative=changed,
                )
            except EditConflict:
                db.rollback()
                context.record("narrative.update", "conflict", case_id=record.id)
                db.commit()
                conflict = True
                status = 409
            except NotEditable:
                db.rollback()
                return locked_page(record)
            else:
                context.record("narrative.update", "ok", case_id=record.id)
                _record_superseded(superseded)
                db.commit()
                flash(_saved_message(superseded), "success")
                return redirect(url_for("cases.letter", case_id=record.id), code=303)
        else:
            status = 422
    return (
        render_template(
            "pages/narrative.html",
            heading=_case_heading(record.data, record),
            sections=[
                {
                    "name": name,
                    "label": NARRATIVE_LABELS.get(name, name),
                    "text": current.get(name, ""),
                    "error": errors.get(name, ""),
                    "rewritten": current.get(name, "") != defaults[name],
                }
                for name in NARRATIVE_SECTIONS
            ],
            version=record.version_id,
            conflict=conflict,
            max_chars=MAX_NARRATIVE_CHARS,
        ),
        status,
    )


@bp.get("/cases/<int:case_id>")
@case_action(Permission.CASE_READ, action="case.view")
def assessment(record: CaseRecord) -> View:
    from . import workflow

    heading = _case_heading(record.data, record)
    case = _stored_case(record)
    if case is None or case.indication_id not in context.library().indications:
        return render_template("pages/unreadable.html", heading=heading, case_id=record.id), 409
    result = _assess(case)
    history, views = case_history(record)
    continued_by = repository.continuations_of(context.db(), record)
    return render_template(
        "pages/assessment.html",
        heading=heading,
        assessment=result,
        clinical_summary=case.clinical_summary,
        status_labels=STATUS_LABELS,
        basis_labels=BASIS_LABELS,
        documents=_documents(record),
        panel=workflow.panel(record),
        history=history,
        history_views=views,
        continues=record.continues_case_id,
        continued_by=continued_by,
        appeal=_appeal_summary(record),
        attachments_count=len(casework.active_attachments(record)),
    )


def _appeal_summary(record: CaseRecord) -> dict[str, Any] | None:
    """For a denied case: whether the denial notice is recorded, and what to do next."""
    decision = casework.last_denied_decision(record)
    if decision is None:
        return None
    stored = casework.current_denial(record)
    return {
        "recorded": stored is not None,
        "respond_by": decision.respond_by.isoformat() if decision.respond_by else "",
        "can_record": may(Permission.DENIAL_RECORD, record) and record.state == CaseState.DENIED,
    }


# --- the case's history, from the audit trail ------------------------------------------------

# What each recorded change reads as. Reads (views, previews, downloads) are counted, not listed.
HISTORY_LABELS = {
    "case.create": "Created the case",
    "case.update": "Edited the case",
    "narrative.update": "Rewrote the letter's narrative",
    "case.sign": "Signed the letter",
    "document.create": "Made a PDF",
    "signature.supersede": "The signature no longer matches the case (superseded)",
    "case.assign": "Assigned someone to the case",
    "case.unassign": "Removed an assignment",
    "usage.record": "Recorded units given",
    "denial.record": "Recorded the denial notice",
    "attachment.add": "Attached a file",
    "attachment.remove": "Removed an attachment",
    "case.continue": "Started a continuation",
}
TRANSITION_HISTORY = {
    "send_for_signature": "Sent the letter to the physician for signature",
    "return_to_draft": "Sent the case back to draft",
    "submit": "Recorded the submission to the payer",
    "approve": "Recorded the payer's approval",
    "deny": "Recorded the payer's denial",
    "pend": "Recorded the payer's request for more information",
    "appeal": "Sent the appeal for signature",
    "close": "Closed the case",
    "close_without_appeal": "Closed the case without an appeal",
}
OUTCOME_NOTES = {
    "conflict": "not done: someone changed the case first",
    "refused": "refused",
    "invalid": "not done: what was sent needed correcting",
    "failed": "failed",
}
MAX_HISTORY = 200


def case_history(record: CaseRecord) -> tuple[list[dict[str, str]], int]:
    """Who did what to the case, and when, newest first; and how many reads there were.

    Built from the audit trail alone, which names people and actions and never
    patient data; the people's names come from the accounts.
    """
    db = context.db()
    people = {u.id: u for u in repository.list_users(db, record.organization_id)}
    kinds = {d.id: DOCUMENT_LABELS.get(d.kind, d.kind) for d in record.documents}
    rows = []
    views = 0
    events: list[AuditEvent] = repository.list_events(
        db, record.organization_id, case_id=record.id, limit=2000
    )
    for event in events:
        if event.action == "case.transition":
            what = TRANSITION_HISTORY.get(event.detail, "Changed the case's state")
        elif event.action in HISTORY_LABELS:
            what = HISTORY_LABELS[event.action]
            if event.action == "document.create" and event.document_id in kinds:
                what = f"Made a PDF: {kinds[event.document_id].lower()}"
            if event.action in ("case.assign", "case.unassign"):
                # "user 7": a colleague's account, never patient data.
                named = event.detail.removeprefix("user ")
                colleague = people.get(int(named)) if named.isdigit() else None
                if colleague is not None:
                    verb = "Assigned" if event.action == "case.assign" else "Unassigned"
                    what = f"{verb} {colleague.name}"
        else:
            if event.outcome == "ok":
                views += 1
            continue
        if event.outcome != "ok":
            what = f"{what} ({OUTCOME_NOTES.get(event.outcome, event.outcome)})"
        person = people.get(event.user_id) if event.user_id is not None else None
        rows.append(
            {
                "when": event.at.strftime("%Y-%m-%d %H:%M UTC"),
                "who": person.name if person else "Someone outside the organization",
                "role": ROLE_LABELS.get(event.role, event.role or "")  # type: ignore[call-overload]
                if event.role
                else "",
                "what": what,
                "outcome": event.outcome,
            }
        )
        if len(rows) >= MAX_HISTORY:
            break
    return rows, views


def _letter_for(record: CaseRecord) -> tuple[Case, Assessment]:
    case = _stored_case(record)
    if case is None or case.indication_id not in context.library().indications:
        abort(409)
    return case, _assess(case)


@bp.get("/cases/<int:case_id>/letter")
@case_action(Permission.CASE_READ, action="letter.view")
def letter(record: CaseRecord) -> View:
    _case, result = _letter_for(record)
    return render_template(
        "pages/letter.html",
        heading=_case_heading(record.data, record),
        assessment=result,
        documents=_documents(record),
        editable_states=[state.value for state in EDITABLE_STATES],
    )


@bp.get("/cases/<int:case_id>/letter/preview")
@case_action(Permission.CASE_READ, action="letter.preview")
def letter_preview(record: CaseRecord) -> Response:
    """The letter as HTML, for the preview frame: its own strict policy, no script."""
    case, result = _letter_for(record)
    try:
        rendered = render_letter(
            case,
            result,
            context.library(),
            letter_date=context.today(),
            narrative=narrative_of(record),
        )
    except DocumentTooLarge:
        abort(413)
    response = Response(for_browser(rendered.preview_html), mimetype="text/html")
    response.headers["Content-Security-Policy"] = LETTER_PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/cases/<int:case_id>/letter.pdf")
@case_action(Permission.LETTER_RENDER, action="document.create")
def letter_pdf(record: CaseRecord) -> Response:
    """Render the letter to PDF, store it as a document, and send the browser to it.

    On SQLite the request holds the write lock while WeasyPrint renders (about a
    second); other writers wait for it, within the busy timeout.
    """
    case, result = _letter_for(record)
    library = context.library()
    letter_date = context.today()
    versions = dict(result.definition_versions)
    db = context.db()
    document = repository.reusable_document(
        record, kind=LETTER, letter_date=letter_date, definition_versions=versions
    )
    if document is None:
        try:
            rendered = render_letter(
                case, result, library, letter_date=letter_date, narrative=narrative_of(record)
            )
        except DocumentTooLarge:
            abort(413)
        document = repository.add_document(
            db,
            record,
            kind=LETTER,
            pdf=rendered.pdf,
            letter_date=letter_date,
            definition_versions=versions,
            assessment=result.model_dump(mode="json"),
            case_snapshot=case.model_dump(mode="json"),
            user_id=context.user().id,
        )
        context.record("document.create", "ok", case_id=record.id, document_id=document.id)
        db.commit()
    else:
        context.audit("document.create", "ok", case_id=record.id, document_id=document.id)
    return redirect(url_for("cases.document", case_id=record.id, document_id=document.id), code=303)


@bp.get("/cases/<int:case_id>/documents/<int:document_id>")
@case_action(Permission.CASE_READ, action="document.download")
def document(record: CaseRecord, document_id: int) -> Response:
    case_id = record.id
    stored = repository.get_document(context.db(), record.organization_id, case_id, document_id)
    if stored is None:
        context.audit("document.download", "refused", case_id=case_id, document_id=document_id)
        abort(404)
    # No patient data in the file name: it lands in download histories.
    response = send_file(
        BytesIO(stored.pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{stored.kind}-case-{case_id}-document-{document_id}.pdf",
        etag=stored.sha256,
    )
    response.headers["Cache-Control"] = "no-store"  # a letter about a patient: keep no copy
    return response


# Chromium shows a PDF in its own viewer; the page's usual policy would block it.
PDF_VIEW_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'self'"


@bp.get("/cases/<int:case_id>/documents/<int:document_id>/view")
@case_action(Permission.CASE_READ, action="document.view")
def document_view(record: CaseRecord, document_id: int) -> Response:
    """A stored document shown in the browser (the same bytes as the download)."""
    stored = repository.get_document(context.db(), record.organization_id, record.id, document_id)
    if stored is None:
        context.audit("document.view", "refused", case_id=record.id, document_id=document_id)
        abort(404)
    response = send_file(
        BytesIO(stored.pdf),
        mimetype="application/pdf",
        as_attachment=False,
        download_name=f"{stored.kind}-case-{record.id}-document-{document_id}.pdf",
        etag=stored.sha256,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = PDF_VIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# --- cost summary ---------------------------------------------------------------------------


def _price_tables() -> Mapping[str, Any]:
    """The price tables, loaded at start-up with the library."""
    return context.library().prices


def _cost_choices() -> tuple[str | None, SiteOfCare | None, list[str]]:
    """The product and site asked for in the query string, and what was wrong with them.

    Only these two travel in the URL: never anything about the patient.
    """
    problems = []
    product_id = request.args.get("product", "").strip()[:MAX_QUERY_CHARS] or None
    if product_id is not None and product_id not in context.library().products:
        problems.append("That product is not in the catalog: choose one from the list.")
        product_id = None
    site_value = request.args.get("site", "").strip()[:MAX_QUERY_CHARS]
    site = None
    if site_value:
        try:
            site = SiteOfCare(site_value)
        except ValueError:
            problems.append("That site of care is not known: choose one from the list.")
    return product_id, site, problems


def _cost_context(
    case: Case, result: Assessment, product_id: str | None, site: SiteOfCare | None
) -> Any:
    from priorauth.documents.cost_summary import build_cost_summary_context

    return build_cost_summary_context(
        case,
        result,
        context.library(),
        _price_tables(),
        prepared_on=context.today(),
        product_id=product_id,
        site=site,
    )


@bp.get("/cases/<int:case_id>/cost-summary")
@case_action(Permission.COST_SUMMARY, action="cost_summary.view")
def cost_summary(record: CaseRecord) -> View:
    """The cost summary for a product and site of care chosen with a small GET form."""
    from priorauth.rules.estimate import CostSummaryUnavailable

    case, result = _letter_for(record)
    product_id, site, problems = _cost_choices()
    summary = None
    unavailable = ""
    if not problems:
        try:
            summary = _cost_context(case, result, product_id, site)
        except CostSummaryUnavailable as error:
            unavailable = str(error)
    context.audit("cost_summary.view", "ok" if summary else "invalid", case_id=record.id)
    products = sorted(context.library().products.values(), key=lambda p: p.name.lower())
    query = {
        k: v for k, v in (("product", product_id), ("site", site.value if site else None)) if v
    }
    return (
        render_template(
            "pages/cost_summary.html",
            heading=_case_heading(record.data, record),
            summary=summary,
            unavailable=unavailable,
            problems=problems,
            products=products,
            sites=list(SITE_LABELS.items()),
            chosen_product=product_id or case.regimen.product_id,
            chosen_site=(site or case.site_of_care).value,
            query=query,
        ),
        400 if problems else 200,
    )


@bp.get("/cases/<int:case_id>/cost-summary/preview")
@case_action(Permission.COST_SUMMARY, action="cost_summary.preview")
def cost_summary_preview(record: CaseRecord) -> Response:
    """The cost summary as the patient reads it, for the preview frame (no script)."""
    from priorauth.documents import render_html
    from priorauth.documents.cost_summary import COST_SUMMARY_TEMPLATE
    from priorauth.documents.pdf import print_stylesheet_text
    from priorauth.rules.estimate import CostSummaryUnavailable

    case, result = _letter_for(record)
    product_id, site, problems = _cost_choices()
    if problems:
        abort(400)
    try:
        summary = _cost_context(case, result, product_id, site)
    except CostSummaryUnavailable:
        abort(409)
    html = render_html(COST_SUMMARY_TEMPLATE, summary)
    html = html.replace("</head>", f"<style>{print_stylesheet_text()}</style></head>", 1)
    response = Response(for_browser(html), mimetype="text/html")
    response.headers["Content-Security-Policy"] = LETTER_PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/cases/<int:case_id>/cost-summary.pdf")
@case_action(Permission.COST_SUMMARY, action="cost_summary.download")
def cost_summary_pdf(record: CaseRecord) -> Response:
    """The cost summary as a PDF download; not stored with the case."""
    from priorauth.documents.cost_summary import render_cost_summary
    from priorauth.rules.estimate import CostSummaryUnavailable

    case_id = record.id
    case, result = _letter_for(record)
    product_id, site, problems = _cost_choices()
    if problems:
        abort(400)
    try:
        rendered = render_cost_summary(
            case,
            result,
            context.library(),
            _price_tables(),
            prepared_on=context.today(),
            product_id=product_id,
            site=site,
        )
    except CostSummaryUnavailable:
        abort(409)
    except DocumentTooLarge:
        abort(413)
    # No patient data in the file name: it lands in download histories.
    response = send_file(
        BytesIO(rendered.pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"cost-summary-case-{case_id}.pdf",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
