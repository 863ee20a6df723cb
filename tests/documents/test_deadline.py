"""Renders in processes that can be stopped: the limit holds, errors come back as raised."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from priorauth.documents.deadline import RenderStopped, RenderWorkers
from priorauth.documents.pdf import DocumentTooLarge
from priorauth.documents.uploads import UploadRejected


def _refuse_upload(name: str) -> None:
    raise UploadRejected(name, "the PDF has no pages")


def _too_large() -> None:
    raise DocumentTooLarge("177 pages")


@pytest.fixture
def workers() -> Iterator[RenderWorkers]:
    pool = RenderWorkers(1)
    yield pool
    pool.close()


def test_a_render_past_its_limit_is_stopped_and_the_next_one_runs(
    workers: RenderWorkers,
) -> None:
    assert workers.run(60, pow, 2, 3) == 8  # a process started (its start is not timed)
    started = time.monotonic()
    with pytest.raises(RenderStopped):
        workers.run(1.0, time.sleep, 30)
    assert time.monotonic() - started < 5
    assert workers.run(30, pow, 2, 10) == 1024


def test_errors_come_back_as_they_were_raised(workers: RenderWorkers) -> None:
    with pytest.raises(UploadRejected) as refused:
        workers.run(30, _refuse_upload, "scan.pdf")
    assert (refused.value.filename, refused.value.reason) == ("scan.pdf", "the PDF has no pages")
    with pytest.raises(DocumentTooLarge, match="177 pages"):
        workers.run(30, _too_large)


def test_no_workers_renders_in_this_process() -> None:
    assert RenderWorkers(0).run(0, pow, 3, 2) == 9
