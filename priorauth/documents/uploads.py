"""Check an uploaded file before it goes into a packet: its type, its size, that it opens.

The web layer hands over the file (spooled to disk, or bytes) and the type the
browser declared; nothing here touches the case. A file is accepted only when
its first bytes say it is what was declared (PDF, PNG or JPEG), it is within
the size limits, and it opens completely within explicit limits: a PDF is
decoded under limits of pages, objects and decompressed bytes and kept as a
clean rebuild of its pages (``upload_pdf``); an image is decoded in full under
a pixel limit, and one cut short or carrying another file is refused
(``upload_image``). A refusal's message says what to do. The result records
what was kept (``Attachment``, the domain's metadata) beside its bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, BinaryIO, cast

from priorauth.domain.denial import MEDIA_TYPE_LABELS, Attachment, MediaType

from .upload_image import ImageRefused, check_image
from .upload_pdf import MAX_PDF_PAGES, PdfRefused, clean_pdf

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# What one packet takes in all.
MAX_UPLOADS = 20
MAX_PACKET_UPLOAD_BYTES = 40 * 1024 * 1024
MAX_UPLOAD_PAGES = MAX_PDF_PAGES
MAX_FILENAME_CHARS = 120

# What a browser or a person may call each type.
DECLARED_TYPES: dict[str, MediaType] = {
    "application/pdf": MediaType.PDF,
    "application/x-pdf": MediaType.PDF,
    "pdf": MediaType.PDF,
    "image/png": MediaType.PNG,
    "png": MediaType.PNG,
    "image/jpeg": MediaType.JPEG,
    "image/jpg": MediaType.JPEG,
    "image/pjpeg": MediaType.JPEG,
    "jpeg": MediaType.JPEG,
    "jpg": MediaType.JPEG,
}
_MAGIC = (
    (b"%PDF-", MediaType.PDF),
    (b"\x89PNG\r\n\x1a\n", MediaType.PNG),
    (b"\xff\xd8\xff", MediaType.JPEG),
)


class UploadRejected(ValueError):
    """An uploaded file cannot go into a packet; the message says why and what to do."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason


@dataclass(frozen=True)
class Upload:
    """A file as the web layer receives it: its name, the declared type, its bytes."""

    filename: str
    declared_type: str
    data: bytes = b""
    enclosure_id: str | None = None
    title: str = ""
    # A file the web layer spooled to disk, read from instead of ``data``.
    stream: IO[bytes] | None = None


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed every check, with what the checks found."""

    attachment: Attachment
    data: bytes


def clean_filename(name: str) -> str:
    """The file's own name, without folders or control characters, short enough to print."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if len(base) > MAX_FILENAME_CHARS:
        stem, dot, suffix = base.rpartition(".")
        keep = MAX_FILENAME_CHARS - len(suffix) - 2
        base = (
            f"{stem[:keep]}…{dot}{suffix}"
            if dot and len(suffix) <= 5
            else base[:MAX_FILENAME_CHARS]
        )
    return base or "attachment"


def sniff(data: bytes) -> MediaType | None:
    """The type the file's first bytes announce, if it is one we accept."""
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _pdf_kept(name: str, source: IO[bytes], size: int) -> tuple[bytes, int]:
    """The PDF rebuilt with only its pages' content, and its page count."""
    source.seek(max(0, size - 2048))
    if b"%%EOF" not in source.read():
        raise UploadRejected(
            name, "the PDF is incomplete (its end is missing); download or scan it again"
        )
    source.seek(0)
    # The rebuild goes to disk, then is read once: the file is never in memory twice.
    with tempfile.TemporaryFile() as output:
        try:
            cleaned = clean_pdf(cast(BinaryIO, source), output)
        except PdfRefused as error:
            raise UploadRejected(name, f"the PDF {error}") from error
        output.seek(0)
        return output.read(), cleaned.pages


def _image_kept(name: str, source: IO[bytes], kind: MediaType) -> bytes:
    data = source.read()
    try:
        check_image(data, png=kind is MediaType.PNG)
    except ImageRefused as error:
        raise UploadRejected(name, f"the {MEDIA_TYPE_LABELS[kind]} {error}") from error
    return data


def check_upload(upload: Upload, *, max_bytes: int = MAX_UPLOAD_BYTES) -> CheckedUpload:
    """Check one upload's declared type, real type, size and integrity; keep what is safe.

    A PDF is kept as its clean rebuild (``upload_pdf``), an image as sent once it
    decoded in full (``upload_image``); the size and hash are those of what is kept.
    """
    name = clean_filename(upload.filename)
    source: IO[bytes] = upload.stream if upload.stream is not None else io.BytesIO(upload.data)
    size = source.seek(0, io.SEEK_END)
    source.seek(0)
    if size == 0:
        raise UploadRejected(name, "the file is empty")
    if size > max_bytes:
        raise UploadRejected(
            name, f"the file is {_megabytes(size)}; the limit is {_megabytes(max_bytes)} per file"
        )
    declared = DECLARED_TYPES.get(upload.declared_type.strip().lower())
    if declared is None:
        raise UploadRejected(
            name,
            f"only PDF, PNG and JPEG files can be attached, not {upload.declared_type!r}",
        )
    actual = sniff(source.read(16))
    source.seek(0)
    if actual is None:
        raise UploadRejected(
            name,
            f"declared as a {MEDIA_TYPE_LABELS[declared]}, but the contents are not a PDF, "
            "PNG or JPEG file; it may be damaged or another kind of file",
        )
    if actual is not declared:
        raise UploadRejected(
            name,
            f"declared as a {MEDIA_TYPE_LABELS[declared]}, but the contents are a "
            f"{MEDIA_TYPE_LABELS[actual]}; check that the right file was chosen",
        )
    if actual is MediaType.PDF:
        data, pages = _pdf_kept(name, source, size)
    else:
        data, pages = _image_kept(name, source, actual), 1
    attachment = Attachment(
        filename=name,
        media_type=actual,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        pages=pages,
        enclosure_id=upload.enclosure_id,
        title=upload.title,
    )
    return CheckedUpload(attachment=attachment, data=data)


def check_uploads(
    uploads: Sequence[Upload | CheckedUpload],
    allowed_enclosures: Mapping[str, str],
) -> tuple[CheckedUpload, ...]:
    """Check every upload and a packet's limits before anything is rendered."""
    if len(uploads) > MAX_UPLOADS:
        raise UploadRejected(
            "attachments", f"{len(uploads)} files; a packet takes at most {MAX_UPLOADS}"
        )
    checked = tuple(u if isinstance(u, CheckedUpload) else check_upload(u) for u in uploads)
    total = sum(c.attachment.size_bytes for c in checked)
    if total > MAX_PACKET_UPLOAD_BYTES:
        raise UploadRejected(
            "attachments",
            f"{total / 1048576:.1f} MB in all; a packet takes at most "
            f"{MAX_PACKET_UPLOAD_BYTES // 1048576} MB of attachments",
        )
    for item in checked:
        enclosure = item.attachment.enclosure_id
        if enclosure is not None and enclosure not in allowed_enclosures:
            raise UploadRejected(
                item.attachment.filename,
                f"there is no enclosure {enclosure!r} for this request; choose one of "
                f"{', '.join(sorted(allowed_enclosures))}, or none",
            )
    return checked
