"""The audit key and the anchors: what catches a rewritten trail without a copy kept by hand.

The hash chain (``audit``) shows an edited, removed or reordered event, but
whoever can write the whole database can also delete the last events and
rewrite the chain's head to match. Two things kept outside the database stop
that:

- the **audit key** (``PRIORAUTH_AUDIT_KEY``, else the file ``audit_key`` in the
  instance folder, readable by its owner only): every write signs the head
  with HMAC-SHA256 under it, so a rewritten head no longer matches its
  signature;
- the **anchors** (``priorauth audit anchor``, from cron or by hand): a signed
  line per run, naming the chain's position and hash at that moment, appended
  to ``audit_anchors.jsonl`` in the instance folder (or a file given) and
  printed, to be kept elsewhere too. ``priorauth audit verify`` checks that the
  trail still holds every anchored event, so going back to an older head (a
  replay of an earlier signed head) shows as well.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

KEY_ENV = "PRIORAUTH_AUDIT_KEY"
KEY_FILE = "audit_key"
ANCHORS_FILE = "audit_anchors.jsonl"


def key_from(instance_path: str | Path, *, create: bool) -> bytes | None:
    """The audit key: from the environment, else the instance file (made when ``create``)."""
    from_env = os.environ.get(KEY_ENV, "").strip()
    if from_env:
        return from_env.encode("utf-8")
    path = Path(instance_path) / KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip().encode("utf-8")
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Readable by the owner only; O_EXCL so two workers cannot both write one.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip().encode("utf-8")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key.encode("utf-8")


def head_mac(key: bytes, seq: int, head_hash: str) -> str:
    """The head's signature: HMAC-SHA256 of its position and hash."""
    message = f"priorauth-audit-head:{seq}:{head_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Anchor:
    """The chain's position and hash at one moment, signed with the audit key."""

    seq: int
    head_hash: str
    at: str  # ISO 8601, UTC
    mac: str

    @staticmethod
    def signed(key: bytes, seq: int, head_hash: str, at: dt.datetime) -> Anchor:
        when = at.astimezone(dt.UTC).isoformat(timespec="seconds")
        return Anchor(seq, head_hash, when, _anchor_mac(key, seq, head_hash, when))

    def valid(self, key: bytes) -> bool:
        expected = _anchor_mac(key, self.seq, self.head_hash, self.at)
        return hmac.compare_digest(expected, self.mac)

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def _anchor_mac(key: bytes, seq: int, head_hash: str, at: str) -> str:
    message = f"priorauth-audit-anchor:{seq}:{head_hash}:{at}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class AnchorFileError(Exception):
    """An anchors file that cannot be read as anchors (line number and why)."""


def read_anchors(path: Path) -> list[Anchor]:
    """The anchors in a file, oldest first; [] when there is no file."""
    if not path.exists():
        return []
    anchors = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            anchors.append(
                Anchor(int(data["seq"]), str(data["head_hash"]), str(data["at"]), str(data["mac"]))
            )
        except (ValueError, KeyError, TypeError) as error:
            raise AnchorFileError(f"{path}, line {number}: not an anchor ({error})") from None
    return anchors


def append_anchors(path: Path, anchors: Iterable[Anchor]) -> None:
    """Add anchors at the end of a file (made readable by its owner only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        for anchor in anchors:
            handle.write(anchor.line() + "\n")
