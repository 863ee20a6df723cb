"""The browser tests' machinery: Debian's Chromium, a live app on a throwaway database, axe.

Shared by the end-to-end tests and ``scripts/screenshots.py`` (which takes its
pictures along the same journey). Nothing is downloaded: Playwright drives the
system's ``/usr/bin/chromium``, and the accessibility audit runs the axe-core
that the ``axe-playwright-python`` package bundles.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdf
from werkzeug.serving import make_server

from priorauth.store import db, seed
from priorauth.web import create_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE = EXAMPLES / "cidp-initial-qualifies.json"
ATTACHMENTS = EXAMPLES / "attachments"

# The day the example case is judged on (the tests' day too).
AS_OF = dt.date(2026, 11, 20)
LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The exact command scripts/ensure-system-deps.sh would run (it also runs it as root).
INSTALL_COMMAND = "sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium"
AXE_PACKAGE = "axe-playwright-python"
TIMEOUT_MS = 30_000
# axe impacts that fail a page.
FAILING_IMPACTS = frozenset({"serious", "critical"})


def chromium_problem() -> str | None:
    """Why the browser tests cannot run here, with the command that fixes it; None if they can."""
    if not Path(CHROMIUM).is_file() or not os.access(CHROMIUM, os.X_OK):
        return (
            f"Debian's Chromium is not installed ({CHROMIUM} is missing). The browser tests "
            f"need it and download no browser. Install it with:\n\n    {INSTALL_COMMAND}\n"
        )
    # Optional development tools: asked for here so a missing one reads as a reason to skip.
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed. Install the development tools: pip install -e '.[dev]'"
    try:
        import axe_playwright_python  # noqa: F401
    except ImportError:
        return (
            f"{AXE_PACKAGE} (the accessibility audit) is not installed. Install the "
            "development tools: pip install -e '.[dev]'"
        )
    return None


# --- the throwaway app ----------------------------------------------------------------------


def prepare_database(folder: Path) -> str:
    """Create, migrate and seed a SQLite database in ``folder``; return its URL."""
    url = f"sqlite:///{folder / 'priorauth.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            seed.seed_demo(session)
    finally:
        engine.dispose()
    return url


@contextmanager
def serve(database_url: str, instance: Path) -> Iterator[str]:
    """Serve the app on 127.0.0.1 and a free port in a thread; yield its base URL.

    CSRF stays on, as in a clinic: the pages' forms and the checklist's script
    must send their tokens.
    """
    previous = os.environ.get("PRIORAUTH_INSTANCE_PATH")
    os.environ["PRIORAUTH_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app(
            {
                "SECRET_KEY": "browser-tests-only-not-a-real-key",
                "PRIORAUTH_DATABASE_URL": database_url,
                "PRIORAUTH_TODAY": AS_OF,
                # Plain http on 127.0.0.1: a Secure cookie would depend on the
                # browser's leniency for localhost.
                "SESSION_COOKIE_SECURE": False,
            }
        )
    finally:
        if previous is None:
            os.environ.pop("PRIORAUTH_INSTANCE_PATH", None)
        else:
            os.environ["PRIORAUTH_INSTANCE_PATH"] = previous
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="priorauth-live-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        state = app.extensions.get("priorauth")
        if state is not None:
            state.engine.dispose()


def launch(playwright: Any) -> Any:
    """Debian's headless Chromium, never a downloaded one."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def new_page(browser: Any, viewport: dict[str, int] = LAPTOP) -> Any:
    context = browser.new_context(
        viewport=viewport,
        device_scale_factor=1,
        locale="en-US",
        timezone_id="UTC",
        color_scheme="light",
        reduced_motion="reduce",
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


# --- the accessibility audit ------------------------------------------------------------------


@dataclass
class Auditor:
    """Runs axe-core on a page and keeps every serious or critical violation it finds.

    Frames are not entered: the document previews are sandboxed without scripts
    (they are print documents, not the app's pages), so axe could not run there.
    """

    audited: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _axe: Any = None

    def __call__(self, page: Any, name: str) -> None:
        if self._axe is None:
            # Optional like Playwright (see chromium_problem); needed only once pages run.
            from axe_playwright_python.sync_playwright import Axe

            self._axe = Axe()
        results = self._axe.run(page, options={"resultTypes": ["violations"], "iframes": False})
        self.audited.append(page.url)
        for violation in results.response["violations"]:
            if violation.get("impact") not in FAILING_IMPACTS:
                continue
            targets = "; ".join(
                " ".join(str(t) for t in node.get("target", ())) for node in violation["nodes"][:6]
            )
            self.problems.append(
                f"{name} ({page.url}): {violation['id']} [{violation['impact']}] "
                f"{violation['help']} — {targets}"
            )


def pdf_text(path: Path | bytes) -> tuple[str, int]:
    """The text of a PDF (whitespace collapsed) and its page count."""
    data = path.read_bytes() if isinstance(path, Path) else path
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text), len(reader.pages)
