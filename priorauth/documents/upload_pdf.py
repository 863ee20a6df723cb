"""An uploaded PDF, opened under explicit limits and rewritten with only its pages' content.

A PDF is small on the wire and can be enormous once read: a 300 KB file whose
streams inflate to 300 MB, or twenty pages of 70 MB drawing instructions each,
brings down whatever later reads it (the packet merge decodes every page's
content). So before anything else reads it, every stream the pages reach is
decoded here in chunks, counting and discarding the output, and the file is
refused as soon as a limit is passed. The limits are per file:

- pages (``MAX_PDF_PAGES``), objects (``MAX_PDF_OBJECTS``);
- bytes once decoded, all streams together (``MAX_PDF_DECODED_BYTES``) and the
  non-image streams alone, the page content the merge parses
  (``MAX_PDF_CONTENT_BYTES``);
- pixels per embedded image (``MAX_PDF_IMAGE_PIXELS``).

What is kept is rebuilt, not filtered: a new PDF gets, for each page, its size,
rotation, resources and content, with form fields and annotations first drawn
into the content (their appearance is what a reader sees). Nothing else is
copied: no document or page actions (JavaScript, /OpenAction, /AA, /Next chains
on fields), no form, no embedded files, no outline, links or metadata.
perf-security.md §2.1 asks for exactly this ("keep only page content").
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pikepdf

MiB = 1024 * 1024
MAX_PDF_PAGES = 60
MAX_PDF_OBJECTS = 100_000
MAX_PDF_DECODED_BYTES = 200 * MiB
MAX_PDF_CONTENT_BYTES = 48 * MiB
MAX_PDF_IMAGE_PIXELS = 40_000_000
# A page edge above 200 inches is not a page (the PDF format's own limit is 200 in).
MAX_PAGE_EDGE_PT = 14_400
_CHUNK_BYTES = 64 * 1024

# Image codecs: the stream stays compressed in the packet; a reader decodes it
# to width x height pixels, which the pixel limit bounds.
_IMAGE_CODECS = frozenset({"/DCTDecode", "/JPXDecode", "/CCITTFaxDecode", "/JBIG2Decode"})
# The most another filter can multiply a stream's size by; a stream whose bound
# passes what is left of the budget is refused without decoding it.
# (LZW: a 12-bit code stands for at most 3,840 bytes; RunLength: 2 bytes -> 128.)
_EXPANSION_BOUND = {
    "/LZWDecode": 2_600,
    "/RunLengthDecode": 64,
    "/ASCIIHexDecode": 1,
    "/ASCII85Decode": 1,
}
# What a rebuilt page keeps of its own dictionary.
_PAGE_KEYS = ("/MediaBox", "/CropBox", "/Rotate", "/UserUnit")


class PdfRefused(ValueError):
    """The PDF cannot be attached; the message says why ("the PDF " + message)."""


@dataclass(frozen=True)
class CleanPdf:
    """What was kept of an uploaded PDF, and what the checks counted."""

    pages: int
    decoded_bytes: int


def _filters(stream: pikepdf.Stream) -> list[str]:
    found = stream.get("/Filter")
    if found is None:
        return []
    if isinstance(found, pikepdf.Array):
        return [str(item) for item in found]
    return [str(found)]


def _inflated_size(raw: bytes, cap: int) -> int:
    """How many bytes a Flate stream inflates to, stopping just past ``cap``.

    Chained Flate filters are counted by their first stage only: a second stage
    can only be fed what the first produced, so the first cap still holds it.
    A stream that is damaged partway counts what it gave before the damage
    (readers and the rewrite treat it the same way).
    """
    inflater = zlib.decompressobj()
    total = 0
    for start in range(0, len(raw), _CHUNK_BYTES):
        pending = raw[start : start + _CHUNK_BYTES]
        while pending:
            try:
                out = inflater.decompress(pending, _CHUNK_BYTES)
            except zlib.error:
                return total
            total += len(out)
            if total > cap:
                return total
            pending = inflater.unconsumed_tail
            if inflater.eof:
                return total
    return total


def _reachable_streams(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Stream]:
    """Every stream the pages reach (contents, resources, annotations), each once."""
    seen: set[tuple[int, int]] = set()
    pending: list[object] = [page.obj for page in pdf.pages]
    visited = 0
    while pending:
        item = pending.pop()
        # Numbers, names and strings come back as plain Python values: nothing to follow.
        if not isinstance(item, pikepdf.Dictionary | pikepdf.Stream | pikepdf.Array):
            continue
        if item.is_indirect:
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise PdfRefused(f"has more than {MAX_PDF_OBJECTS:,} objects")
        if isinstance(item, pikepdf.Stream):
            yield item
        if isinstance(item, pikepdf.Array):
            pending.extend(item)
        else:
            pending.extend(value for key, value in item.items() if key != "/Parent")


def _measure(pdf: pikepdf.Pdf) -> int:
    """Decode every stream the pages reach within the limits; the bytes decoded in all."""
    total = 0
    content = 0
    for stream in _reachable_streams(pdf):
        filters = _filters(stream)
        is_image = stream.get("/Subtype") == pikepdf.Name.Image
        if is_image:
            width, height = int(stream.get("/Width", 0)), int(stream.get("/Height", 0))
            if width * height > MAX_PDF_IMAGE_PIXELS:
                raise PdfRefused(
                    f"holds an image of {width} × {height} pixels; the limit is "
                    f"{MAX_PDF_IMAGE_PIXELS // 1_000_000} million pixels"
                )
        raw = stream.read_raw_bytes()
        left = MAX_PDF_DECODED_BYTES - total
        if not filters or (len(filters) == 1 and filters[0] in _IMAGE_CODECS):
            size = len(raw)
        elif filters[0] == "/FlateDecode":
            size = _inflated_size(raw, left)
        else:
            bound = len(raw)
            for name in filters:
                bound *= 1 if name in _IMAGE_CODECS else _EXPANSION_BOUND.get(name, 0)
            if bound == 0:
                raise PdfRefused(f"uses a compression ({', '.join(filters)}) not accepted")
            size = len(stream.read_bytes()) if bound <= left else bound
        total += size
        if not is_image:
            content += size
        if total > MAX_PDF_DECODED_BYTES or content > MAX_PDF_CONTENT_BYTES:
            break
    if content > MAX_PDF_CONTENT_BYTES:
        raise PdfRefused(
            f"holds more than {MAX_PDF_CONTENT_BYTES // MiB} MB of drawing "
            "instructions once decompressed; print it to PDF again or scan it"
        )
    if total > MAX_PDF_DECODED_BYTES:
        raise PdfRefused(
            f"decompresses to more than {MAX_PDF_DECODED_BYTES // MiB} MB; "
            "print it to PDF again or scan it"
        )
    return total


def _check_pages(pdf: pikepdf.Pdf) -> int:
    count = len(pdf.pages)
    if count == 0:
        raise PdfRefused("has no pages")
    if count > MAX_PDF_PAGES:
        raise PdfRefused(f"has {count} pages; the limit is {MAX_PDF_PAGES} per file")
    for page in pdf.pages:
        box = page.mediabox
        width, height = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
        if not (0 < abs(width) <= MAX_PAGE_EDGE_PT and 0 < abs(height) <= MAX_PAGE_EDGE_PT):
            raise PdfRefused("has a page with no usable size; it is damaged")
    return count


def _draw_annotations(pdf: pikepdf.Pdf) -> None:
    """Draw filled fields and visible annotations into the page content.

    A form's filled values live in its fields' appearances; dropping the fields
    without this would drop the values a lab report was filled in with.
    """
    try:
        if "/AcroForm" in pdf.Root:
            pdf.generate_appearance_streams()
        pdf.flatten_annotations("print")
    except (pikepdf.PdfError, ValueError, TypeError):
        # An appearance that cannot be drawn is dropped with its annotation below.
        return


def _rebuilt(source: pikepdf.Pdf) -> pikepdf.Pdf:
    """A new PDF with each page's size, rotation, resources and content, and nothing else."""
    clean = pikepdf.new()
    for page in source.pages:
        # What a page inherits from the page tree is not copied with it: make it its own.
        for key in (*_PAGE_KEYS, "/Resources"):
            if key not in page.obj:
                inherited = page._get_inherited(key)
                if inherited is not None:
                    page.obj[key] = inherited
        clean.pages.append(page)
        copied = clean.pages[-1].obj
        for key in list(copied.keys()):
            if key not in (*_PAGE_KEYS, "/Type", "/Resources", "/Contents", "/Parent"):
                del copied[key]
    return clean


