"""The interop layer maps FHIR to the domain: it uses domain, rules and documents only."""

from __future__ import annotations

from import_graph import module_imports, package_modules

FORBIDDEN = ("priorauth.web", "priorauth.store", "priorauth.cli")


def test_interop_imports_neither_web_store_nor_cli() -> None:
    modules = package_modules()
    interop = {name: path for name, path in modules.items() if name.startswith("priorauth.interop")}
    assert "priorauth.interop.bundle_in" in interop
    found = [
        f"{importer} imports {imported.module}"
        for importer, imports in module_imports(interop).items()
        for imported in imports
        if imported.module.startswith(FORBIDDEN)
    ]
    assert not found, found


def test_nothing_below_interop_imports_it() -> None:
    modules = package_modules()
    lower = ("priorauth.domain", "priorauth.rules", "priorauth.documents")
    below = {name: path for name, path in modules.items() if name.startswith(lower)}
    found = [
        f"{importer} imports {imported.module}"
        for importer, imports in module_imports(below).items()
        for imported in imports
        if imported.module.startswith("priorauth.interop")
    ]
    assert not found, found
