"""Demo accounts for trying the app: DEMO ONLY, never on a server with real patients."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import directory
from .models import Organization, PayerEntry, Prescriber, Role, User
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
    session.flush()
    _seed_directory(session, organization.id)
    session.commit()
    return list(DEMO_ACCOUNTS)


# The demo clinic's directory: the synthetic practice of the example cases.
DEMO_LETTERHEAD = {
    "practice_name": "Synthetic Neurology Clinic",
    "practice_address": "1 Example Way, Springfield",
    "phone": "555-0100",
    "fax": "555-0101",
    # The synthetic clinic infuses in its own infusion center and stocks one product.
    "usual_site_of_care": "infusion_center",
    "usual_product_id": "privigen",
}
DEMO_PAYER = {
    "name": "Example Health Plan",
    "plan_type": "commercial",
    "payer_profile": "reference",
    "pa_fax": "555-0199",
    "pa_address": "PO Box 100, Springfield",
    "appeals_fax": "555-0198",
    "appeals_address": "PO Box 200, Springfield",
}


def _seed_directory(session: Session, organization_id: int) -> None:
    """The demo's letterhead, its physician as a prescriber, one payer; once."""
    if directory.letterhead(session, organization_id) is None:
        directory.save_letterhead(session, organization_id, DEMO_LETTERHEAD)
    physician = next(a for a in DEMO_ACCOUNTS if a.role == Role.PHYSICIAN.value)
    assert physician.npi is not None
    if directory.prescriber_by_npi(session, organization_id, physician.npi) is None:
        user = session.scalar(select(User).where(User.email == physician.email))
        directory.save(
            session,
            Prescriber,
            organization_id,
            {
                "user_id": user.id if user is not None else None,
                "name": physician.name,
                "credentials": physician.credentials,
                "npi": physician.npi,
                "specialty": "neurology",
                **DEMO_LETTERHEAD,
            },
        )
    if not directory.list_payers(session, organization_id):
        directory.save(session, PayerEntry, organization_id, DEMO_PAYER)
