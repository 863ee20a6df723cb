"""What a command shows and returns: exit statuses, errors, JSON and warnings."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class CommandError(Exception):
    """A command cannot go on; carries the lines to show and the exit status."""

    def __init__(self, headline: str, details: Sequence[str] = (), status: int = EXIT_BAD_INPUT):
        super().__init__(headline)
        self.headline = headline
        self.details = list(details)
        self.status = status


def report(error: CommandError) -> int:
    """Show the error on stderr, one line per detail; return its exit status."""
    print(f"priorauth: error: {error.headline}", file=sys.stderr)
    for line in error.details:
        print(f"  {line}", file=sys.stderr)
    return error.status


def print_json(data: Any, out: TextIO) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False)
    out.write("\n")


def warn(lines: Sequence[str]) -> None:
    for line in lines:
        print(f"priorauth: warning: {line}", file=sys.stderr)


def read_text(path: Path, *, kind: str, utf8_hint: str = "", max_bytes: int | None = None) -> str:
    """A file's UTF-8 text, or a CommandError a person can act on (``kind`` names the file
    expected, e.g. "case file"; ``utf8_hint`` follows "not UTF-8 text")."""
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise CommandError(f"{path}: larger than {max_bytes // (1024 * 1024)} MB")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"{path}: is a folder, not a {kind}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text{utf8_hint}") from None
    except OSError as error:
        raise CommandError(f"{path}: cannot be read: {error.strerror}") from None
