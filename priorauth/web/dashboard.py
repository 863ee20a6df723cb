"""The dashboard: the cases a person reaches, what needs them (the work queue), a search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for

from priorauth.rules.assessment import VERDICT_LABELS, Verdict
from priorauth.store import drafts, listing, repository
from priorauth.store.models import STATE_LABELS, CaseRecord, CaseState

from . import casefile, context, policy_versions, steps, workqueue
from .context import View
from .intake import REQUEST_TYPE_LABELS
from .pages import label
from .permissions import Permission, may, reach, requires

bp = Blueprint("dashboard", __name__)

MAX_SEARCH_CHARS = 100
PAGE_SIZE = 50
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
    """A page of the cases this person reaches, what needs them (the work queue), a search.

    The search is posted, never put in the URL: a patient's name must not land in
    browser history, server logs or a Referer header. Every read is a page or a
    count on the cases' list columns: the same few queries for 10 cases or 50,000.
    """
    who = context.user()
    db = context.db()
    scope = repository.listing_scope(reach(who)) if may(Permission.CASE_LIST) else None
    if scope is not None and workqueue.shows_rechecks(who.role):
        # Before anything is read: cases a new policy version affects reach the queue.
        policy_versions.sweep(who.organization_id, context.today())
    search = _search_terms()
    wanted = listing.Filter(search.text, search.state, search.payer)
    total = matched = 0
    rows: list[dict[str, Any]] = []
    payers: list[str] = []
    number = _page_number()
    if scope is not None:
        total = listing.count(db, scope)
        matched = listing.count(db, scope, wanted) if search.active else total
        number = min(number, max(1, -(-matched // PAGE_SIZE)))
        records = listing.page(db, scope, wanted, number=number, size=PAGE_SIZE)
        verdicts = current_verdicts(records)
        rows = [_row(record, verdicts.get(record.id)) for record in records]
        payers = listing.payer_names(db, scope)
    queue = workqueue.build(
        db,
        scope,
        role=who.role,
        today=context.today(),
        decision_days=int(current_app.config["PRIORAUTH_DECISION_DAYS"]),
        verdicts=current_verdicts,
    )
    unfinished = _unfinished(search) if may(Permission.CASE_CREATE) else []
    if total or search.active:
        context.audit(
            "case.search" if search.active else "case.list",
            "ok",
            detail=f"page {number}: {len(rows)} of {matched} of {total} cases",
        )
    return render_template(
        "pages/dashboard.html",
        cases=rows,
        total=total,
        matched=matched,
        pages=_pages(number, matched),
        queue=queue,
        search=search,
        states=[(state.value, label) for state, label in STATE_LABELS.items()],
        payers=payers,
        unfinished=unfinished,
    )


def _page_number() -> int:
    """The page asked for (a number in the URL or the search form), 1 when none or bad."""
    raw = (request.form if request.method == "POST" else request.args).get("page", "")
    return int(raw) if raw.isdigit() and 0 < len(raw) <= 6 and int(raw) > 0 else 1


def _pages(number: int, matched: int) -> dict[str, int]:
    last = max(1, -(-matched // PAGE_SIZE))
    return {
        "number": number,
        "last": last,
        "first_shown": (number - 1) * PAGE_SIZE + 1 if matched else 0,
        "last_shown": min(number * PAGE_SIZE, matched),
    }


def current_verdicts(records: Sequence[CaseRecord]) -> dict[int, Verdict | None]:
    """The current verdict of each listed case, from its list columns.

    A stored verdict stands while its assessment would (``casefile``): made today
    or later, under the definition versions loaded now. The others, on this page
    only, are evaluated again through ``casefile.current_assessments``, which
    stores the fresh assessment: the list and the case page never disagree.
    """
    library = context.library()
    today = context.today()
    found: dict[int, Verdict | None] = {}
    stale: list[int] = []
    keys: dict[tuple[str, str], str] = {}
    for record in records:
        pair = (record.indication_id, record.verdict_payer_id or "")
        if pair not in keys:
            keys[pair] = listing.versions_key(library.versions_for(*pair))
        if (
            record.verdict
            and record.verdict_as_of is not None
            and record.verdict_as_of >= today
            and record.verdict_versions == keys[pair]
            and record.verdict in Verdict.__members__.values()
        ):
            found[record.id] = Verdict(record.verdict)
        else:
            stale.append(record.id)
    if stale:
        full = listing.cases_by_id(context.db(), records[0].organization_id, stale)
        for case_id, result in casefile.current_assessments(full).items():
            found[case_id] = result.verdict if result is not None else None
    return found


def _row(record: CaseRecord, verdict: Verdict | None) -> dict[str, Any]:
    """A case as the dashboard's table shows it, from its list columns only."""
    definition = context.library().indications.get(record.indication_id)
    return {
        "id": record.id,
        "patient_name": record.patient_name,
        "indication": definition.name if definition else record.indication_id,
        "request_type": label(REQUEST_TYPE_LABELS, record.request_type),
        "payer_name": record.payer_name,
        "references": [r for r in record.payer_references.split(listing.REFERENCE_SEPARATOR) if r],
        "verdict": VERDICT_LABELS[verdict] if verdict else "",
        "verdict_key": verdict.value if verdict else "",
        "state": label(STATE_LABELS, record.state),
        "state_key": record.state,
        "updated_at": record.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
    }


def _search_terms() -> SearchTerms:
    if request.method != "POST" or request.form.get("action") == "clear":
        return SearchTerms()
    text = " ".join(request.form.get("q", "").split())[:MAX_SEARCH_CHARS]
    state = request.form.get("state", "")[:40]
    if state not in {s.value for s in CaseState} and state != INTAKE_STATE:
        state = ""
    payer = request.form.get("payer", "").strip()[:MAX_SEARCH_CHARS]
    return SearchTerms(text, state, payer)


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
