"""An uploaded PNG or JPEG, decoded in full under a pixel limit before it is kept.

Three ways a picture passes a quick look and is still not one:

- it is cut short: a PNG then fails to decode; a JPEG decodes anyway (libjpeg
  fills what is missing with flat colour and only warns), even when its end
  marker was added back. So the JPEG is decoded twice, the second time with
  filler bytes before its end marker: a complete file never reads them (the
  last block was decoded before them), a file cut short decodes them as its
  missing data and comes out different;
- it carries another file: bytes after its end (a ZIP or a PDF appended), or a
  PDF header within its first kilobyte, where PDF readers look for one;
- it is too large to decode safely (``MAX_IMAGE_PIXELS``).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from typing import Any

from PIL import Image  # WeasyPrint's own image library

MAX_IMAGE_PIXELS = 40_000_000
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_JPEG_END = b"\xff\xd9"
# Padding after the end marker (scanners and cameras fill to a block size).
_PADDING = b"\x00\r\n \t"
_FILLER = b"\x55" * 4096
# PDF readers accept a header anywhere in the first 1,024 bytes.
_PDF_HEADER_WINDOW = 1024


class _Joined(io.RawIOBase):
    """Byte buffers read as one file without copying them together (an upload is 10 MB)."""

    def __init__(self, *parts: bytes | memoryview) -> None:
        self._parts = [memoryview(part) for part in parts]
        self._size = sum(len(part) for part in self._parts)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        start = self._position
        target = memoryview(buffer).cast("B")
        for part in self._parts:
            if start >= len(part):
                start -= len(part)
                continue
            count = min(len(target), len(part) - start)
            target[:count] = part[start : start + count]
            self._position += count
            return count
        return 0


class ImageRefused(ValueError):
    """The image cannot be attached; the message says why ("the PNG image " + message)."""


def _end_checked(data: bytes, end: bytes) -> int:
    """Where the image's own bytes end; refuse a file cut short or carrying more after it."""
    stripped = len(data.rstrip(_PADDING)) if end == _JPEG_END else len(data)
    if data[:stripped].endswith(end):
        return stripped
    if end in data:
        raise ImageRefused(
            "has more data after the end of the picture (another file may be hidden "
            "in it); save or scan it again as a plain image"
        )
    raise ImageRefused("cannot be read (it is damaged or incomplete: its end is missing)")


def _decoded_digest(data: _Joined, *, reduced: bool) -> str:
    with Image.open(io.BufferedReader(data)) as image:
        if reduced:
            # The 1/8 scale still reads every coded block; it is 64 times less to keep.
            image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
        return hashlib.sha256(image.tobytes()).hexdigest()


def _jpeg_complete(data: bytes, end_at: int) -> bool:
    """Whether every block of the JPEG is in the file (see the module's docstring)."""
    with Image.open(io.BytesIO(data)) as image:
        # A progressive file's last scans refine detail only: compare at full scale.
        reduced = not (image.info.get("progressive") or image.info.get("progression"))
    whole = memoryview(data)
    as_sent = _decoded_digest(_Joined(whole[:end_at]), reduced=reduced)
    padded = _decoded_digest(
        _Joined(whole[: end_at - len(_JPEG_END)], _FILLER, _JPEG_END), reduced=reduced
    )
    return as_sent == padded


def check_image(data: bytes, *, png: bool) -> None:
    """Decode a PNG or JPEG in full; raise ``ImageRefused`` with the reason if it is not sound."""
    if b"%PDF-" in data[:_PDF_HEADER_WINDOW]:
        raise ImageRefused(
            "is also readable as a PDF (another file is hidden in it); save or scan it "
            "again as a plain image"
        )
    end_at = _end_checked(data, _PNG_END if png else _JPEG_END)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ImageRefused(
                        f"is {width} × {height} pixels; the limit is "
                        f"{MAX_IMAGE_PIXELS // 1_000_000} million pixels; scan it at a lower "
                        "resolution"
                    )
                image.load()
        complete = png or _jpeg_complete(data, end_at)
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused("is too large to open safely") from error
    except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError...
        raise ImageRefused("cannot be read (it is damaged or incomplete)") from error
    if not complete:
        raise ImageRefused(
            "cannot be read completely: part of the picture is missing (the file was cut short); "
            "save or scan it again"
        )
