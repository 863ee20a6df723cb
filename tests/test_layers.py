"""Documents and pages put findings into words; they never decide them again.

The rules layer decides every dose, vial, product, site and safety finding and
hands it over in the Assessment (issue 15). So no module under
priorauth/documents or priorauth/web may import a check: a function of the
dosing, vials, safety, infusion or costs modules, or one of the dose and unit
functions of quantities. Classes, enums and constants from them are fine (a
label table, a result type), and so are the unit conversions that read a form's
input. Documents also never call the engine's ``evaluate``: they render the
assessment they are given.

Whether an imported name is a function is decided by importing it and looking,
so that no list of names has to be kept by hand.
"""

from __future__ import annotations

import ast
import importlib
from types import ModuleType

import pytest
from import_graph import REPO_ROOT, Imported, imports_in, package_modules

from priorauth.domain import quantities
from priorauth.rules import engine

CHECK_MODULES = (
    "priorauth.domain.dosing",
    "priorauth.domain.vials",
    "priorauth.domain.safety",
    "priorauth.domain.infusion",
    "priorauth.domain.costs",
    "priorauth.domain.subcutaneous",
)
# The dose and unit arithmetic; quantities' input conversions (lb_to_kg,
# feet_inches_to_in, in_to_cm) and plain_number stay allowed.
QUANTITY_CHECKS = (
    quantities.round_dose_g,
    quantities.split_dose_g,
    quantities.ceil_units,
    quantities.floor_units,
)
DOCUMENTS = "priorauth.documents"
WORDING_LAYERS = (DOCUMENTS, "priorauth.web")

MODULES = package_modules()
WORDING_MODULES = sorted(
    name
    for name in MODULES
    if any(name == layer or name.startswith(f"{layer}.") for layer in WORDING_LAYERS)
)


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def _is_function(value: object) -> bool:
    # Callable but not a class: plain functions, and wrapped ones such as lru_cache's.
    return callable(value) and not isinstance(value, type)


def why_forbidden(value: object, imported_from: str, importer: str) -> str | None:
    """The reason a wording module may not use this object, or None when it may."""
    if not _is_function(value):
        return None
    defined_in = str(getattr(value, "__module__", ""))
    if _within(imported_from, CHECK_MODULES) or _within(defined_in, CHECK_MODULES):
        return f"a check of {defined_in or imported_from}"
    if any(value is check for check in QUANTITY_CHECKS):
        return "dose and unit arithmetic of priorauth.domain.quantities"
    if value is engine.evaluate and _within(importer, (DOCUMENTS,)):
        return "the engine's evaluate: documents render the assessment they are given"
    return None


def _resolve(imported: Imported) -> object:
    """The object an import binds (importing the package module it comes from)."""
    module = importlib.import_module(imported.module)
    if imported.name is None:
        top = imported.module.split(".")[0]
        return importlib.import_module(top) if imported.bound_as == top else module
    if hasattr(module, imported.name):
        return getattr(module, imported.name)
    return importlib.import_module(f"{imported.module}.{imported.name}")


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"]; None when the chain does not start at a name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def findings_in(source: str, importer: str, *, is_package: bool = False) -> list[str]:
    """Every check the module imports, or reaches through a module it imports."""
    found: list[str] = []
    modules: dict[str, ModuleType] = {}
    for imported in imports_in(source, importer, is_package=is_package):
        if not _within(imported.module, ("priorauth",)):
            continue
        value = _resolve(imported)
        if isinstance(value, ModuleType):
            modules[imported.bound_as] = value
            continue
        reason = why_forbidden(value, imported.module, importer)
        if reason:
            found.append(
                f"line {imported.line}: imports {imported.name} from {imported.module} ({reason})"
            )
    # `from priorauth.domain import vials` then `vials.plan_vials(...)` is the same import.
    for node in ast.walk(ast.parse(source)):
        chain = _dotted(node) if isinstance(node, ast.Attribute) else None
        if not chain or chain[0] not in modules:
            continue
        value: object = modules[chain[0]]
        holder = ""
        for attribute in chain[1:]:
            if isinstance(value, ModuleType):
                holder = value.__name__
            value = getattr(value, attribute, None)
        reason = why_forbidden(value, holder, importer)
        if reason:
            found.append(f"line {node.lineno}: uses {'.'.join(chain)} ({reason})")
    return found


def test_the_walk_sees_documents_and_web() -> None:
    # Guard against a vacuous pass.
    assert {"priorauth.documents", "priorauth.documents.letter", "priorauth.web.cases"} <= set(
        WORDING_MODULES
    )


@pytest.mark.parametrize("module", WORDING_MODULES)
def test_documents_and_pages_import_no_check(module: str) -> None:
    path = MODULES[module]
    found = findings_in(
        path.read_text(encoding="utf-8"), module, is_package=path.stem == "__init__"
    )
    where = path.relative_to(REPO_ROOT)
    assert not found, (
        f"{where} decides findings the Assessment already carries; take them from the "
        "assessment (priorauth/rules) instead:\n" + "\n".join(found)
    )


# The check itself can fail --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from priorauth.domain.vials import plan_vials\n", ["plan_vials"]),
        ("from priorauth.domain.vials import NO_ROUNDING, VialPlan, MG_PER_G\n", []),
        ("def f():\n    from priorauth.domain.dosing import course_dose\n", ["course_dose"]),
        ("from priorauth.domain.costs import summarize_costs, CostSummary\n", ["summarize_costs"]),
        ("from priorauth.domain.costs.alternatives import site_preference\n", ["site_preference"]),
        ("from priorauth.domain.safety import SEVERITY_LABELS, assess_safety\n", ["assess_safety"]),
        ("from priorauth.domain.subcutaneous import SitePlan, plan_sites\n", ["plan_sites"]),
        ("from priorauth.domain.quantities import ceil_units, lb_to_kg\n", ["ceil_units"]),
        ("from priorauth.domain.quantities import in_to_cm, plain_number\n", []),
        ("from priorauth.domain import infusion\ninfusion.plan_infusion(1)\n", ["plan_infusion"]),
        ("import priorauth.domain.vials\npriorauth.domain.vials.plan_vials()\n", ["plan_vials"]),
        ("from priorauth.rules.engine import evaluate\n", ["evaluate"]),
        ("from priorauth.rules import evaluate\n", ["evaluate"]),
        ("from priorauth.rules.assessment import Assessment\n", []),
    ],
)
def test_the_check_finds_checks(source: str, expected: list[str]) -> None:
    found = findings_in(source, "priorauth.documents.example")
    assert len(found) == len(expected), found
    assert all(name in line for name, line in zip(expected, found, strict=True))


def test_pages_may_evaluate_but_not_check() -> None:
    assert findings_in("from priorauth.rules.engine import evaluate\n", "priorauth.web.x") == []
    assert findings_in("from ..domain.vials import plan_vials\n", "priorauth.web.x") != []