def clean_pdf(source: BinaryIO, output: BinaryIO) -> CleanPdf:
    """Check an uploaded PDF within the limits and write its clean rebuild to ``output``.

    Raise ``PdfRefused`` (its message for the person uploading) when it passes a
    limit, is damaged or needs a password.
    """
    try:
        with pikepdf.open(source, password="") as pdf:
            if len(pdf.objects) > MAX_PDF_OBJECTS:
                raise PdfRefused(f"has more than {MAX_PDF_OBJECTS:,} objects")
            pages = _check_pages(pdf)
            source_version = pdf.pdf_version
            _draw_annotations(pdf)
            decoded = _measure(pdf)
            with _rebuilt(pdf) as clean:
                # Streams are copied as they are: decoding and recompressing them
                # would cost time and change what was checked.
                clean.save(
                    output,
                    stream_decode_level=pikepdf.StreamDecodeLevel.none,
                    fix_metadata_version=False,
                    deterministic_id=True,
                    min_version=source_version,
                )
    except pikepdf.PasswordError as error:
        raise PdfRefused("is password-protected; attach a copy without a password") from error
    except (pikepdf.PdfError, RecursionError, KeyError, ValueError, TypeError) as error:
        if isinstance(error, PdfRefused):
            raise
        raise PdfRefused("cannot be read (it is damaged or not really a PDF)") from error
    return CleanPdf(pages=pages, decoded_bytes=decoded)
