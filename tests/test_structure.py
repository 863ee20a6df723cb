"""The package's shape: no import cycle, no cross-blueprint private import, no huge module.

Declarative tables and migrations may run past 450 lines: they are long because
they list things, not because they do several jobs. What is checked agrees with
the reviewer's structure check (issue 15).
"""

from __future__ import annotations

from pathlib import Path

from import_graph import (
    REPO_ROOT,
    Imported,
    cycles,
    dependency_graph,
    imports_in,
    module_imports,
    package_modules,
)

MAX_LINES = 450
TABLES = frozenset(
    {"priorauth/domain/facts.py", "priorauth/store/models.py", "priorauth/rules/schema.py"}
)
WEB = "priorauth.web"

MODULES = package_modules()
IMPORTS = module_imports(MODULES)


def cross_blueprint_private_imports(
    imports: dict[str, list[Imported]],
) -> list[tuple[str, Imported]]:
    """A web module importing an underscored name from another web module."""
    return [
        (importer, imported)
        for importer, found in imports.items()
        if importer.startswith(f"{WEB}.")
        for imported in found
        if imported.name is not None
        and imported.name.startswith("_")
        and imported.module.startswith(f"{WEB}.")
        and imported.module != importer
    ]


def line_count(path: Path) -> int:
    with path.open(encoding="utf-8") as lines:
        return sum(1 for _ in lines)


def test_the_walk_sees_the_whole_package() -> None:
    # Guard against a vacuous pass: the modules and their imports were found.
    assert {"priorauth.cli", "priorauth.domain.costs", "priorauth.web.cases"} <= set(MODULES)
    assert not any("migrations" in name for name in MODULES)
    graph = dependency_graph(IMPORTS)
    assert "priorauth.domain.case" in graph["priorauth.rules.engine"]


def test_no_import_cycle() -> None:
    graph = dependency_graph(IMPORTS)
    found = []
    for group in cycles(graph):
        members = set(group)
        edges = [
            f"    {importer} → {target} (line {line})"
            for importer in group
            for target, line in sorted(graph[importer].items())
            if target in members
        ]
        found.append(" ↔ ".join(group) + "\n" + "\n".join(edges))
    assert not found, "import cycles:\n" + "\n".join(found)


def test_no_cross_blueprint_private_import() -> None:
    found = [
        f"{MODULES[importer].relative_to(REPO_ROOT)}:{imported.line}: {importer} imports "
        f"{imported.module}.{imported.name}"
        for importer, imported in cross_blueprint_private_imports(IMPORTS)
    ]
    assert not found, (
        "web modules import another web module's private names; move what they share "
        "to a shared web module and give it a public name:\n" + "\n".join(found)
    )


def test_no_module_over_450_lines() -> None:
    found = [
        f"{relative} {count} lines"
        for path in MODULES.values()
        if (relative := path.relative_to(REPO_ROOT).as_posix()) not in TABLES
        and (count := line_count(path)) > MAX_LINES
    ]
    assert not found, (
        f"modules over {MAX_LINES} lines (split them by responsibility):\n" + "\n".join(found)
    )


# The checks themselves can fail ---------------------------------------------------------


def _imports(sources: dict[str, str]) -> dict[str, list[Imported]]:
    return {
        name: list(imports_in(source, name, is_package=False)) for name, source in sources.items()
    }


def test_a_cycle_hidden_in_a_function_is_found() -> None:
    imports = _imports(
        {
            "priorauth.cli.a": "from priorauth.cli.b import thing\n",
            "priorauth.cli.b": "def later():\n    from . import a\n",
            "priorauth.cli.c": "import priorauth.cli.a\n",
        }
    )
    assert cycles(dependency_graph(imports)) == [["priorauth.cli.a", "priorauth.cli.b"]]


def test_relative_imports_resolve_against_the_importer() -> None:
    def resolved(source: str, module: str, *, is_package: bool) -> list[tuple[str, str | None]]:
        return [(i.module, i.name) for i in imports_in(source, module, is_package=is_package)]

    package = "priorauth.domain.costs"
    assert resolved("from . import prices", package, is_package=True) == [(package, "prices")]
    assert resolved("from ..dates import add_months", package, is_package=True) == [
        ("priorauth.domain.dates", "add_months")
    ]
    assert resolved("from .prices import PriceTable", f"{package}.lines", is_package=False) == [
        (f"{package}.prices", "PriceTable")
    ]


def test_a_private_import_between_blueprints_is_found() -> None:
    imports = _imports(
        {
            "priorauth.web.signing": "def sign():\n    from .appeals import _narrative\n",
            "priorauth.web.appeals": "from .fields import field_error\n",
            "priorauth.documents.appeal": "from .context import _sections\n",
        }
    )
    found = cross_blueprint_private_imports(imports)
    assert [(importer, i.module, i.name) for importer, i in found] == [
        ("priorauth.web.signing", "priorauth.web.appeals", "_narrative")
    ]
