"""Read the imports of priorauth's modules from their source, for the structure tests.

Every ``import`` and ``from ... import`` counts, wherever it sits: an import
inside a function still ties two modules together, and a cycle hidden that way
is still a cycle. Relative imports are resolved against the importing module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "priorauth"


@dataclass(frozen=True)
class Imported:
    """One name an import statement binds: ``from module import name`` or ``import module``."""

    module: str  # absolute dotted name of the module imported (from)
    name: str | None  # the name taken from it; None for ``import module``
    bound_as: str  # the name the importer can use afterwards
    line: int


def module_name(path: Path, root: Path = REPO_ROOT) -> str:
    """Dotted module name of a source file (a package is named by its folder)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Every module of the package, by dotted name; migrations are scripts, not modules."""
    return {
        module_name(path, root): path
        for path in sorted((root / PACKAGE).rglob("*.py"))
        if "migrations" not in path.relative_to(root).parts
    }


def imports_in(source: str, module: str, *, is_package: bool) -> Iterator[Imported]:
    """Each name the module's import statements bind, at any depth of the source."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                yield Imported(alias.name, None, bound, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield Imported(base, alias.name, alias.asname or alias.name, node.lineno)


def module_imports(modules: Mapping[str, Path]) -> dict[str, list[Imported]]:
    """The imports of every module, read from its file."""
    return {
        name: list(
            imports_in(path.read_text(encoding="utf-8"), name, is_package=path.stem == "__init__")
        )
        for name, path in modules.items()
    }


def imported_module(imported: Imported, modules: Iterable[str]) -> str | None:
    """The package module an import depends on: ``from a import b`` names a.b if b is a module."""
    known = set(modules)
    if imported.name is not None:
        submodule = f"{imported.module}.{imported.name}"
        if submodule in known:
            return submodule
    return imported.module if imported.module in known else None


def dependency_graph(imports: Mapping[str, list[Imported]]) -> dict[str, dict[str, int]]:
    """For each module, the package modules it imports, with the first line that does."""
    graph: dict[str, dict[str, int]] = {name: {} for name in imports}
    for importer, found in imports.items():
        for imported in found:
            target = imported_module(imported, imports)
            if target is not None and target != importer:
                graph[importer].setdefault(target, imported.line)
    return graph


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or round a loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)
