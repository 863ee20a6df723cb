"""The domain layer stays pure: no web, form, PDF or database library is imported."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("flask", "wtforms", "weasyprint", "sqlalchemy")

# A fresh interpreter, so that modules other tests imported do not hide a leak.
_PROBE = """
import importlib, json, pkgutil, sys
import priorauth.domain as domain
names = [domain.__name__]
for info in pkgutil.walk_packages(domain.__path__, prefix="priorauth.domain."):
    importlib.import_module(info.name)
    names.append(info.name)
forbidden = {forbidden!r}
leaked = sorted(m for m in sys.modules if m.split(".")[0] in forbidden)
print(json.dumps({{"imported": names, "leaked": leaked}}))
"""


def test_domain_imports_no_web_pdf_or_database_library() -> None:
    probe = _PROBE.format(forbidden=FORBIDDEN)
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    report = json.loads(completed.stdout)
    # Guard against a vacuous pass: the walk must have found the domain's modules.
    assert {"priorauth.domain.case", "priorauth.domain.dosing"} <= set(report["imported"])
    assert report["leaked"] == []


def test_probe_detects_a_forbidden_import() -> None:
    """The probe itself can fail: importing flask first shows up as a leak."""
    probe = "import flask\n" + _PROBE.format(forbidden=FORBIDDEN)
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert "flask" in json.loads(completed.stdout)["leaked"]
