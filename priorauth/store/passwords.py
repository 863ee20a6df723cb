"""Password hashing with argon2id (OWASP Password Storage Cheat Sheet)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

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
