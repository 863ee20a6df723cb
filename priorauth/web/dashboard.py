"""The dashboard: the cases a person reaches, what needs them (the work queue), a search."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for

from priorauth.rules.assessment import VERDICT_LABELS
from priorauth.store import drafts, repository
from priorauth.store.models import STATE_LABELS, CaseRecord, CaseState

from . import casefile, context, steps, workqueue
from .context import View
from .pages import case_heading
from .permissions import Permission, may, reach, requires

bp = Blueprint("dashboard", __name__)

MAX_SEARCH_CHARS = 100
# The search's state filter for the intake drafts, which are no case yet.
INTAKE_STATE = "intake"


@dataclass(frozen=True)
class SearchTerms:
    """What the dashboard's search form asked for (posted; empty on a plain GET)."""

    text: str = ""
    state: str = ""
    payer: str = ""

    @property
    def active(self) -> bool:
        return bool(self.text or self.state or self.payer)


@bp.route("/", methods=["GET", "POST"])
@requires(Permission.SESSION)
def index() -> View:
    """The cases this person reaches, what needs them (the work queue), and a search.

    The search is posted, never put in the URL: a patient's name must not land in
    browser history, server logs or a Referer header.
    """
    who = context.user()
    records: list[CaseRecord] = []
    if may(Permission.CASE_LIST):
        records = repository.list_cases(context.db(), who.organization_id, reach(who))
    assessments = casefile.current_assessments(records)
    verdicts = {
        case_id: result.verdict for case_id, result in assessments.items() if result is not None
    }
    rows = []
    for record in records:
        heading = case_heading(record)
        verdict = verdicts.get(record.id)
        heading["verdict"] = VERDICT_LABELS[verdict] if verdict else ""
        heading["verdict_key"] = verdict.value if verdict else ""
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
        verdicts=verdicts,
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


def _search_terms() -> SearchTerms:
    if request.method != "POST" or request.form.get("action") == "clear":
        return SearchTerms()
    text = " ".join(request.form.get("q", "").split())[:MAX_SEARCH_CHARS]
    state = request.form.get("state", "")[:40]
    if state not in {s.value for s in CaseState} and state != INTAKE_STATE:
        state = ""
    payer = request.form.get("payer", "").strip()[:MAX_SEARCH_CHARS]
    return SearchTerms(text, state, payer)


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
