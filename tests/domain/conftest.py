"""A valid synthetic case as plain data, for tests that break one field at a time."""

from __future__ import annotations

import copy
from typing import Any

import pytest

_VALID_CASE: dict[str, Any] = {
    "patient": {
        "first_name": "Avery",
        "last_name": "Testpatient",
        "date_of_birth": "1968-04-12",
        "sex": "male",
    },
    "coverage": {
        "payer_name": "Example Health Plan",
        "plan_type": "commercial",
        "member_id": "EHP000123",
    },
    "prescriber": {
        "name": "Dana Example",
        "credentials": "MD",
        "npi": "1234567893",
        "specialty": "neurology",
    },
    "site_of_care": "infusion_center",
    "request_type": "initial",
    "indication_id": "cidp",
    "icd10_codes": ["G61.81"],
    "measurements": {"weight": "80", "height": "175", "measured_on": "2026-11-02"},
    "answers": {"demyelination_on_electrodiagnostics": True},
    "prior_therapies": [
        {
            "agent": "Prednisone",
            "therapy_class": "corticosteroid",
            "start": "2026-06-01",
            "end": "2026-08-15",
            "outcome": "inadequate_response",
        }
    ],
    "regimen": {
        "product_id": "privigen",
        "dose_g_per_kg": "2",
        "days_per_course": 4,
        "interval_weeks": "3",
        "courses_requested": 1,
        "start_date": "2026-12-01",
    },
}


@pytest.fixture
def case_data() -> dict[str, Any]:
    """A fresh, valid case dict that a test may change freely."""
    return copy.deepcopy(_VALID_CASE)
