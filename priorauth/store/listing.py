"""What lists show of a case, kept on the case row, and the paginated reads of it.

The dashboard, the work queues and the search read only these columns, one
indexed query per page or section, whatever the number of cases: they never
load a case's JSON nor its records. ``refresh`` computes every column from the
case's data, assessment and records; it runs before each flush that touches a
case (a session event, so no write path can forget it), and the migration that
added the columns ran it over every case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    case,
    event,
    false,
    func,
    literal,
    select,
    text,
    true,
    union,
    union_all,
)
from sqlalchemy.orm import Session, UOWTransaction, aliased, load_only, selectinload
from sqlalchemy.sql.elements import KeyedColumnElement

from .models import (
    SIGNED_EXCEPTION,
    CaseAssignment,
    CaseRecord,
    CaseState,
    Decision,
    DecisionOutcome,
    DenialRecord,
    Document,
    Signature,
    Submission,
    UnitUsage,
)

# Between the references kept in one text column (a reference never holds a line break).
REFERENCE_SEPARATOR = "\n"
MAX_PAGE_SIZE = 200
# Characters of name and references searched: short enough to index on every
# database (PostgreSQL refuses a B-tree entry over 2,704 bytes; 600 UTF-8
# characters are at most 2,400).
MAX_SEARCH_TEXT = 600
# The case's records whose changes show in its list columns.
LISTED_RECORDS = (Submission, Decision, DenialRecord, Signature)


def versions_key(versions: Mapping[str, str]) -> str:
    """One short value for a set of definition versions, to compare without the JSON."""
    canonical = json.dumps(dict(versions), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# The stored verdict's value for a case the rules judge not ready (rules.assessment.Verdict).
NOT_READY = "not_ready"


def assessment_columns(assessment: Mapping[str, Any] | None) -> dict[str, Any]:
    """The verdict columns for a stored assessment (its JSON), all None without one."""
    if not assessment:
        return {
            "verdict": None,
            "verdict_as_of": None,
            "verdict_payer_id": None,
            "verdict_versions": None,
        }
    as_of = assessment.get("as_of")
    return {
        "verdict": str(assessment.get("verdict") or "")[:30] or None,
        "verdict_as_of": dt.date.fromisoformat(as_of) if isinstance(as_of, str) else None,
        "verdict_payer_id": str(assessment.get("payer_id") or "")[:60] or None,
        "verdict_versions": versions_key(assessment.get("definition_versions") or {}),
    }


def _text(value: Any, limit: int) -> str:
    return str(value or "").strip()[:limit]


def _references(record: CaseRecord) -> list[str]:
    """The payer's numbers for this case: submission references, denial references, auths."""
    found = [s.payer_reference for s in record.submissions if s.payer_reference]
    found += [str(d.data.get("payer_reference") or "") for d in record.denials]
    found += [d.authorization_number for d in record.decisions if d.authorization_number]
    return list(dict.fromkeys(" ".join(ref.split()) for ref in found if ref and ref.strip()))


def columns_of(record: CaseRecord) -> dict[str, Any]:
    """Every listing column of a case, from its data, its assessment and its records."""
    data = record.data or {}
    patient = data.get("patient") or {}
    coverage = data.get("coverage") or {}
    name = f"{_text(patient.get('first_name'), 100)} {_text(patient.get('last_name'), 100)}"
    references = _references(record)
    decisions = list(record.decisions)
    last_decision = decisions[-1] if decisions else None
    approval = next(
        (d for d in reversed(decisions) if d.outcome == DecisionOutcome.APPROVED.value), None
    )
    submission = record.submissions[-1] if record.submissions else None
    current = next(
        (
            s
            for s in record.signatures
            if s.superseded_at is None and s.case_version == record.content_version
        ),
        None,
    )
    # Ready to submit: a current signature the stored verdict allows. A case the rules
    # judge not ready goes out only as a signed medical-exception request.
    columns = assessment_columns(record.assessment)
    signed = current is not None and (
        columns["verdict"] != NOT_READY or current.document.kind == SIGNED_EXCEPTION
    )
    answer_outcomes = {DecisionOutcome.PENDED.value, DecisionOutcome.DENIED.value}
    return {
        "patient_name": name.strip()[:200],
        "payer_name": _text(coverage.get("payer_name"), 200),
        "payer_references": REFERENCE_SEPARATOR.join(references),
        "search_text": REFERENCE_SEPARATOR.join([name.strip(), *references]).casefold()[
            :MAX_SEARCH_TEXT
        ],
        **columns,
        "signed_current": signed,
        "submitted_on": submission.submitted_on if submission else None,
        "submitted_appeal": bool(submission and submission.appeal),
        "respond_by": last_decision.respond_by
        if last_decision is not None and last_decision.outcome in answer_outcomes
        else None,
        "authorization_number": approval.authorization_number if approval else None,
        "authorization_end": approval.end_date if approval else None,
        "approved_units": approval.approved_units if approval else None,
    }


