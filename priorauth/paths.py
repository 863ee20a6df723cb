"""Locate the project's data folders: templates/, forms/ and packaged assets.

The team keeps templates/ and forms/ at the top of the repository. An editable
install runs from the checkout, where they sit beside the package; a wheel or
the Docker image carries them inside the package under ``_bundled/``.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"


def _find(name: str) -> Path:
    bundled = PACKAGE_DIR / "_bundled" / name
    if bundled.is_dir():
        return bundled
    checkout = PACKAGE_DIR.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"cannot find the {name}/ folder: looked in {bundled} and {checkout}; "
        "reinstall the package or run from a checkout"
    )


def templates_dir() -> Path:
    return _find("templates")


def forms_dir() -> Path:
    """The definitions folder; PRIORAUTH_FORMS_DIR points a clinic at its own copy."""
    override = os.environ.get("PRIORAUTH_FORMS_DIR")
    if override:
        return Path(override)
    return _find("forms")
