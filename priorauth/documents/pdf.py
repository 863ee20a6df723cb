"""Turn our own HTML into PDF bytes: the one module that imports WeasyPrint.

What it guarantees, whatever the HTML carries (reference/perf-security.md §2.1):
- Resources come only from ``priorauth/assets/``, named as ``asset:<relative path>``
  and served from memory. ``file:``, ``http(s):``, ``ftp:``, ``data:`` and relative
  URLs are refused and recorded; no network handler or redirect is ever used.
- No attachments: ``<link rel=attachment>`` and ``<a rel=attachment>`` are dropped
  before the PDF is written, and the options that could add files are off.
- The PDF metadata holds only the generic title given by the caller: the HTML's
  ``<title>`` and ``<meta>`` tags never reach it, nor does the renderer's version.
- One ``FontConfiguration`` and one parsed print stylesheet per process, built
  lazily on first use, so a render pays only for layout and writing.

Time limits belong outside the render (a separate process or the WSGI server's
worker timeout); this module bounds size and nesting depth only.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from weasyprint import CSS, HTML
from weasyprint.pdf.metadata import DocumentMetadata
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from priorauth.paths import ASSETS_DIR

log = logging.getLogger(__name__)
WEASYPRINT_LOGGER = logging.getLogger("weasyprint")

ASSET_SCHEME = "asset"
PRINT_STYLESHEET = "print.css"
DEFAULT_TITLE = "Prior authorization request"

# A two-page letter is about 30 kB of HTML; far beyond these, something is wrong
# (pasted documents, runaway rows), and WeasyPrint's time grows with the input.
MAX_HTML_CHARS = 2_000_000
MAX_PAGES = 100
MAX_TITLE_CHARS = 120
_LOGGED_SCHEMES = frozenset({"asset", "file", "http", "https", "ftp", "data"})
# Only these kinds of packaged file can be served.
ASSET_SUFFIXES = frozenset({".css", ".ttf", ".otf", ".png", ".svg"})

# Set explicitly rather than relying on WeasyPrint's defaults, so a test can
# assert them and a future default change cannot turn a risky feature on.
RENDER_OPTIONS: dict[str, Any] = {
    "presentational_hints": False,  # CVE-2026-49452 class: attribute values as CSS
    "pdf_forms": False,
    "custom_metadata": False,  # would copy arbitrary <meta> tags into the PDF
    "attachments": None,
    "xmp_metadata": None,
    "optimize_images": False,
}


class DocumentTooLarge(ValueError):
    """The document is beyond what a prior-authorization packet can sensibly be."""


class MissingAsset(LookupError):
    """A template or the stylesheet names an ``asset:`` file that is not packaged."""


class RefusedFetch(ValueError):
    """A URL outside the packaged assets; WeasyPrint drops the resource."""


@dataclass(frozen=True, slots=True)
class Fetch:
    """One URL a document asked for, and whether it was served."""

    url: str
    served: bool


@dataclass(frozen=True, slots=True)
class PdfOutput:
    pdf: bytes
    page_count: int
    fetches: tuple[Fetch, ...]


@cache
def _asset_index() -> dict[str, Path]:
    """Map each servable relative path under assets/ to its file, once per process."""
    index: dict[str, Path] = {}
    root = ASSETS_DIR.resolve()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in ASSET_SUFFIXES:
            index[path.relative_to(root).as_posix()] = path
    return index


@cache
def asset_bytes(name: str) -> bytes:
    """Read one allow-listed asset, once per process."""
    return _asset_index()[name].read_bytes()


def asset_name(url: str) -> str | None:
    """Return the allow-listed asset an ``asset:`` URL names, or None.

    Only an exact match with a packaged file counts, so ``..``, absolute paths,
    percent-encoding and query strings cannot reach anything else.
    """
    scheme, sep, rest = url.partition(":")
    if not sep or scheme.lower() != ASSET_SCHEME:
        return None
    if not rest or rest.startswith("/") or any(ch in rest for ch in "\\%?#"):
        return None
    if ".." in PurePosixPath(rest).parts:
        return None
    return rest if rest in _asset_index() else None


class AssetFetcher(URLFetcher):  # type: ignore[misc]
    """Serve packaged assets from memory; refuse and record every other URL."""

    def __init__(self) -> None:
        # No protocol allowed and no redirects: the inherited urllib machinery is
        # never reached because fetch() below does not call it, and would refuse anyway.
        super().__init__(timeout=5, allowed_protocols=(), allow_redirects=False)
        self._lock = threading.Lock()
        self._fetches: list[Fetch] = []

    @property
    def fetches(self) -> tuple[Fetch, ...]:
        with self._lock:
            return tuple(self._fetches)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        name = asset_name(url)
        with self._lock:
            self._fetches.append(Fetch(url=url, served=name is not None))
        if name is None:
            scheme = url.partition(":")[0].lower() if ":" in url else ""
            # The URL may carry typed text: log a known scheme's name and nothing else.
            shown = scheme if scheme in _LOGGED_SCHEMES else "other"
            log.warning("refused a %s URL while rendering a document", shown)
            if scheme == ASSET_SCHEME:
                # Our own template or stylesheet names a missing asset: stop, don't
                # produce a letter that silently lacks its fonts.
                raise FatalURLFetchingError("unknown packaged asset")
            raise RefusedFetch("only packaged assets may be fetched")
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if name.endswith(".ttf"):
            mime = "font/ttf"
        return URLFetcherResponse(url, body=asset_bytes(name), headers={"Content-Type": mime})


@dataclass(frozen=True)
class _Resources:
    font_config: FontConfiguration
    stylesheet: CSS
    fetcher: AssetFetcher


_resources_lock = threading.Lock()
_resources: _Resources | None = None


def resources() -> _Resources:
    """The process's font configuration and parsed print stylesheet, built on first use."""
    global _resources
    if _resources is None:
        with _resources_lock:
            if _resources is None:
                fetcher = AssetFetcher()
                font_config = FontConfiguration()
                try:
                    stylesheet = CSS(
                        string=asset_bytes(PRINT_STYLESHEET).decode("utf-8"),
                        url_fetcher=fetcher,
                        font_config=font_config,
                    )
                except FatalURLFetchingError as error:
                    raise MissingAsset("the print stylesheet names a missing asset") from error
                _resources = _Resources(font_config, stylesheet, fetcher)
    return _resources


