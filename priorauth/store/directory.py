"""The clinic's directory: its letterhead, prescribers, payers and patients.

What step 1 of every intake would otherwise retype. Every query is scoped to
one organization; a row of another organization reads as absent. The web
layer checks what a person typed (``web.directory``); this module only stores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Letterhead, PatientRecord, PayerEntry, Prescriber

Row = TypeVar("Row", Prescriber, PayerEntry, PatientRecord)

# The fields a person edits, per table (the rest is bookkeeping).
PRESCRIBER_FIELDS = (
    "name",
    "credentials",
    "npi",
    "specialty",
    "phone",
    "fax",
    "practice_name",
    "practice_address",
)
PAYER_FIELDS = (
    "name",
    "plan_type",
    "payer_profile",
    "pa_fax",
    "pa_address",
    "appeals_fax",
    "appeals_address",
)
PATIENT_FIELDS = ("first_name", "last_name", "date_of_birth", "sex", "member_id", "group_number")
LETTERHEAD_FIELDS = (
    "practice_name",
    "practice_address",
    "phone",
    "fax",
    "usual_site_of_care",
    "usual_product_id",
)


def letterhead(session: Session, organization_id: int) -> Letterhead | None:
    return session.scalar(select(Letterhead).where(Letterhead.organization_id == organization_id))


def save_letterhead(
    session: Session, organization_id: int, values: Mapping[str, str]
) -> Letterhead:
    row = letterhead(session, organization_id)
    if row is None:
        row = Letterhead(organization_id=organization_id)
        session.add(row)
    for name in LETTERHEAD_FIELDS:
        setattr(row, name, values.get(name, ""))
    session.flush()
    return row


def list_prescribers(
    session: Session, organization_id: int, *, active_only: bool = False
) -> list[Prescriber]:
    query = select(Prescriber).where(Prescriber.organization_id == organization_id)
    if active_only:
        query = query.where(Prescriber.active.is_(True))
    return list(session.scalars(query.order_by(Prescriber.name, Prescriber.id)))


def list_payers(
    session: Session, organization_id: int, *, active_only: bool = False
) -> list[PayerEntry]:
    query = select(PayerEntry).where(PayerEntry.organization_id == organization_id)
    if active_only:
        query = query.where(PayerEntry.active.is_(True))
    return list(session.scalars(query.order_by(PayerEntry.name, PayerEntry.id)))


def list_patients(session: Session, organization_id: int) -> list[PatientRecord]:
    return list(
        session.scalars(
            select(PatientRecord)
            .where(PatientRecord.organization_id == organization_id)
            .order_by(PatientRecord.last_name, PatientRecord.first_name, PatientRecord.id)
        )
    )


def get(session: Session, model: type[Row], organization_id: int, row_id: int) -> Row | None:
    """One row, only if it belongs to the organization (None otherwise, same as absent)."""
    row = session.get(model, row_id)
    if row is None or row.organization_id != organization_id:
        return None
    return row


def save(
    session: Session,
    model: type[Row],
    organization_id: int,
    values: Mapping[str, Any],
    row: Row | None = None,
) -> Row:
    """Create a row (``row`` None) or change one, with the values given; flush."""
    if row is None:
        row = model(organization_id=organization_id)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
    return row


def prescriber_by_npi(session: Session, organization_id: int, npi: str) -> Prescriber | None:
    return session.scalar(
        select(Prescriber).where(
            Prescriber.organization_id == organization_id, Prescriber.npi == npi
        )
    )


def find_patient(
    session: Session, organization_id: int, first_name: str, last_name: str, date_of_birth: str
) -> PatientRecord | None:
    """The patient on file with this name and date of birth (capitals ignored), if any."""
    candidates = session.scalars(
        select(PatientRecord).where(
            PatientRecord.organization_id == organization_id,
            PatientRecord.date_of_birth == date_of_birth,
        )
    )
    wanted = (first_name.strip().casefold(), last_name.strip().casefold())
    return next(
        (
            p
            for p in candidates
            if (p.first_name.strip().casefold(), p.last_name.strip().casefold()) == wanted
        ),
        None,
    )
