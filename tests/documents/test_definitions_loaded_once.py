"""Documents read no definition file while rendering: the library loaded them at start-up.

Price tables come from ``library.prices`` and the appeal wording from
``library.appeal_rules``; a file under forms/ opened during a render fails the test.
"""

from __future__ import annotations

import builtins
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from appeal_examples import APPEAL_EXAMPLES, Example, load_example

from priorauth.documents.exception import ExceptionTopic, render_exception_request
from priorauth.documents.packet import build_packet
from priorauth.documents.pdfa import render_pdfa
from priorauth.documents.peer_to_peer import render_peer_to_peer
from priorauth.rules.library import Library


@pytest.fixture(scope="module")
def example(library: Library) -> Example:
    return load_example(APPEAL_EXAMPLES[0], library)


@pytest.fixture
def forms_opened(library: Library, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Every file under the library's forms/ folder opened while the test runs."""
    root = library.root.resolve()
    opened: list[Path] = []
    real_open: Callable[..., Any] = io.open

    def watching(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | os.PathLike):
            path = Path(os.fsdecode(file)).resolve()
            if path.is_relative_to(root):
                opened.append(path)
        return real_open(file, *args, **kwargs)

    # pathlib opens through io.open, everything else through the built-in.
    monkeypatch.setattr(io, "open", watching)
    monkeypatch.setattr(builtins, "open", watching)
    yield opened


def test_the_watch_sees_a_definition_being_read(library: Library, forms_opened: list[Path]) -> None:
    (library.root / "appeals.toml").read_text(encoding="utf-8")
    assert forms_opened == [(library.root / "appeals.toml").resolve()]


def test_no_document_reads_forms_while_rendering(
    example: Example, library: Library, forms_opened: list[Path]
) -> None:
    build_packet(
        example.case,
        example.assessment,
        library,
        packet_date=example.as_of,
        denial=example.denial,
        justification=example.justification,
        uploads=example.checked,
        missing_confirmed=True,
    )
    render_exception_request(
        example.case,
        example.assessment,
        library,
        letter_date=example.as_of,
        topics=[ExceptionTopic.DOSE_ABOVE_LIMIT],
        justification=example.justification,
    )
    render_peer_to_peer(
        example.case, example.assessment, library, prepared_on=example.as_of, denial=example.denial
    )
    render_pdfa(example.case, example.assessment, library, letter_date=example.as_of)
    assert forms_opened == []