def stylesheet_fetches() -> tuple[Fetch, ...]:
    """What loading the print stylesheet fetched (its fonts), for tests and audits."""
    return resources().fetcher.fetches


def print_stylesheet_text() -> str:
    """The print stylesheet's source, for an HTML preview outside WeasyPrint."""
    return asset_bytes(PRINT_STYLESHEET).decode("utf-8")


def convert(html: str, *, title: str = DEFAULT_TITLE) -> PdfOutput:
    """Render HTML to PDF and report what the document tried to fetch."""
    if len(html) > MAX_HTML_CHARS:
        raise DocumentTooLarge(
            f"the document is {len(html):,} characters of HTML; the limit is {MAX_HTML_CHARS:,}"
        )
    shared = resources()
    fetcher = AssetFetcher()
    try:
        # base_url None: a relative URL has nothing to resolve against and is refused.
        document = HTML(string=html, base_url=None, url_fetcher=fetcher).render(
            font_config=shared.font_config, stylesheets=[shared.stylesheet], **RENDER_OPTIONS
        )
        page_count = len(document.pages)
        if page_count > MAX_PAGES:
            raise DocumentTooLarge(
                f"the document runs to {page_count} pages; the limit is {MAX_PAGES}"
            )
        # Replace whatever the HTML's <title>/<meta>/<link> put there: a neutral title,
        # no author, keywords or attachments.
        document.metadata = DocumentMetadata(title=_clean_title(title), lang="en")
        for page in document.pages:
            page.links = [link for link in page.links if link[0] != "attachment"]
        pdf = document.write_pdf(finisher=_strip_producer, **RENDER_OPTIONS)
    except RecursionError as error:
        raise DocumentTooLarge("the document is nested too deeply to lay out") from error
    except FatalURLFetchingError as error:
        # WeasyPrint's fatal error is a BaseException; callers should see an ordinary one.
        raise MissingAsset("the document names an asset that is not packaged") from error
    return PdfOutput(pdf=pdf, page_count=page_count, fetches=fetcher.fetches)


def html_to_pdf(html: str, *, title: str = DEFAULT_TITLE) -> bytes:
    """Render HTML to PDF bytes with the locked-down fetcher and the bundled fonts."""
    return convert(html, title=title).pdf


def _strip_producer(document: Any, pdf: Any) -> None:
    """Drop the /Producer entry: it names the renderer's version, which helps no reader."""
    pdf.info.pop("Producer", None)


def _clean_title(title: str) -> str:
    text = " ".join(title.split())[:MAX_TITLE_CHARS]
    return text or DEFAULT_TITLE


@contextmanager
def captured_weasyprint_messages(level: int = logging.WARNING) -> Iterator[list[logging.LogRecord]]:
    """Collect WeasyPrint's log records at ``level`` or above while the block runs.

    WeasyPrint reports a dropped image or a bad CSS rule only through its logger;
    tests use this to fail on any such message.
    """
    records: list[logging.LogRecord] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = _Collect(level)
    WEASYPRINT_LOGGER.addHandler(handler)
    try:
        yield records
    finally:
        WEASYPRINT_LOGGER.removeHandler(handler)
