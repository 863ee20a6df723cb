"""Check an uploaded file before it goes into a packet: its type, its size, that it opens.

The web layer hands over the bytes and the type the browser declared; nothing
here reads a path or touches the case. A file is accepted only when its first
bytes say it is what was declared (PDF, PNG or JPEG), it is within the size
limits, and it opens completely: a truncated PDF, a PNG with a bad chunk or a
JPEG cut short is refused with a message a person can act on, and so is a
password-protected PDF. The result records what was checked (``Attachment``,
the domain's metadata) beside the bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PIL import Image  # WeasyPrint's own image library
from pypdf import PdfReader

from priorauth.domain.denial import MEDIA_TYPE_LABELS, Attachment, MediaType

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# What one packet takes in all.
MAX_UPLOADS = 20
MAX_PACKET_UPLOAD_BYTES = 40 * 1024 * 1024
MAX_UPLOAD_PAGES = 60
MAX_IMAGE_PIXELS = 40_000_000
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
    data: bytes
    enclosure_id: str | None = None
    title: str = ""


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


def _pdf_pages(name: str, data: bytes) -> int:
    if b"%%EOF" not in data[-2048:]:
        raise UploadRejected(
            name, "the PDF is incomplete (its end is missing); download or scan it again"
        )
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UploadRejected(
                name, "the PDF is password-protected; attach a copy without a password"
            )
        pages = len(reader.pages)
        for page in reader.pages:
            box = page.mediabox
            if box.width <= 0 or box.height <= 0:
                raise UploadRejected(name, "a page of the PDF has no size; it is damaged")
    except UploadRejected:
        raise
    except Exception as error:  # pypdf raises many kinds of error on a damaged file
        raise UploadRejected(
            name, "the PDF cannot be read (it is damaged or not really a PDF)"
        ) from error
    if pages == 0:
        raise UploadRejected(name, "the PDF has no pages")
    if pages > MAX_UPLOAD_PAGES:
        raise UploadRejected(
            name, f"the PDF has {pages} pages; the limit is {MAX_UPLOAD_PAGES} per file"
        )
    return pages


def _check_image(name: str, data: bytes, kind: MediaType) -> None:
    label = MEDIA_TYPE_LABELS[kind]
    # A file cut short often still decodes (libjpeg fills the rest with grey): check its end.
    end = b"IEND" if kind is MediaType.PNG else b"\xff\xd9"
    if end not in data[-1024:]:
        raise UploadRejected(
            name, f"the {label} cannot be read (it is damaged or incomplete: its end is missing)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise UploadRejected(
                        name,
                        f"the image is {width} × {height} pixels; the limit is "
                        f"{MAX_IMAGE_PIXELS // 1_000_000} million pixels; scan it at a lower "
                        "resolution",
                    )
                image.verify()
            # verify() leaves the image unusable; decode it fully to catch a truncated file.
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadRejected(name, "the image is too large to open safely") from error
    except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError…
        raise UploadRejected(
            name, f"the {label} cannot be read (it is damaged or incomplete)"
        ) from error


def check_upload(upload: Upload, *, max_bytes: int = MAX_UPLOAD_BYTES) -> CheckedUpload:
    """Check one upload's declared type, real type, size and integrity; never change it."""
    name = clean_filename(upload.filename)
    size = len(upload.data)
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
    actual = sniff(upload.data)
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
        pages = _pdf_pages(name, upload.data)
    else:
        _check_image(name, upload.data, actual)
        pages = 1
    attachment = Attachment(
        filename=name,
        media_type=actual,
        size_bytes=size,
        sha256=hashlib.sha256(upload.data).hexdigest(),
        pages=pages,
        enclosure_id=upload.enclosure_id,
        title=upload.title,
    )
    return CheckedUpload(attachment=attachment, data=upload.data)


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
