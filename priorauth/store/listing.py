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
    CompoundSelect,
    Select,
    event,
    func,
    select,
    text,
    union,
)
from sqlalchemy.orm import Session, UOWTransaction, aliased, load_only

from .models import (
    SIGNED_EXCEPTION,
    CaseAssignment,
    CaseRecord,
    Decision,
    DecisionOutcome,
    DenialRecord,
    Signature,
    Submission,
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


def scoped(query: Select[Any], scope: Scope) -> Select[Any]:
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


def listed(query: Select[Any]) -> Select[Any]:
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
    query = scoped(select(func.count(CaseRecord.id)), scope)
    if wanted is not None:
        query = _filtered(query, wanted)
    return int(session.scalar(query) or 0)


def page(
    session: Session, scope: Scope, wanted: Filter, *, number: int, size: int
) -> list[CaseRecord]:
    """One page (numbered from 1) of the cases, most recently changed first."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    query = _filtered(listed(scoped(select(CaseRecord), scope)), wanted)
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
        query = scoped(select(CaseRecord.payer_name).distinct(), scope).where(
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
