"""Demo accounts for trying the app: DEMO ONLY, never on a server with real patients."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Organization, Role, User
from .passwords import hash_password

DEMO_ORGANIZATION = "Demo Clinic (synthetic data only)"


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str
    name: str
    credentials: str = ""
    npi: str | None = None


# Fixed on purpose so the README and `make run` can show them. The physician's
# NPI is a synthetic number that passes the check digit (the example cases' NPI).
DEMO_ACCOUNTS = (
    DemoAccount(Role.BILLING.value, "billing@demo.example", "demo-billing-pass", "Bailey Billing"),
    DemoAccount(
        Role.PHYSICIAN.value,
        "physician@demo.example",
        "demo-physician-pass",
        "Dana Example",
        credentials="MD",
        npi="1234567893",
    ),
    DemoAccount(Role.ADVOCATE.value, "advocate@demo.example", "demo-advocate-pass", "Ari Advocate"),
    DemoAccount(Role.ADMIN.value, "admin@demo.example", "demo-admin-pass", "Alex Admin"),
)


def seed_demo(session: Session) -> list[DemoAccount]:
    """Create the demo clinic and one account per role if missing; commit; return them.

    Idempotent: an existing account is left as it is (its password included).
    """
    organization = session.scalar(
        select(Organization).where(Organization.name == DEMO_ORGANIZATION)
    )
    if organization is None:
        organization = Organization(name=DEMO_ORGANIZATION)
        session.add(organization)
        session.flush()
    for account in DEMO_ACCOUNTS:
        if session.scalar(select(User).where(User.email == account.email)) is not None:
            continue
        session.add(
            User(
                organization_id=organization.id,
                email=account.email,
                name=account.name,
                role=account.role,
                password_hash=hash_password(account.password),
                credentials=account.credentials,
                npi=account.npi,
                active=True,
            )
        )
    session.commit()
    return list(DEMO_ACCOUNTS)
