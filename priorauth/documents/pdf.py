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

Two deliberate, narrow exceptions, both for content our own code supplies:
- ``images``: checked upload bytes (PNG or JPEG, see uploads.py) served under
  ``upload:<key>`` to our own attachment-page template, never any other URL;
- ``record``: exactly one JSON file embedded in a PDF/A-3b document, the
  document's own machine-readable record (the case data). Nothing in the HTML
  can add an attachment, whatever the variant.

Time limits belong outside the render (a separate process or the WSGI server's
worker timeout); this module bounds size and nesting depth only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import mimetypes
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from weasyprint import CSS, HTML, Attachment
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


UPLOAD_SCHEME = "upload"
IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
# The archival variant, and the only one that may carry the document's record.
PDFA_VARIANT = "pdf/a-3b"
MAX_RECORD_BYTES = 5_000_000
_RECORD_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,60}\.json$")
_XMP_PRODUCER = re.compile(rb'\s+pdf:Producer="[^"]*"')


@dataclass(frozen=True, slots=True)
class RecordFile:
    """The one JSON file a PDF/A-3b document carries: what produced it."""

    name: str
    data: bytes
    description: str
    created: dt.datetime


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
    # Where each element with an id landed: page (from 0), then its left edge, top
    # edge and right edge in PDF points from the page's lower left (e.g. the
    # letter's signature line, where the digital signature goes).
    anchors: Mapping[str, tuple[int, float, float, float]] = field(default_factory=dict)


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


class _UploadFetcher(AssetFetcher):
    """Also serve checked upload images, by key, under ``upload:<key>``."""

    def __init__(self, images: Mapping[str, tuple[bytes, str]]) -> None:
        super().__init__()
        self._images = dict(images)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme, sep, key = url.partition(":")
        if sep and scheme.lower() == UPLOAD_SCHEME and key in self._images:
            body, mime = self._images[key]
            with self._lock:
                self._fetches.append(Fetch(url=url, served=True))
            return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})
        return super().fetch(url, headers)


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


def convert(
    html: str,
    *,
    title: str = DEFAULT_TITLE,
    images: Mapping[str, tuple[bytes, str]] | None = None,
    variant: str | None = None,
    record: RecordFile | None = None,
) -> PdfOutput:
    """Render HTML to PDF and report what the document tried to fetch.

    ``images`` maps keys to checked image bytes and their type, served as
    ``upload:<key>``; ``variant`` may be PDF/A-3b, which alone may carry ``record``.
    """
    if len(html) > MAX_HTML_CHARS:
        raise DocumentTooLarge(
            f"the document is {len(html):,} characters of HTML; the limit is {MAX_HTML_CHARS:,}"
        )
    options = dict(RENDER_OPTIONS)
    if variant is not None:
        if variant != PDFA_VARIANT:
            raise ValueError(f"unsupported PDF variant {variant!r}; only {PDFA_VARIANT}")
        options["pdf_variant"] = variant
    if record is not None and variant != PDFA_VARIANT:
        raise ValueError("only a PDF/A-3b document carries a record")
    for key, (_, mime) in (images or {}).items():
        if mime not in IMAGE_TYPES or not re.fullmatch(r"[a-z0-9]{1,16}", key):
            raise ValueError("images are PNG or JPEG under a short lower-case key")
    shared = resources()
    fetcher = _UploadFetcher(images) if images else AssetFetcher()
    attachments = [_record_attachment(record, fetcher)] if record is not None else None
    try:
        # base_url None: a relative URL has nothing to resolve against and is refused.
        document = HTML(string=html, base_url=None, url_fetcher=fetcher).render(
            font_config=shared.font_config, stylesheets=[shared.stylesheet], **options
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
        options["attachments"] = attachments
        finisher = _strip_producer if variant is None else _strip_producer_and_xmp_producer
        pdf = document.write_pdf(finisher=finisher, **options)
        anchors = _anchors(document)
    except RecursionError as error:
        raise DocumentTooLarge("the document is nested too deeply to lay out") from error
    except FatalURLFetchingError as error:
        # WeasyPrint's fatal error is a BaseException; callers should see an ordinary one.
        raise MissingAsset("the document names an asset that is not packaged") from error
    return PdfOutput(pdf=pdf, page_count=page_count, fetches=fetcher.fetches, anchors=anchors)


# CSS pixels per PDF point: WeasyPrint lays out at 96 px per inch, PDF counts 72 points.
_PT_PER_PX = 0.75


def _anchors(document: Any) -> dict[str, tuple[int, float, float, float]]:
    """Each id's first box, converted to PDF points from the page's lower left."""
    found: dict[str, tuple[int, float, float, float]] = {}
    for index, page in enumerate(document.pages):
        for name, (left, top, right, _bottom) in page.anchors.items():
            found.setdefault(
                name,
                (index, left * _PT_PER_PX, (page.height - top) * _PT_PER_PX, right * _PT_PER_PX),
            )
    return found


def _record_attachment(record: RecordFile, fetcher: AssetFetcher) -> Attachment:
    """The record as a PDF/A-3 associated file; checked, since it ends up inside the PDF."""
    if not _RECORD_NAME.match(record.name):
        raise ValueError("a record's name is lower-case letters, digits and '-', ending .json")
    if len(record.data) > MAX_RECORD_BYTES:
        raise DocumentTooLarge(
            f"the record is {len(record.data):,} bytes; the limit is {MAX_RECORD_BYTES:,}"
        )
    json.loads(record.data)  # a record is JSON, or it is not embedded at all
    return Attachment(
        string=record.data,
        name=record.name,
        description=_clean_title(record.description),
        created=record.created,
        modified=record.created,
        relationship="Data",
        url_fetcher=fetcher,
    )


def _strip_producer_and_xmp_producer(document: Any, pdf: Any) -> None:
    """PDF/A: also drop the renderer's name from the XMP packet, as from /Info.

    And list each associated file once: WeasyPrint 70 adds the record to /AF twice.
    """
    _strip_producer(document, pdf)
    associated = pdf.catalog.get("AF")
    if associated is not None:
        unique = list(dict.fromkeys(associated))
        associated.clear()
        associated.extend(unique)
    reference = pdf.catalog.get("Metadata")
    if reference is None:
        return
    stream = pdf.objects[int(reference.split()[0])]
    stream.stream = [
        _XMP_PRODUCER.sub(b"", chunk) if isinstance(chunk, bytes) else chunk
        for chunk in stream.stream
    ]


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