def refresh(record: CaseRecord) -> None:
    """Bring the case's listing columns in step; only the ones that changed are set.

    Setting an unchanged value would still mark the row changed and cost an
    UPDATE (and a version) where the flush had none to make.
    """
    for key, value in columns_of(record).items():
        if getattr(record, key) != value:
            setattr(record, key, value)


def _refresh_before_flush(session: Session, _context: UOWTransaction, _objects: Any) -> None:
    touched: dict[int, CaseRecord] = {}
    for instance in [*session.new, *session.dirty]:
        if isinstance(instance, CaseRecord):
            touched[id(instance)] = instance
        elif isinstance(instance, LISTED_RECORDS) and instance.case_id is not None:
            # A record the lists show changed on its own: its case follows.
            owner = session.get(CaseRecord, instance.case_id)
            if owner is not None:
                touched[id(owner)] = owner
    for record in touched.values():
        refresh(record)


def install(session_class: type[Session] = Session) -> None:
    """Keep the listing columns in step on every flush of every session (idempotent)."""
    if not event.contains(session_class, "before_flush", _refresh_before_flush):
        event.listen(session_class, "before_flush", _refresh_before_flush)


install()


# --- the reads ------------------------------------------------------------------------------

LISTED = (
    CaseRecord.id,
    CaseRecord.organization_id,
    CaseRecord.indication_id,
    CaseRecord.request_type,
    CaseRecord.state,
    CaseRecord.content_version,
    CaseRecord.version_id,
    CaseRecord.updated_at,
    CaseRecord.patient_name,
    CaseRecord.payer_name,
    CaseRecord.payer_references,
    CaseRecord.verdict,
    CaseRecord.verdict_as_of,
    CaseRecord.verdict_payer_id,
    CaseRecord.verdict_versions,
    CaseRecord.submitted_on,
    CaseRecord.submitted_appeal,
    CaseRecord.respond_by,
    CaseRecord.authorization_number,
    CaseRecord.authorization_end,
    CaseRecord.approved_units,
)


@dataclass(frozen=True)
class Scope:
    """Whose cases: the organization's, or only some (see ``repository.Reach``)."""

    organization_id: int
    # None: every case of the organization. Otherwise the person's assignments,
    # and the cases prescribed under ``npi`` when given.
    assigned_to: int | None = None
    npi: str | None = None


def _scoped(query: Select[Any], scope: Scope) -> Select[Any]:
    query = query.where(CaseRecord.organization_id == scope.organization_id)
    if scope.assigned_to is None:
        return query
    # The person's cases as one set of ids, each part read on an index (a union,
    # not an OR: an OR makes every row of the organization be read to test it).
    mine: Select[Any] | CompoundSelect[Any] = select(CaseAssignment.case_id).where(
        CaseAssignment.user_id == scope.assigned_to
    )
    if scope.npi:
        prescribed = aliased(CaseRecord)
        mine = union(
            mine,
            select(prescribed.id).where(
                prescribed.organization_id == scope.organization_id,
                prescribed.prescriber_npi == scope.npi,
            ),
        )
    return query.where(CaseRecord.id.in_(mine))


