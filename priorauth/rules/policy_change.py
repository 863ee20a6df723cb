"""What a new version of a definition or payer profile did to a case's verdict.

A case keeps the assessment it was last evaluated under, with the versions of the
files that made it (``Assessment.definition_versions``). When those versions change
(a definition edited, a payer profile edited by an admin), the case is evaluated
again; if its verdict changed too, staff must look at it again before it goes on:
a ready request may have become not ready, or a denied one may now qualify. This
module decides that, from the two assessments alone; the store keeps the finding
and the work queue lists it ("Policy changed: re-check").

A verdict that stays the same under the new versions is no finding: nobody needs to
look, the fresh assessment simply replaces the old one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .assessment import VERDICT_LABELS, Assessment, Verdict
from .library import Library


@dataclass(frozen=True)
class VersionChange:
    """One file whose version differs: ``indication:cidp``, ``payer:aetna``, ``products``."""

    key: str
    before: str  # "" when the case was assessed without this file
    after: str  # "" when the file is gone


@dataclass(frozen=True)
class PolicyChange:
    """A case's verdict changed because the versions it is assessed under changed."""

    before: Verdict
    after: Verdict
    changes: tuple[VersionChange, ...]

    @property
    def summary(self) -> str:
        files = ", ".join(change_label(change) for change in self.changes)
        return (
            f"{VERDICT_LABELS[self.before]} → {VERDICT_LABELS[self.after]} "
            f"under the new version of {files}"
        )


def version_changes(
    before: Mapping[str, str], after: Mapping[str, str]
) -> tuple[VersionChange, ...]:
    """The files whose recorded version differs between two sets, in key order."""
    keys = sorted(set(before) | set(after))
    return tuple(
        VersionChange(key, before.get(key, ""), after.get(key, ""))
        for key in keys
        if before.get(key, "") != after.get(key, "")
    )


def policy_change(before: Assessment, after: Assessment) -> PolicyChange | None:
    """The finding when ``after`` was made under other versions and reached another verdict.

    A change of verdict under the same versions is not a policy change (the case or
    the date changed it); versions that changed without changing the verdict need no
    one's attention.
    """
    changes = version_changes(before.definition_versions, after.definition_versions)
    if not changes or before.verdict is after.verdict:
        return None
    return PolicyChange(before.verdict, after.verdict, changes)


def change_label(change: VersionChange) -> str:
    """A file's change in words: "payer profile aetna (version 1 → 2)"."""
    kind, _, name = change.key.partition(":")
    what = {"indication": "definition", "payer": "payer profile"}.get(kind, "product catalog")
    before = change.before.split("/")[0] or "none"
    after = change.after.split("/")[0] or "none"
    # The version label alone when it was raised; the content hash shows an edit that kept it.
    if before == after:
        before, after = change.before or "none", change.after or "none"
    named = f"{what} {name}" if name else what
    return f"{named} (version {before} → {after})"


@dataclass(frozen=True)
class VersionInEffect:
    """A file a case was assessed under, as the case page names it."""

    key: str
    title: str
    version: str
    effective_date: str
    current: bool  # still the version in effect


def versions_in_effect(assessed: Mapping[str, str], library: Library) -> list[VersionInEffect]:
    """The versions a case was assessed under, named, each said current or superseded."""
    now = library.file_versions
    found: list[VersionInEffect] = []
    for key, value in sorted(assessed.items()):
        kind, _, name = key.partition(":")
        version = value.split("/")[0]
        title, effective = "Product catalog", ""
        if kind == "indication" and name in library.indications:
            definition = library.indications[name]
            title = f"{definition.short_name or definition.name} definition"
            effective = definition.effective_date.isoformat()
        elif kind == "payer" and name in library.payers:
            profile = library.payers[name]
            title = f"{profile.name} profile"
            effective = profile.effective_date.isoformat()
        current = now.get(key) == value
        # The effective date read now is the current version's: a superseded one has none here.
        found.append(VersionInEffect(key, title, version, effective if current else "", current))
    return found
