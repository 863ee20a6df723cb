"""Policy versions on the case's side: the sweep that finds cases a new version affects,
the open finding and the versions a case was assessed under, for its page (the re-check
a person records is ``cases.recheck``).

The decision (did a new version change this case's verdict?) is the rules layer's
(``rules.policy_change``), made where assessments are refreshed (``casefile``); the
store keeps the finding and the work queue lists it. The sweep only makes sure that
cases nobody opened are evaluated too: each dashboard view of someone who sees the
queue evaluates a batch of the cases whose stored verdict was made under other versions,
until none is left for the versions in effect that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from weakref import WeakKeyDictionary

from sqlalchemy import Engine

from priorauth.rules.policy_change import VersionChange, VersionInEffect, change_label
from priorauth.rules.policy_change import versions_in_effect as _versions_in_effect
from priorauth.store import listing, rechecks
from priorauth.store.models import CaseRecord

from . import casefile, context
from .edited_profiles import versions_seen
from .workqueue import RENEWAL_WINDOWS_DAYS, verdict_words

# Per database (its engine) and organization, what the last sweep that found nothing
# left was made under in this process: the versions' fingerprint and how many times they
# had changed (``edited_profiles.versions_seen``, recorded on every request), and the day.
# While these stay the same a dashboard view costs no sweep query; a change of versions
# seen by any request (a file updated, a profile edited or restored) or of the day (an
# approval then enters the renewal window) sweeps again.
_SETTLED: WeakKeyDictionary[Engine, dict[int, tuple[str, int, dt.date]]] = WeakKeyDictionary()


def sweep(organization_id: int, today: dt.date) -> int:
    """Evaluate a batch of the organization's cases made under other versions; how many."""
    library = context.library()
    engine = context.state().engine
    done = _SETTLED.setdefault(engine, {})
    settled = (*versions_seen(engine, organization_id, library), today)
    if done.get(organization_id) == settled:
        return 0
    ids = rechecks.stale_case_ids(
        context.db(),
        organization_id,
        lambda indication, payer: listing.versions_key(library.versions_for(indication, payer)),
        # An approved case ending within the queue's renewal window is judged again.
        renewals_until=today + dt.timedelta(days=RENEWAL_WINDOWS_DAYS[-1]),
    )
    if ids:
        records = listing.cases_by_id(context.db(), organization_id, ids)
        casefile.current_assessments(records)
        _see_what_was_written()
    if len(ids) < rechecks.SWEEP_BATCH:  # nothing left after this batch
        done[organization_id] = settled
    return len(ids)


def _see_what_was_written() -> None:
    # A refresh outside the request's own write is committed in a short transaction of
    # its own: end the request's reading one so the next read sees the findings.
    if not context.writing():
        context.end_transaction()


def recheck_for_page(record: CaseRecord) -> dict[str, object] | None:
    """The open finding of the case, in words, for its page; None when there is none."""
    _see_what_was_written()
    found = rechecks.open_for_case(context.db(), record.id)
    if found is None:
        return None
    return {
        "before": verdict_words(found.verdict_before),
        "after": verdict_words(found.verdict_after),
        "changes": [
            change_label(VersionChange(c["key"], c["before"], c["after"])) for c in found.changes
        ],
        "found_on": found.found_at.date().isoformat(),
    }


def versions_for_page(assessed: Mapping[str, str]) -> list[VersionInEffect]:
    """The definition and profile versions an assessment was made under, named."""
    return _versions_in_effect(assessed, context.library())
