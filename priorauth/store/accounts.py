"""Accounts: create one (the CLI and the administrator's page), switch one off."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Organization, Role, User
from .passwords import hash_password

# NIST SP 800-63B asks for at least 8 characters and recommends longer; a clinic
# account that can read patient data gets 12. No composition rules (800-63B).
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(Exception):
    """An account cannot be created as asked; one message per problem, for a person."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class NewAccount:
    email: str
    name: str
    role: str
    password: str
    credentials: str = ""
    npi: str | None = None


def check_new_account(session: Session, account: NewAccount) -> dict[str, str]:
    """What is wrong with a new account, by field (empty when nothing is).

    The NPI's check digit is the caller's to verify (the domain layer owns it).
    """
    problems: dict[str, str] = {}
    email = account.email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        problems["email"] = "Enter an email address like name@clinic.example."
    elif session.scalar(select(User.id).where(User.email == email)) is not None:
        problems["email"] = "An account with this email already exists."
    if not account.name.strip() or len(account.name) > 200:
        problems["name"] = "Enter the person's full name (up to 200 characters)."
    if account.role not in {r.value for r in Role}:
        problems["role"] = "Choose one of: " + ", ".join(r.value for r in Role) + "."
    if len(account.password) < MIN_PASSWORD_CHARS:
        problems["password"] = f"Use at least {MIN_PASSWORD_CHARS} characters."
    elif len(account.password) > MAX_PASSWORD_CHARS:
        problems["password"] = f"Use at most {MAX_PASSWORD_CHARS} characters."
    if len(account.credentials) > 40:
        problems["credentials"] = "Up to 40 characters, e.g. MD or DO."
    if account.role == Role.PHYSICIAN.value:
        if not account.npi:
            problems["npi"] = "A physician's account needs their NPI: it is how they sign."
        if not account.credentials.strip():
            problems["credentials"] = "A physician's account needs credentials, e.g. MD."
    return problems


def create_user(session: Session, organization_id: int, account: NewAccount) -> User:
    """Create an active account (flushed, not committed); AccountError when it cannot be."""
    problems = check_new_account(session, account)
    if problems:
        raise AccountError(problems)
    user = User(
        organization_id=organization_id,
        email=account.email.strip().lower(),
        name=account.name.strip(),
        role=account.role,
        password_hash=hash_password(account.password),
        credentials=account.credentials.strip(),
        npi=account.npi or None,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def find_or_create_organization(session: Session, name: str) -> tuple[Organization, bool]:
    """The organization of that name, made if missing; True when it was made."""
    name = name.strip()
    found = session.scalar(select(Organization).where(Organization.name == name))
    if found is not None:
        return found, False
    organization = Organization(name=name)
    session.add(organization)
    session.flush()
    return organization, True
