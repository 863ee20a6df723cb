"""Password hashing with argon2id (OWASP Password Storage Cheat Sheet), and strength.

Strength is zxcvbn's estimate (the Python port of Dropbox's zxcvbn, from PyPI):
it ships frequency lists of common passwords, English words, names and TV and
film words, and scores repeats, sequences, keyboard patterns and dates. NIST SP
800-63B §5.1.1.2 asks verifiers to refuse passwords found in lists of commonly
used or compromised values; zxcvbn's list is a public leaked-password corpus.
"""

from __future__ import annotations

from collections.abc import Sequence

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

# argon2-cffi's RFC 9106 "low memory" profile: 64 MiB, t=3, p=4, above OWASP's
# minimum of 19 MiB, t=2, p=1. Stated here so a library default change is visible.
HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID)

# Verified against when the account does not exist, so that a login for an
# unknown email takes as long as one for a known email.
_DUMMY_HASH = HASHER.hash("not a real password")


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password against its stored hash; False for any mismatch or bad hash."""
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether a stored hash was made with weaker parameters than today's."""
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


# zxcvbn's scores: 3 is "safely unguessable: moderate protection from an offline
# slow-hash attack" (about 10^8 guesses or more); below it, refused.
MIN_STRENGTH_SCORE = 3
# zxcvbn refuses longer input (its matching grows with the square of the length);
# a password's first 72 characters decide its strength here.
STRENGTH_CHECKED_CHARS = 72
WEAK = (
    "This password is too easy to guess{reason}. Use a phrase of four or more unrelated "
    "words, or a password manager's random password."
)


def weakness(password: str, *, user_inputs: Sequence[str] = ()) -> str:
    """Why a password is too easy to guess, for a person; '' when it is strong enough.

    ``user_inputs`` are the account's own words (email, name, organization),
    which a guesser would try first.
    """
    words = [w for w in user_inputs if w][:20]
    result = zxcvbn(password[:STRENGTH_CHECKED_CHARS], user_inputs=words)
    if int(result["score"]) >= MIN_STRENGTH_SCORE:
        return ""
    warning = str(result["feedback"].get("warning") or "").rstrip(".")
    return WEAK.format(reason=f" ({warning[0].lower()}{warning[1:]})" if warning else "")
