"""The library the FHIR tests read, loaded once."""

from __future__ import annotations

import pytest

from priorauth.rules import load_library
from priorauth.rules.library import Library


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()
