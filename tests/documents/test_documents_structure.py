"""The documents layer only puts findings into words, and stays easy to find one's way in.

Read from the source, so a test fails on the line that breaks a rule: documents
import no check from the domain (only its types, enums and labels), never run
the engine again, never reach into another module's private names, import at
the top of a module, form no import cycle, and keep each module short.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

import priorauth.documents

PACKAGE = "priorauth.documents"
DOCUMENTS_DIR = Path(priorauth.documents.__file__).resolve().parent
MODULES = sorted(DOCUMENTS_DIR.glob("*.py"))
MAX_MODULE_LINES = 450
# Functions of the domain a document may call: they write a value, they decide nothing.
DOMAIN_FUNCTIONS_ALLOWED = frozenset({"priorauth.domain.quantities.plain_number"})


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports_from(path: Path) -> list[tuple[ast.ImportFrom, str]]:
    """Each ``from X import ...`` with X resolved to an absolute module name."""
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                module = PACKAGE + (f".{node.module}" if node.module else "")
            else:
                module = node.module or ""
            found.append((node, module))
    return found


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.name}:{getattr(node, 'lineno', 0)}"


def test_the_walk_finds_the_modules() -> None:
    names = {path.stem for path in MODULES}
    assert {"letter", "appeal", "cost_summary", "packet", "output", "pdf"} <= names


def test_documents_import_no_check_from_the_domain() -> None:
    """Types, enums and labels only: a function of the domain would decide a finding again."""
    offending = []
    for path in MODULES:
        for node, module in _imports_from(path):
            if not module.startswith("priorauth.domain"):
                continue
            source = importlib.import_module(module)
            for alias in node.names:
                value = getattr(source, alias.name)
                name = f"{module}.{alias.name}"
                if inspect.isfunction(value) and name not in DOMAIN_FUNCTIONS_ALLOWED:
                    offending.append(f"{_where(path, node)} imports {name}")
    assert offending == []


def test_documents_never_evaluate_a_case_again() -> None:
    offending = []
    for path in MODULES:
        for node, module in _imports_from(path):
            names = {alias.name for alias in node.names}
            if module == "priorauth.rules.engine" or (
                module == "priorauth.rules" and "evaluate" in names
            ):
                offending.append(f"{_where(path, node)} imports {module}: {sorted(names)}")
    assert offending == []


def test_no_module_imports_another_modules_private_names() -> None:
    offending = [
        f"{_where(path, node)} imports {module}.{alias.name}"
        for path in MODULES
        for node, module in _imports_from(path)
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert offending == []


def test_imports_sit_at_the_top_of_each_module() -> None:
    offending = []
    for path in MODULES:
        tree = _tree(path)
        top = {id(node) for node in tree.body}
        # Still at module level: imports wrapped in a top-level ``with`` (pades.py silences a
        # dependency's deprecation warning while it imports) or ``try``.
        for statement in tree.body:
            if isinstance(statement, ast.With | ast.Try):
                top |= {id(node) for node in statement.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top:
                offending.append(_where(path, node))
    assert offending == []


def test_no_import_cycle_between_document_modules() -> None:
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        name = PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"
        edges = set()
        for node, module in _imports_from(path):
            if module == PACKAGE:
                # ``from . import answers`` imports the submodule; anything else, the package.
                for alias in node.names:
                    submodule = DOCUMENTS_DIR / f"{alias.name}.py"
                    edges.add(f"{PACKAGE}.{alias.name}" if submodule.exists() else PACKAGE)
            elif module.startswith(PACKAGE):
                edges.add(module)
        graph[name] = edges

    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        pytest.fail(f"import cycle: {' → '.join(error.args[1])}")


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_each_module_is_short_enough_to_read(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines"
