"""Recording an immune globulin course's response as prior treatment."""

from __future__ import annotations

import datetime as dt

import pytest

from priorauth.domain.treatment_history import (
    FAILED_OUTCOMES,
    OUTCOME_LABELS,
    PriorTherapy,
    TherapyOutcome,
)


@pytest.mark.parametrize(
    ("outcome", "label"),
    [
        (TherapyOutcome.RESPONDED, "Responded"),
        (TherapyOutcome.PARTIAL_RESPONSE, "Partial response"),
        (TherapyOutcome.CURRENT_COURSE, None),
    ],
)
def test_a_course_that_responded_is_never_a_failed_trial(
    outcome: TherapyOutcome, label: str | None
) -> None:
    assert outcome not in FAILED_OUTCOMES
    if label is not None:
        assert OUTCOME_LABELS[outcome] == label
    assert "fail" not in OUTCOME_LABELS[outcome].lower()


def test_a_course_with_no_response_is_an_inadequate_response() -> None:
    assert TherapyOutcome.INADEQUATE_RESPONSE in FAILED_OUTCOMES


def test_every_outcome_has_its_wording() -> None:
    assert set(OUTCOME_LABELS) == set(TherapyOutcome)


def test_an_immune_globulin_course_records_its_response() -> None:
    course = PriorTherapy(
        agent="Gamunex-C",
        therapy_class="immune_globulin",
        start=dt.date(2026, 1, 5),
        end=dt.date(2026, 7, 4),
        dose="2 g/kg",
        outcome=TherapyOutcome("responded"),
    )
    assert course.outcome is TherapyOutcome.RESPONDED
