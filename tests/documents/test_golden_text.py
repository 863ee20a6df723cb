"""Every example document reads exactly as captured (see golden_text.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from golden_text import GoldenCase, golden_cases, render_text

CASES = list(golden_cases())
UPDATE = os.environ.get("PRIORAUTH_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_document_text_is_unchanged(case: GoldenCase, tmp_path: Path) -> None:
    text = render_text(case, tmp_path)
    if UPDATE:
        case.golden_file.write_text(text, encoding="utf-8")
        return
    assert case.golden_file.exists(), f"no captured text for {case.name}: run with UPDATE"
    expected = case.golden_file.read_text(encoding="utf-8")
    assert text == expected, f"{case.name}: the document's text changed"
