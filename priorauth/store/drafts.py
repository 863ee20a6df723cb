"""Intake drafts: a new case saved step by step before it is complete.

A draft keeps the form's fields as typed (name, value pairs), so a person can
leave and come back to exactly what they left, mistakes included. Every query is
scoped to one organization; saving checks the version the page was opened at,
so two tabs on one draft cannot silently overwrite each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .models import IntakeDraft, utcnow
from .repository import EditConflict


def _pairs(formdata: Iterable[Sequence[str]]) -> list[list[str]]:
    return [[str(name), str(value)] for name, value in formdata]


def create_draft(
    session: Session,
    *,
    organization_id: int,
    user_id: int,
    formdata: Iterable[Sequence[str]],
    indication_id: str | None = None,
    request_type: str = "initial",
    continues_case_id: int | None = None,
    steps_saved: Sequence[str] = (),
) -> IntakeDraft:
    now = utcnow()
    draft = IntakeDraft(
        organization_id=organization_id,
        created_by_id=user_id,
        updated_by_id=user_id,
        indication_id=indication_id,
        request_type=request_type,
        continues_case_id=continues_case_id,
        formdata=_pairs(formdata),
        steps_saved=list(dict.fromkeys(steps_saved)),
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def get_draft(session: Session, organization_id: int, draft_id: int) -> IntakeDraft | None:
    """One draft, only if it belongs to the organization (None otherwise, same as absent).

    A closed draft is returned too: the caller sends Back to it to the case it became.
    """
    return session.scalar(
        select(IntakeDraft).where(
            IntakeDraft.id == draft_id, IntakeDraft.organization_id == organization_id
        )
    )


def list_drafts(session: Session, organization_id: int) -> list[IntakeDraft]:
    """The organization's drafts, most recently saved first."""
    return list(
        session.scalars(
            select(IntakeDraft)
            .where(IntakeDraft.organization_id == organization_id, IntakeDraft.closed_at.is_(None))
            .order_by(IntakeDraft.updated_at.desc(), IntakeDraft.id.desc())
        )
    )


def save_draft(
    session: Session,
    draft: IntakeDraft,
    *,
    expected_version: int | None,
    user_id: int,
    formdata: Iterable[Sequence[str]],
    step: str | None = None,
    indication_id: str | None = None,
    request_type: str | None = None,
) -> None:
    """Replace the draft's values; raise EditConflict if it changed since the page was opened."""
    if expected_version is None or draft.version_id != expected_version:
        raise EditConflict(draft.version_id, draft.updated_at)
    draft.formdata = _pairs(formdata)
    if step is not None and step not in draft.steps_saved:
        draft.steps_saved = [*draft.steps_saved, step]
    if indication_id is not None:
        draft.indication_id = indication_id
    if request_type is not None:
        draft.request_type = request_type
    draft.updated_by_id = user_id
    draft.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError as error:
        session.rollback()
        fresh = session.get(IntakeDraft, draft.id, populate_existing=True)
        raise EditConflict(
            fresh.version_id if fresh else -1, fresh.updated_at if fresh else None
        ) from error


def delete_draft(session: Session, draft: IntakeDraft, *, case_id: int | None = None) -> None:
    """Close the draft: its values go, its row stays (and so its number, never reused).

    ``case_id`` is the case it became, where Back to the draft's pages then leads.
    """
    draft.formdata = []
    draft.closed_at = utcnow()
    draft.finished_case_id = case_id
    session.flush()
