"""A case's file: its record read as the domain model, its one assessment, its documents.

Views receive the record from ``permissions.case_action``, which has checked the
organization, the role and the person's reach; everything here starts from
that record.

One source for the verdict: the assessment stored with the case. Saving a case
evaluates it and stores the assessment with it; every page, the dashboard, the
work queue, the letter, signing and every document read that stored assessment
through ``current_assessments``. It is evaluated again, and the fresh JSON
written back in a short write of its own, only when it no longer stands: none
is stored, it was made under other definition versions than the library loaded
now (``Assessment.definition_versions`` against ``Library.versions_for``), or it
was made before today (criteria count weeks and months up to today). A request
evaluates a case at most once; the page and the dashboard cannot disagree.

One path for a document: render it, then ``keep`` it, which stores the PDF with
the record of what produced it (definition versions, assessment, case snapshot,
and the renderer's own record: denial, attachments, narrative), unless the same
document is already stored for this content, day and definitions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, cast

from flask import abort, flash, g, redirect, url_for
from pydantic import ValidationError
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from priorauth.documents import NARRATIVE_SECTIONS, DocumentTooLarge
from priorauth.documents.appeal import APPEAL_NARRATIVE_SECTIONS, AppealInputError
from priorauth.documents.exception import EXCEPTION_NARRATIVE_SECTIONS
from priorauth.documents.uploads import CheckedUpload
from priorauth.domain.case import Case
from priorauth.domain.denial import Attachment, Denial, MediaType
from priorauth.rules.assessment import Assessment
from priorauth.rules.engine import evaluate
from priorauth.rules.policy_change import policy_change
from priorauth.store import casework, drafts, listing, rechecks, repository
from priorauth.store.models import AttachmentRecord, CaseRecord, Document, IntakeDraft, Signature

from . import context
from .workqueue import RENEWAL_WINDOWS_DAYS

# The kinds of stored document (the signed ones are named by the store).
LETTER = "letter"
APPEAL = "appeal"
PEER_TO_PEER = "peer_to_peer"
PACKET = "packet"

_CACHE_KEY = "priorauth_assessments"


# --- the case -------------------------------------------------------------------------------


def stored_case(record: CaseRecord) -> Case | None:
    """The stored case as the domain model, or None if it no longer validates."""
    try:
        return Case.model_validate(record.data, context={"today": context.today()})
    except ValidationError:
        return None


def readable_case(record: CaseRecord) -> Case:
    """The stored case, or 409 when it no longer matches the installed definitions."""
    case = stored_case(record)
    if case is None or case.indication_id not in context.library().indications:
        abort(409)
    return case


def assessed(record: CaseRecord) -> tuple[Case, Assessment]:
    """The stored case and its current assessment; 409 when the case no longer reads."""
    case = readable_case(record)
    return case, assessment_of(record, case)


def assessment_of(record: CaseRecord, case: Case) -> Assessment:
    """The current assessment of a case that reads (``case`` is its stored case)."""
    result = current_assessments([record], cases={record.id: case})[record.id]
    assert result is not None  # the case reads, so it can be evaluated
    return result


def assess(case: Case) -> Assessment:
    """Evaluate a case as of today, to be stored with it."""
    return evaluate(case, context.library(), context.today())


# --- its one assessment ---------------------------------------------------------------------


def _still_current(record: CaseRecord) -> Assessment | None:
    """The stored assessment, when it still stands (see the module's docstring)."""
    if not record.assessment:
        return None
    try:
        stored = Assessment.model_validate(record.assessment)
    except ValidationError:  # stored by a version of priorauth that shaped it otherwise
        return None
    versions = context.library().versions_for(stored.indication_id, stored.payer_id)
    if (
        stored.indication_id != record.indication_id
        or dict(stored.definition_versions) != versions
        or stored.as_of < context.today()
    ):
        return None
    return stored


def current_assessments(
    records: Sequence[CaseRecord], *, cases: Mapping[int, Case] | None = None
) -> dict[int, Assessment | None]:
    """Each case's current assessment by case id; None for a case that no longer reads.

    ``cases`` are the records' cases when the caller has read them already.
    """
    found: dict[int, Assessment | None] = {}
    cache: dict[tuple[int, int], Assessment | None] = g.setdefault(_CACHE_KEY, {})
    refreshed: list[tuple[CaseRecord, Assessment]] = []
    for record in records:
        key = (record.id, record.content_version)
        if key not in cache:
            result = _still_current(record)
            if result is None:
                case = (cases or {}).get(record.id) or stored_case(record)
                if case is not None and case.indication_id in context.library().indications:
                    result = assess(case)
                    refreshed.append((record, result))
            cache[key] = result
        found[record.id] = cache[key]
    if refreshed:
        _write_back(refreshed)
    return found


def _write_back(refreshed: Sequence[tuple[CaseRecord, Assessment]]) -> None:
    """Store re-evaluated assessments, leaving the cases' versions and times as they were.

    A refresh is not an edit: it must not bump the optimistic-locking counter
    (someone's open edit form would then conflict) nor the time of the last
    change. A case changed since it was read keeps what its writer stored.
    """
    table = cast(Table, CaseRecord.__table__)
    statements = [
        update(table)
        .where(table.c.id == record.id, table.c.version_id == record.version_id)
        .values(
            assessment=stored,
            updated_at=record.updated_at,
            # The list columns stay in step (a Core UPDATE skips the ORM's flush hook).
            **listing.assessment_columns(stored),
        )
        for record, stored in ((r, result.model_dump(mode="json")) for r, result in refreshed)
    ]
    if context.writing():
        # Within the request's own transaction: committed with its change, if any.
        for statement in statements:
            context.db().execute(statement)
        _note_policy_changes(context.db(), refreshed)
        return
    with context.short_write() as session:
        for statement in statements:
            session.execute(statement)
        _note_policy_changes(session, refreshed)


def _note_policy_changes(
    session: Session, refreshed: Sequence[tuple[CaseRecord, Assessment]]
) -> None:
    """Keep, for the work queue, each case in play whose verdict a new policy version changed."""
    # The same cases the sweep looks for: a case refreshed because another list showed
    # it (an approval far from renewal) is not listed either.
    renewals_until = context.today() + dt.timedelta(days=RENEWAL_WINDOWS_DAYS[-1])
    for record, result in refreshed:
        if not rechecks.in_play(record, renewals_until):
            continue
        try:
            before = Assessment.model_validate(record.assessment) if record.assessment else None
        except ValidationError:  # shaped by an older priorauth: nothing to compare with
            before = None
        change = policy_change(before, result) if before is not None else None
        if change is not None:
            rechecks.note(
                session,
                record,
                change.before.value,
                change.after.value,
                [vars(item) for item in change.changes],
            )


# --- saving a new case ----------------------------------------------------------------------


def save_new_case(case: Case, *, draft: IntakeDraft | None = None) -> Response:
    """Store a new case with its assessment (ending the draft it came from) and open it."""
    who = context.user()
    db = context.db()
    record = repository.create_case(
        db,
        organization_id=who.organization_id,
        user_id=who.id,
        data=case.model_dump(mode="json"),
        assessment=assess(case).model_dump(mode="json"),
    )
    detail = ""
    if draft is not None:
        record.continues_case_id = draft.continues_case_id
        detail = f"from draft {draft.id}"
        drafts.delete_draft(db, draft, case_id=record.id)
    context.record("case.create", "ok", case_id=record.id, detail=detail)
    db.commit()
    flash("Case saved.", "success")
    return redirect(url_for("cases.assessment", case_id=record.id), code=303)


def record_superseded(superseded: Sequence[Signature]) -> None:
    """Record in the audit trail each signature a change of content superseded."""
    for signature in superseded:
        context.record(
            "signature.supersede",
            "ok",
            case_id=signature.case_id,
            document_id=signature.document_id,
            detail=f"version {signature.case_version} superseded",
        )


def saved_message(superseded: Sequence[Signature]) -> str:
    if superseded:
        return (
            "Case saved as a new version. The signed letter no longer matches it: it is kept, "
            "marked superseded, and the new version needs the physician's signature."
        )
    return "Case saved."


# --- what its documents are made from -------------------------------------------------------


def _narrative(record: CaseRecord, sections: Sequence[str]) -> dict[str, str] | None:
    if not record.narrative:
        return None
    known = {k: v for k, v in record.narrative.items() if k in sections and v}
    return known or None


def narrative_of(record: CaseRecord) -> dict[str, str] | None:
    """The physician's narrative sections still known to the letter (others are ignored)."""
    return _narrative(record, NARRATIVE_SECTIONS)


def appeal_narrative_of(record: CaseRecord) -> dict[str, str] | None:
    """The physician's narrative sections the appeal letter knows."""
    return _narrative(record, APPEAL_NARRATIVE_SECTIONS)


def exception_narrative_of(record: CaseRecord) -> dict[str, str] | None:
    """The narrative sections the exception request knows, the signer's saved reason
    (``EXCEPTION_REASON``) among them."""
    return _narrative(record, EXCEPTION_NARRATIVE_SECTIONS)


def current_denial(record: CaseRecord) -> Denial | None:
    """The recorded denial the appeal answers, as the domain model (None if none or stale)."""
    stored = casework.current_denial(record)
    if stored is None:
        return None
    try:
        return Denial.model_validate(stored.data, context={"today": context.today()})
    except ValidationError:
        return None


def _attachment(stored: AttachmentRecord) -> Attachment:
    return Attachment(
        filename=stored.filename,
        media_type=MediaType(stored.media_type),
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        pages=stored.pages,
        enclosure_id=stored.enclosure_id,
        title=stored.title,
    )


def attachments_of(record: CaseRecord) -> tuple[Attachment, ...]:
    """What the case's current uploads are, as the documents name them."""
    return tuple(_attachment(a) for a in casework.active_attachments(record))


def uploads_of(record: CaseRecord) -> list[CheckedUpload]:
    """The case's current uploads with their bytes, for the packet."""
    return [
        CheckedUpload(attachment=_attachment(a), data=a.data)
        for a in casework.active_attachments(record)
    ]


# --- rendering, storing and serving a document ----------------------------------------------


class RenderedPdf(Protocol):
    """What a renderer of the documents layer gives back, as far as pages use it."""

    @property
    def pdf(self) -> bytes: ...

    @property
    def preview_html(self) -> str: ...

    @property
    def page_count(self) -> int: ...


@contextmanager
def rendering() -> Iterator[None]:
    """Answer 413 for a document too large to render, 409 for a denial that does not fit."""
    try:
        yield
    except DocumentTooLarge:
        abort(413)
    except AppealInputError:
        abort(409)


def _open(record: CaseRecord, document: Document) -> Response:
    url = url_for("documents.download", case_id=record.id, document_id=document.id)
    return redirect(url, code=303)


def reuse(
    record: CaseRecord,
    *,
    kind: str,
    assessment: Assessment,
    provenance: Mapping[str, Any] | None = None,
) -> Response | None:
    """Open the document of this kind stored today for this very content, if there is one.

    ``provenance`` is the renderer's record of what produced the document, when
    it can be known before rendering; the stored one must match it.
    """
    found = repository.reusable_document(
        record,
        kind=kind,
        letter_date=context.today(),
        definition_versions=dict(assessment.definition_versions),
        record_data=provenance,
    )
    if found is None:
        return None
    context.audit("document.create", "ok", case_id=record.id, document_id=found.id)
    return _open(record, found)


def add_document(
    record: CaseRecord,
    *,
    kind: str,
    case: Case,
    assessment: Assessment,
    pdf: bytes,
    provenance: Mapping[str, Any] | None = None,
) -> Document:
    """Add a PDF to the case with what produced it, in the request's transaction."""
    return repository.add_document(
        context.db(),
        record,
        kind=kind,
        pdf=pdf,
        letter_date=context.today(),
        definition_versions=dict(assessment.definition_versions),
        assessment=assessment.model_dump(mode="json"),
        case_snapshot=case.model_dump(mode="json"),
        user_id=context.user().id,
        record_data=provenance,
    )


def _content_unchanged(record: CaseRecord) -> bool:
    """Whether the case still says what it said when read; locks its row until the commit.

    The render ran outside any transaction: this check and the store that follows
    are one short write (FOR UPDATE takes SQLite's write lock, PostgreSQL's row lock).
    """
    stored = context.db().scalar(
        select(CaseRecord.content_version).where(CaseRecord.id == record.id).with_for_update()
    )
    return stored == record.content_version


def keep(
    record: CaseRecord,
    *,
    kind: str,
    case: Case,
    assessment: Assessment,
    pdf: bytes,
    provenance: Mapping[str, Any] | None = None,
) -> Response:
    """Store a rendered document, unless the same one is stored today; then open it.

    A case changed while its document was rendered keeps nothing: the person is
    sent back to the case to prepare the document again from what it says now.
    """
    if not _content_unchanged(record):
        context.db().rollback()
        context.audit("document.create", "conflict", case_id=record.id)
        flash(
            "The case changed while this document was being prepared, so it was not kept. "
            "Prepare it again from the case as it is now.",
            "error",
        )
        return redirect(url_for("cases.assessment", case_id=record.id), code=303)
    reused = reuse(record, kind=kind, assessment=assessment, provenance=provenance)
    if reused is not None:
        return reused
    document = add_document(
        record, kind=kind, case=case, assessment=assessment, pdf=pdf, provenance=provenance
    )
    context.record("document.create", "ok", case_id=record.id, document_id=document.id)
    context.db().commit()
    return _open(record, document)
