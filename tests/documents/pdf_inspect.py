"""Read a PDF the way a reviewer or an attacker would: its text, metadata and every stream."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text(pdf: bytes) -> str:
    """All pages' text, whitespace collapsed to single spaces."""
    pages = reader(pdf).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def squeezed(value: str) -> str:
    """Drop all whitespace, so a line wrapped mid-word still matches."""
    return "".join(value.split())


def walk(pdf: bytes) -> tuple[list[DictionaryObject], list[bytes]]:
    """Every dictionary reachable from the trailer, and every stream's decoded bytes."""
    pdf_reader = reader(pdf)
    dictionaries: list[DictionaryObject] = []
    streams: list[bytes] = []
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [pdf_reader.trailer]
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        if isinstance(node, DictionaryObject):
            dictionaries.append(node)
            if isinstance(node, StreamObject):
                streams.append(node.get_data())
            stack.extend(node.values())
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return dictionaries, streams


def embedded_files(pdf: bytes) -> list[str]:
    """Names of anything that embeds a file: /EmbeddedFiles trees, /Filespec, file annotations."""
    found = []
    dictionaries, _ = walk(pdf)
    for d in dictionaries:
        if "/EmbeddedFiles" in d:
            found.append("/EmbeddedFiles")
        if d.get("/Type") == "/Filespec" or "/EF" in d:
            found.append("/Filespec")
        if d.get("/Subtype") == "/FileAttachment":
            found.append("/FileAttachment")
    return found


def contains_bytes(pdf: bytes, needle: bytes) -> bool:
    """Whether the needle is in the raw file or in any decoded stream."""
    if needle in pdf:
        return True
    _, streams = walk(pdf)
    return any(needle in data for data in streams)
