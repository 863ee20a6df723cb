"""What a command shows and returns: exit statuses, errors, JSON and warnings."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
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
