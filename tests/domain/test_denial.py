"""A recorded denial, the grounds for an exception and an attachment's metadata: validation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from priorauth.domain.denial import (
    AppealLevel,
    Attachment,
    Denial,
    DenialReason,
    Justification,
    MediaType,
)

TODAY = dt.date(2026, 11, 20)


def denial(**changes: Any) -> Denial:
    data: dict[str, Any] = {
        "date": "2026-11-05",
        "payer_reference": "DN-1",
        "reasons": [{"category": "not_medically_necessary"}],
    }
    data.update(changes)
    return Denial.model_validate(data, context={"today": TODAY})


def error_text(**changes: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        denial(**changes)
    return str(caught.value)


def test_a_minimal_denial_is_a_first_level_appeal_without_urgency() -> None:
    recorded = denial()
    assert recorded.level is AppealLevel.FIRST_INTERNAL
    assert recorded.categories == (DenialReason.NOT_MEDICALLY_NECESSARY,)
    assert not recorded.expedited


def test_every_reason_category_the_issue_names_exists() -> None:
    assert {r.value for r in DenialReason} >= {
        "not_medically_necessary",
        "criteria_not_met",
        "step_therapy_not_met",
        "dose_above_policy",
        "experimental_investigational",
        "site_of_care",
        "non_preferred_product",
        "missing_information",
    }
    assert {level.value for level in AppealLevel} == {
        "first_internal",
        "second_internal",
        "external_review",
        "expedited",
    }


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"date": "2026-12-01"}, "in the future"),
        ({"received_on": "2026-11-01"}, "cannot arrive before its own date"),
        ({"appeal_deadline": "2026-10-01"}, "deadline is before the denial's date"),
        ({"level": "expedited"}, "an expedited appeal needs delay_risks_health"),
        ({"delay_risks_health": True}, "urgency: say why waiting"),
        ({"reasons": []}, "at least 1"),
        (
            {"reasons": [{"category": "site_of_care"}, {"category": "site_of_care"}]},
            "each reason category is listed once",
        ),
        ({"reasons": [{"category": "criteria_not_met"}]}, "name the criteria"),
        (
            {"reasons": [{"category": "site_of_care", "criteria": ["course"]}]},
            "only for the reason criteria_not_met",
        ),
        (
            {"reasons": [{"category": "site_of_care", "missing": ["labs"]}]},
            "only for the reason missing_information",
        ),
        ({"reasons": [{"category": "too_expensive"}]}, "category"),
        ({"payer_reference": " "}, "payer_reference"),
        ({"reviewr_words": "typo"}, "Extra inputs are not permitted"),
    ],
)
def test_a_denial_that_cannot_be_right_is_refused(changes: dict[str, Any], needle: str) -> None:
    assert needle in error_text(**changes)


def test_expedited_needs_the_physicians_reason() -> None:
    recorded = denial(level="expedited", delay_risks_health=True, urgency="Cannot swallow safely.")
    assert recorded.expedited
    # Urgency at a standard level still asks for expedited handling.
    assert denial(delay_risks_health=True, urgency="Worsening weekly.").expedited


def test_justification_other_needs_an_explanation() -> None:
    with pytest.raises(ValidationError, match="explain the 'other' ground"):
        Justification.model_validate({"site_of_care": ["other"]})
    with pytest.raises(ValidationError, match="each ground is listed once"):
        Justification.model_validate({"dose": ["wearing_off", "wearing_off"]})
    ok = Justification.model_validate({"product": ["other"], "product_details": "Why."})
    assert ok.product_details == "Why."


def test_attachment_metadata_is_checked() -> None:
    attachment = Attachment(
        filename="labs.pdf",
        media_type=MediaType.PDF,
        size_bytes=1000,
        sha256="0" * 64,
        pages=2,
    )
    assert attachment.label == "labs.pdf"
    with pytest.raises(ValidationError):
        Attachment(filename="labs.pdf", media_type=MediaType.PDF, size_bytes=0, sha256="x", pages=0)
