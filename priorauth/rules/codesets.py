"""Official code sets: ICD-10-CM from a maintained package, HCPCS from the catalog's table.

ICD-10-CM codes and their descriptions come from the code set shipped by the
``simple-icd-10-cm`` package (pinned in pyproject.toml), not from hand-typed
text: a definition's or a case's code must exist there and be billable (a leaf
of the tabular list; a category such as G35 that has children is not). The
package parses its tabular XML on first use (a few seconds), so the lookup is
imported lazily and cached for the life of the process.

HCPCS Level II codes are checked against ``forms/hcpcs.toml``: the catalog's own
table of J-codes with the source and year each entry was read from.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
import warnings
from dataclasses import dataclass
from types import ModuleType

ICD10CM_PACKAGE = "simple-icd-10-cm"
# The release the pinned package ships (its data files are named
# code-list-April-2026.txt and icd10c-tabular-April-1-2026.xml; a test keeps
# this constant in step with them).
ICD10CM_RELEASE = "April 1, 2026"
ICD10CM_RELEASE_YEAR = 2026
# How many child codes a "not billable" message lists before "…".
_CHILDREN_SHOWN = 8


@dataclass(frozen=True)
class CodeSetEntry:
    code: str
    description: str
    billable: bool
    children: tuple[str, ...] = ()


def icd10cm_source() -> str:
    """The code set named for a person: release and package version."""
    return (
        f"ICD-10-CM code set, {ICD10CM_RELEASE} release "
        f"({ICD10CM_PACKAGE} {importlib.metadata.version(ICD10CM_PACKAGE)})"
    )


@functools.cache
def _package() -> ModuleType:
    # The package reads its data with importlib.resources calls that Python
    # marks deprecated; the warning is the package's, not ours to act on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    return simple_icd_10_cm


@functools.cache
def icd10cm_entry(code: str) -> CodeSetEntry | None:
    """The code set's entry for a dotted or undotted code, or None if it has none."""
    cm = _package()
    code = code.strip().upper()
    # Chapters ("1") and blocks ("G35-G37") are not codes anyone bills or types;
    # a one-category block such as B20 is also a category, and that one counts.
    if not re.fullmatch(r"[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?", code):
        return None
    if not cm.is_valid_item(code) or not cm.is_category_or_subcategory(code):
        return None
    dotted = cm.add_dot(code)
    billable = bool(cm.is_leaf(dotted))
    children = () if billable else tuple(cm.get_children(dotted))
    return CodeSetEntry(
        code=dotted,
        description=str(cm.get_description(dotted)),
        billable=billable,
        children=children,
    )


def icd10cm_problem(code: str) -> str | None:
    """Why a code cannot be billed, in words a person can act on; None when it can."""
    entry = icd10cm_entry(code)
    if entry is None:
        return f"{code} is not in the ICD-10-CM code set ({ICD10CM_RELEASE} release)"
    if not entry.billable:
        shown = ", ".join(entry.children[:_CHILDREN_SHOWN])
        more = "…" if len(entry.children) > _CHILDREN_SHOWN else ""
        return (
            f"{entry.code} ({entry.description}) is a category, not a billable "
            f"ICD-10-CM code; use a more specific code: {shown}{more}"
        )
    return None
