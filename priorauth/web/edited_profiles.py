"""The library in effect for one organization: the loaded one with its admin's payer profiles.

An admin's saved profile text is checked again when it is applied (the definitions
it names may have changed since it was saved, with an upgrade of priorauth): one that
no longer loads is left out, the shipped profile applies, and a warning names it (a
profile id and a version number, never patient data). What was built is kept per
(loaded library, organization, newest saved version), so a request normally costs one
small query, and every worker sees a new version on its next request.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from priorauth.rules.library import Library
from priorauth.rules.loader import payer_from_text, payer_version_key
from priorauth.rules.schema import PayerProfile
from priorauth.store import payer_profiles

log = logging.getLogger(__name__)

# Libraries built, by (id of the loaded library, organization id, newest version id).
_BUILT: dict[tuple[int, int, int], Library] = {}
_MAX_BUILT = 256


def library_for(base: Library, organization_id: int, session: Session) -> Library:
    newest = payer_profiles.newest_id(session, organization_id)
    if newest == 0:
        return base
    key = (id(base), organization_id, newest)
    built = _BUILT.get(key)
    if built is None:
        if len(_BUILT) >= _MAX_BUILT:
            _BUILT.clear()
        built = _BUILT[key] = _build(base, organization_id, session)
    return built


def _build(base: Library, organization_id: int, session: Session) -> Library:
    edited: dict[str, tuple[PayerProfile, str]] = {}
    for saved in payer_profiles.in_effect(session, organization_id):
        profile, _problems = payer_from_text(
            saved.toml_text,
            profile_path(saved.profile_id),
            saved.profile_id,
            base.indications,
            base.products,
        )
        if profile is None:
            log.warning(
                "payer profile %s version %d no longer loads; the shipped profile applies",
                saved.profile_id,
                saved.number,
            )
            continue
        edited[saved.profile_id] = (profile, payer_version_key(profile, saved.toml_text.encode()))
    return base.with_payers(edited)


def profile_path(profile_id: str) -> Path:
    """The name breadcrumbs give an edited profile: where its file would be."""
    return Path("payers") / f"{profile_id}.toml"


# Per database (its engine) and organization, the fingerprint of the versions last in
# effect in this process and how many times it changed: what the re-check sweep keys its
# "nothing left" on (``policy_versions.sweep``), so any change seen by any request, a
# profile restored included, makes the next dashboard view sweep again.
_SEEN: WeakKeyDictionary[Engine, dict[int, tuple[str, int]]] = WeakKeyDictionary()


def versions_seen(engine: Engine, organization_id: int, library: Library) -> tuple[str, int]:
    """Record the versions in effect for this request; return (fingerprint, changes)."""
    canonical = json.dumps(dict(library.file_versions), sort_keys=True, separators=(",", ":"))
    fingerprint = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    seen = _SEEN.setdefault(engine, {})
    last, changes = seen.get(organization_id, ("", 0))
    if last != fingerprint:
        seen[organization_id] = (fingerprint, changes + 1)
    return seen[organization_id]
