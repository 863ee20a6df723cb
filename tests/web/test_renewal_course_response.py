"""A renewal's course joins the prior treatment with its recorded response, or none guessed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from priorauth.domain.treatment_history import TherapyOutcome
from priorauth.rules.library import load_library
from priorauth.web.intake import continuation_formdata

LIBRARY = load_library()
TODAY = dt.date(2026, 12, 6)
RENEWED: dict[str, Any] = {
    "indication_id": "cidp",
    "request_type": "initial",
    "regimen": {"start_date": "2026-06-01", "dose_g_per_kg": "2", "interval_weeks": "3"},
    "prior_therapies": [],
}


def _course_outcome(response: TherapyOutcome | None) -> str | None:
    formdata = continuation_formdata(
        RENEWED,
        LIBRARY.indications["cidp"],
        today=TODAY,
        authorization_start=dt.date(2026, 6, 1),
        authorization_end=dt.date(2026, 11, 30),
        product_name="Gamunex-C",
        response=response,
    )
    assert formdata.get("prior_therapies-0-agent") == "Gamunex-C"
    assert formdata.get("prior_therapies-0-start") == "2026-06-01"
    assert formdata.get("prior_therapies-0-end") == "2026-11-30"
    return formdata.get("prior_therapies-0-outcome")


def test_a_recorded_response_is_carried_to_the_course() -> None:
    assert _course_outcome(TherapyOutcome.RESPONDED) == "responded"
    assert _course_outcome(TherapyOutcome.PARTIAL_RESPONSE) == "partial_response"


def test_without_a_recorded_response_none_is_guessed() -> None:
    assert _course_outcome(None) == TherapyOutcome.CURRENT_COURSE.value
