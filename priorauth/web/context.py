"""What every view reaches for: the database session, the definitions, today, the actor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_request_context, request
from flask_login import UserMixin, current_user
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.wrappers import Response

from priorauth.rules.library import Library
from priorauth.store.db import WRITER
from priorauth.store.repository import Actor, record_event

from .edited_profiles import library_for, versions_seen

EXTENSION_KEY = "priorauth"
# What a view returns: a page, a page with its status, or a redirect or file.
View = Response | str | tuple[str, int]
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LIBRARY_KEY = "priorauth_library"


@dataclass(frozen=True)
class AppState:
    """Built once at start-up: the definitions library and the session factory."""

    library: Library
    engine: Engine
    sessions: sessionmaker[Session]
    # The same pool, for requests that change data (see priorauth.store.db.for_writing).
    write_engine: Engine


@dataclass(frozen=True)
class SessionUser(UserMixin):  # type: ignore[misc]
    """The logged-in person as plain values; the ORM row never reaches a template."""

    id: int
    name: str
    email: str
    role: str
    organization_id: int
    organization_name: str
    credentials: str = ""
    npi: str | None = None

    def get_id(self) -> str:
        return str(self.id)


def state() -> AppState:
    return current_app.extensions[EXTENSION_KEY]


def library() -> Library:
    """The definitions in effect for the person asking: the library loaded at start-up,
    with the payer profiles their organization's admin edited in the app (read once per
    request; ``edited_profiles`` caches what it built between requests)."""
    if not has_request_context():
        return state().library
    if _LIBRARY_KEY not in g:
        base = state().library
        if current_user and current_user.is_authenticated:
            edited = library_for(base, user().organization_id, db())
            # Seen by this request: a change makes the next dashboard sweep for re-checks.
            versions_seen(state().engine, user().organization_id, edited)
            g.setdefault(_LIBRARY_KEY, edited)
        else:
            g.setdefault(_LIBRARY_KEY, base)
    found: Library = g.get(_LIBRARY_KEY)
    return found


def db() -> Session:
    """The request's session, opened on first use and closed when the request ends.

    Its transactions begin as readers, whatever the method: on SQLite one takes
    the write lock only at its first write (priorauth.store.db), so a POST's user
    lookup and permission check do not wait behind another request's write.
    """
    if "db" not in g:
        g.db = state().sessions()
    return g.db


def end_transaction() -> None:
    """Commit what the request did so far and give back its connection and any lock.

    Before long work (a render): the work must not hold the write lock, nor a
    pooled connection, while it runs. The session's objects stay readable.
    """
    if "db" in g:
        g.db.commit()


def close_db(_error: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def begin_writing() -> None:
    """End the request's reading transaction and begin a writing one (SQLite: the lock).

    For work that reads what it is about to write and must not see it change in
    between, such as counting failed logins before counting one more.
    """
    session = db()
    session.commit()
    session.connection(execution_options=WRITER)


def today() -> dt.date:
    """The date letters carry and validation uses; PRIORAUTH_TODAY fixes it in tests."""
    fixed: Any = current_app.config.get("PRIORAUTH_TODAY")
    if isinstance(fixed, dt.date):
        return fixed
    if isinstance(fixed, str) and fixed:
        return dt.date.fromisoformat(fixed)
    return dt.date.today()


def user() -> SessionUser:
    """The logged-in user (views behind the login check only)."""
    return current_user._get_current_object()


def actor() -> Actor:
    """The current person as the audit trail records them."""
    if current_user.is_authenticated:
        who = user()
        return Actor(who.id, who.organization_id, who.role, request.remote_addr)
    return Actor(None, None, None, request.remote_addr)


def record(
    action: str,
    outcome: str,
    *,
    case_id: int | None = None,
    document_id: int | None = None,
    detail: str = "",
) -> None:
    """Record an event in the request's transaction: committed with the change, or not at all.

    ``detail`` names things (a transition, a role); it never carries patient data.
    """
    record_event(
        db(), actor(), action, outcome, case_id=case_id, document_id=document_id, detail=detail
    )
    g.priorauth_audited = True


def audit(
    action: str,
    outcome: str,
    *,
    case_id: int | None = None,
    document_id: int | None = None,
    detail: str = "",
) -> None:
    """Record an event in its own short write transaction (for reads and refusals).

    A change records its event in the change's own transaction instead (``record``),
    so the two are committed together or not at all.
    """
    if has_request_context():
        g.priorauth_audited = True
    if writing():
        # A writing request may hold SQLite's write lock already: a second
        # connection would wait for it forever, so use the request's own.
        # Whatever the request left unfinished is not committed with the event.
        db().rollback()
        record_event(
            db(), actor(), action, outcome, case_id=case_id, document_id=document_id, detail=detail
        )
        db().commit()
        return
    with short_write() as session:
        record_event(
            session,
            actor(),
            action,
            outcome,
            case_id=case_id,
            document_id=document_id,
            detail=detail,
        )


def writing() -> bool:
    """Whether this request may change data (and so holds the write lock once it began)."""
    return has_request_context() and request.method not in _READ_ONLY_METHODS


@contextmanager
def short_write() -> Iterator[Session]:
    """A write transaction of its own, committed at the end of the block (reading requests)."""
    session = state().sessions(bind=state().write_engine)
    try:
        yield session
        session.commit()
    finally:
        session.close()
