"""The web layer's shape: sibling blueprints, no cycles, small modules, findings left to rules.

Read from the source with ``ast`` (nothing is imported but the domain modules
whose names are checked), so a failure names the module and the line.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "priorauth" / "web"
PACKAGE = "priorauth.web"
MAX_LINES = 450
# The domain's checks and computations: the rules decide these findings, pages word them.
CHECK_MODULES = frozenset({"vials", "costs", "safety", "dosing"})
CHECK_NAMES = frozenset({"split_dose_g", "ceil_units", "round_dose_g"})


def _module_name(path: Path) -> str:
    parts = path.relative_to(WEB).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


MODULES = {_module_name(path): path for path in sorted(WEB.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _absolute(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    # A package's own relative imports start from the package, a module's from its parent.
    base = base if _is_package(importer) else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(name: str) -> Iterator[tuple[int, str, str]]:
    """(line, module imported from, name imported) for each import at the module's top level."""
    for node in TREES[name].body:
        nodes = node.body if isinstance(node, ast.Try) else [node]
        for item in nodes:
            if isinstance(item, ast.Import):
                for alias in item.names:
                    yield item.lineno, alias.name, ""
            elif isinstance(item, ast.ImportFrom):
                source = _absolute(name, item)
                for alias in item.names:
                    yield item.lineno, source, alias.name


def _web_targets(name: str) -> Iterator[tuple[int, str, str]]:
    """The web modules a module imports, with the name it takes from each ('' for all)."""
    for line, source, imported in _imports(name):
        if f"{source}.{imported}" in MODULES:
            yield line, f"{source}.{imported}", ""
        elif source in MODULES and source != PACKAGE:
            yield line, source, imported


BLUEPRINTS = frozenset(
    name
    for name, tree in TREES.items()
    for node in tree.body
    if isinstance(node, ast.Assign)
    and any(isinstance(t, ast.Name) and t.id == "bp" for t in node.targets)
)


def test_the_blueprints_are_found() -> None:
    assert {f"{PACKAGE}.cases", f"{PACKAGE}.appeals", f"{PACKAGE}.auth"} <= BLUEPRINTS


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_blueprint_imports_another_blueprint(name: str) -> None:
    if name in (PACKAGE, f"{PACKAGE}.api"):
        return  # the application factory registers them all; the API package, its own
    for line, target, _imported in _web_targets(name):
        assert target not in BLUEPRINTS or target == name, (
            f"{MODULES[name].name}:{line} imports the blueprint {target}: move what both need "
            "to a shared module (casefile, pages, fields, ...)"
        )


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_private_name_crosses_modules(name: str) -> None:
    for line, target, imported in _web_targets(name):
        assert not imported.startswith("_"), (
            f"{MODULES[name].name}:{line} imports {target}.{imported}"
        )


def test_no_import_cycle_in_the_web_layer() -> None:
    graph = {name: {target for _, target, _ in _web_targets(name)} for name in MODULES}
    graph[PACKAGE] = set()  # importing a submodule runs the package first; it imports no cycle
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            cycle = " → ".join((*path[path.index(name) :], name))
            raise AssertionError(f"import cycle: {cycle}")
        if name in done:
            return
        for target in graph.get(name, ()):
            if target.startswith(f"{name}.") and _is_package(name):
                continue  # a package importing its own submodules
            visit(target, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines: split it by responsibility"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_sit_at_the_top_of_the_module(name: str) -> None:
    top = {id(node) for node in TREES[name].body}
    top |= {
        id(item)
        for node in TREES[name].body
        if isinstance(node, ast.Try)
        for item in node.body + [h for handler in node.handlers for h in handler.body]
    }
    for node in ast.walk(TREES[name]):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            assert id(node) in top, f"{MODULES[name].name}:{node.lineno} imports inside a body"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_pages_import_no_dose_vial_product_or_safety_check(name: str) -> None:
    for line, source, imported in _imports(name):
        if not source.startswith("priorauth.domain."):
            continue
        where = f"{MODULES[name].name}:{line} imports {source}.{imported}"
        assert imported not in CHECK_NAMES, where
        if source.split(".")[2] in CHECK_MODULES and imported:
            value = getattr(importlib.import_module(source), imported)
            assert not inspect.isfunction(value), f"{where}: the rules decide it"