def _listed(query: Select[Any]) -> Select[Any]:
    # Only the listing columns; touching any other attribute raises instead of
    # quietly costing one query per row.
    return query.options(load_only(*LISTED, raiseload=True))


@dataclass(frozen=True)
class Filter:
    """What the search asks for: a text in the name or references, a state, a payer."""

    text: str = ""
    state: str = ""
    payer: str = ""


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(query: Select[Any], wanted: Filter) -> Select[Any]:
    if wanted.state:
        query = query.where(CaseRecord.state == wanted.state)
    if wanted.payer:
        query = query.where(CaseRecord.payer_name == wanted.payer)
    if wanted.text:
        pattern = f"%{_escape_like(wanted.text.casefold())}%"
        query = query.where(CaseRecord.search_text.like(pattern, escape="\\"))
    return query


def count(session: Session, scope: Scope, wanted: Filter | None = None) -> int:
    query = _scoped(select(func.count(CaseRecord.id)), scope)
    if wanted is not None:
        query = _filtered(query, wanted)
    return int(session.scalar(query) or 0)


def page(
    session: Session, scope: Scope, wanted: Filter, *, number: int, size: int
) -> list[CaseRecord]:
    """One page (numbered from 1) of the cases, most recently changed first."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    query = _filtered(_listed(_scoped(select(CaseRecord), scope)), wanted)
    query = query.order_by(CaseRecord.updated_at.desc(), CaseRecord.id.desc())
    return list(session.scalars(query.limit(size).offset((max(number, 1) - 1) * size)))


# At most this many payers are offered in the search's choice.
MAX_PAYER_CHOICES = 200
# A loose index scan: each next name is one seek on (organization_id, payer_name),
# so the cost follows the number of payers, not of cases (DISTINCT reads them all).
_NEXT_PAYERS = text(
    """
    WITH RECURSIVE payer(name, n) AS (
        SELECT (SELECT min(payer_name) FROM cases
                WHERE organization_id = :organization AND payer_name > ''), 1
        UNION ALL
        SELECT (SELECT min(payer_name) FROM cases
                WHERE organization_id = :organization AND payer_name > payer.name), n + 1
        FROM payer WHERE payer.name IS NOT NULL AND n < :most
    )
    SELECT name FROM payer WHERE name IS NOT NULL
    """
)


def payer_names(session: Session, scope: Scope) -> list[str]:
    """The payers named on the cases in scope (for the search's choice), in order.

    For a person who reaches only some cases, their own cases' payers; for the
    organization, the loose index scan above.
    """
    if scope.assigned_to is not None:
        query = _scoped(select(CaseRecord.payer_name).distinct(), scope).where(
            CaseRecord.payer_name != ""
        )
        names = list(session.scalars(query.limit(MAX_PAYER_CHOICES)))
    else:
        parameters = {"organization": scope.organization_id, "most": MAX_PAYER_CHOICES}
        names = list(session.scalars(_NEXT_PAYERS, parameters))
    return sorted(names, key=str.lower)


def cases_by_id(session: Session, organization_id: int, case_ids: list[int]) -> list[CaseRecord]:
    """Whole cases of the organization, by id (a page's worth, never every case)."""
    return list(
        session.scalars(
            select(CaseRecord).where(
                CaseRecord.id.in_(case_ids), CaseRecord.organization_id == organization_id
            )
        )
    )


# --- the work queues ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRule:
    """Which cases of one state make a queue section, which are urgent, in what order.

    ``due`` names the date column the section sorts by (None: by case number);
    a case is in the section only when that date is on or before ``due_until``
    (if given), and urgent when it is on or before ``urgent_until`` (or always).
    """

    state: CaseState
    due: str | None = None
    due_until: dt.date | None = None
    due_required: bool = False
    urgent_until: dt.date | None = None
    always_urgent: bool = False
    needs_current_signature: bool = False
    # Signed, but not to be submitted: superseded, or not ready and not an exception.
    lacks_current_signature: bool = False
    # The items' signatures are read too (with each one's document kind), in one query.
    with_signatures: bool = False
    # The units section: approved units recorded, urgent at 90 % used.
    units: bool = False


@dataclass(frozen=True)
class QueueEntry:
    record: CaseRecord
    urgent: bool
    units_used: int = 0


def _due_column(name: str) -> KeyedColumnElement[Any]:
    column: KeyedColumnElement[Any] = getattr(CaseRecord, name).expression
    return column


def queue(
    session: Session, scope: Scope, rule: QueueRule, *, limit: int
) -> tuple[list[QueueEntry], int]:
    """The first ``limit`` cases of a queue section, most urgent first, and how many there are.

    Two queries: a count on the index, and the first items. Where urgency is a
    date at most some day, the date's order is the urgency's order, so no
    computed value is sorted; only the units section computes one per case.
    """
    members = _scoped(select(CaseRecord), scope).where(CaseRecord.state == rule.state.value)
    urgent: ColumnElement[bool] = true() if rule.always_urgent else false()
    used: ColumnElement[int] = literal(0)
    order: list[Any] = [CaseRecord.id]
    if rule.needs_current_signature:
        members = members.where(CaseRecord.signed_current.is_(True))
    if rule.lacks_current_signature:
        members = members.where(CaseRecord.signed_current.is_not(True))
    if rule.units:
        members = members.where(CaseRecord.approved_units > 0)
        used = _units_used()
        urgent = used * 10 >= CaseRecord.approved_units * 9
        order = [case((urgent, 0), else_=1), CaseRecord.id]
    if rule.due is not None:
        due = _due_column(rule.due)
        if rule.due_required or rule.due_until is not None:
            members = members.where(due.is_not(None))
        if rule.due_until is not None:
            members = members.where(due <= rule.due_until)
        if rule.urgent_until is not None:
            urgent = due <= rule.urgent_until
        # Urgent means due soonest: by date, cases without one last, then by number.
        order = [due.is_(None), due, CaseRecord.id]
    total = session.scalar(members.with_only_columns(func.count(CaseRecord.id)))
    # The first ids are chosen on the index alone; only their rows are read.
    first = _first_ids(members, rule, order, max(1, limit))
    items = _listed(
        select(CaseRecord)
        .where(CaseRecord.id.in_(first))
        .add_columns(case((urgent, 1), else_=0), used)
    )
    if rule.with_signatures:
        items = items.options(
            selectinload(CaseRecord.signatures)
            .joinedload(Signature.document)
            .load_only(Document.kind)
        )
    rows = session.execute(items.order_by(*order).limit(max(1, limit))).all()
    entries = [QueueEntry(row[0], bool(row[1]), int(row[2] or 0)) for row in rows]
    return entries, int(total or 0)


def _first_ids(
    members: Select[Any], rule: QueueRule, order: list[Any], limit: int
) -> Select[Any] | CompoundSelect[Any]:
    """The ids of the section's first ``limit`` cases, read in the index's own order.

    Cases by date come from two reads, each in index order and cut at ``limit``:
    those with a date, soonest first, and those without, by number. One read
    sorted "no date last" would sort every case of the state first.
    """
    ids = members.with_only_columns(CaseRecord.id)
    if rule.due is None:
        return ids.order_by(*order).limit(limit)
    due = _due_column(rule.due)
    dated = ids.where(due.is_not(None)).order_by(due, CaseRecord.id).limit(limit).subquery()
    undated = ids.where(due.is_(None)).order_by(CaseRecord.id).limit(limit).subquery()
    return union_all(select(dated.c.id), select(undated.c.id))


def _units_used() -> ColumnElement[int]:
    """Units given under the case's current approval (its last approved decision)."""
    approval = (
        select(func.max(Decision.id))
        .where(Decision.case_id == CaseRecord.id, Decision.outcome == DecisionOutcome.APPROVED)
        .correlate(CaseRecord)
        .scalar_subquery()
    )
    return func.coalesce(
        select(func.sum(UnitUsage.units))
        .where(UnitUsage.case_id == CaseRecord.id, UnitUsage.decision_id == approval)
        .correlate(CaseRecord)
        .scalar_subquery(),
        0,
    )
