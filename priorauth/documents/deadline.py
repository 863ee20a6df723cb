"""Renders in worker processes this process can stop: a wall-clock limit on every render.

A render is CPU-bound layout in WeasyPrint; a thread cannot be stopped, a process
can. Each web worker keeps its render processes warm (WeasyPrint imported, fonts
configured after their first render) and hands each render to an idle one with a
deadline. One per web worker by default: renders in one process were serialized
by the interpreter's lock before, so web workers (gunicorn -w) stay what scales
them, each render within its worker's share of the machine. A render that passes
its deadline is stopped by ending its process, which is then replaced; the
caller gets ``RenderStopped`` and says so in words. Processes come from a fork
server that has already imported the documents layer: a fresh one starts
quickly, and none is forked from a process running threads.

``workers=0`` renders in the calling process without a limit (the test client,
tests that replace a renderer).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from .uploads import UploadRejected

T = TypeVar("T")
DEFAULT_RENDER_SECONDS = 60
# How long a new render process may take to start (import, not render).
_START_SECONDS = 60
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["priorauth.documents", "priorauth.documents.packet"])


class RenderStopped(RuntimeError):
    """A render passed its time limit (or no render process came free in time)."""


def _serve(connection: Connection) -> None:
    """A render process: run each job sent and send back its result or its error."""
    connection.send(("ready", None))
    while True:
        try:
            function, args, kwargs = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", function(*args, **kwargs))
        except UploadRejected as error:  # its constructor takes two arguments
            reply = ("upload", (error.filename, error.reason))
        except Exception as error:
            reply = ("error", error)
        connection.send(reply)


class _Worker:
    def __init__(self) -> None:
        self.connection, child = _context.Pipe()
        self.process: BaseProcess = _context.Process(
            target=_serve, args=(child,), daemon=True, name="priorauth-render"
        )
        self.process.start()
        child.close()
        if not self.connection.poll(_START_SECONDS):
            self.stop()
            raise RenderStopped("no render process could be started")
        self.connection.recv()

    def stop(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class RenderWorkers:
    """At most ``size`` renders at a time, each in a process stopped at its deadline."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(max(1, size))
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def run(self, seconds: float, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` in a render process, stopped after ``seconds``.

        Waiting for a free process has a limit of its own, as long: a queue of
        renders makes each wait, not fail, unless the wait itself is too long.
        """
        if self.size <= 0:
            return function(*args, **kwargs)
        if not self._slots.acquire(timeout=seconds):
            raise RenderStopped("every render process stayed busy")
        try:
            worker = self._take()
            try:
                worker.connection.send((function, args, kwargs))
                if not worker.connection.poll(seconds):
                    raise RenderStopped(f"the render took longer than {seconds:g} s")
                status, value = worker.connection.recv()
            except BaseException:
                worker.stop()
                raise
            with self._lock:
                self._idle.append(worker)
        finally:
            self._slots.release()
        if status == "upload":
            raise UploadRejected(*value)
        if status == "error":
            raise value
        return value

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive():
                    return worker
                worker.stop()
        return _Worker()

    def close(self) -> None:
        with self._lock:
            for worker in self._idle:
                worker.stop()
            self._idle.clear()


_pools: dict[int, RenderWorkers] = {}
_pools_lock = threading.Lock()


def render_workers(size: int) -> RenderWorkers:
    """This process's render workers of that size (one set per process, shared by apps)."""
    with _pools_lock:
        if size not in _pools:
            _pools[size] = RenderWorkers(size)
        return _pools[size]
