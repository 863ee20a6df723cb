"""`priorauth serve`: the web app under gunicorn, one application loaded before forking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication

if TYPE_CHECKING:
    from flask import Flask


class _Server(BaseApplication):  # type: ignore[misc]
    """Gunicorn with its settings given here, not read from the command line."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)
        self.cfg.set("post_fork", _post_fork)
        # Gunicorn 25.1+ opens a control socket at one fixed path per user: a
        # second server (another port, the tests) would take it over. Not used here.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        return self.application


def _post_fork(_server: Any, worker: Any) -> None:
    """A worker opens database connections of its own, never the parent's.

    SQLAlchemy's advice for forked processes: drop the inherited pool without
    closing the parent's connections.
    """
    state = worker.app.application.extensions.get("priorauth")
    if state is not None:
        state.engine.dispose(close=False)


def run(app: Flask, options: dict[str, Any]) -> None:
    """Serve until stopped (Ctrl-C or SIGTERM)."""
    _Server(app, options).run()
