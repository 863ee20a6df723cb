"""The medical-exception request: one section per way the request leaves standard policy."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pdf_inspect
import pytest

from priorauth.documents.exception import (
    ExceptionTopic,
    NoExceptionNeeded,
    build_exception_context,
    draft_exception,
    render_exception_request,
)
from priorauth.domain.case import Case
from priorauth.domain.denial import Justification
from priorauth.rules import evaluate
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)
ROOT = Path(__file__).resolve().parents[2]
DOSE_EXAMPLE = ROOT / "examples" / "cidp-initial-dose-above-policy.json"
ALZHEIMERS = ROOT / "forms" / "indications" / "alzheimers_disease" / "examples"


def contains(text: str, needle: str) -> bool:
    return pdf_inspect.squeezed(needle) in pdf_inspect.squeezed(text)


@pytest.fixture
def everything_off_policy(make_case: Any) -> Case:
    """2.5 g/kg, a product UHC excludes, hospital outpatient on a commercial plan."""
    data = json.loads(DOSE_EXAMPLE.read_text(encoding="utf-8"))["case"]
    data["site_of_care"] = "hospital_outpatient"
    data["coverage"]["payer_profile"] = "uhc"
    data["regimen"]["product_id"] = "panzyga"
    return make_case(data)  # type: ignore[no-any-return]


GROUNDS = Justification.model_validate(
    {
        "site_of_care": ["prior_infusion_reaction"],
        "site_of_care_details": "Anaphylactoid reaction at a home infusion needing epinephrine.",
        "product": ["preferred_not_tolerated"],
        "product_details": "Headache and aseptic meningitis on Privigen and Gamunex-C.",
        "dose": ["relapse_at_lower_dose"],
        "dose_details": "At 2 g/kg the patient relapsed within two weeks of each course.",
    }
)


def test_the_topics_are_found_from_the_case(everything_off_policy: Case, library: Library) -> None:
    drafted = draft_exception(
        everything_off_policy,
        evaluate(everything_off_policy, library, TODAY),
        library,
        letter_date=TODAY,
        justification=GROUNDS,
    )
    assert [s.key for s in drafted.context.sections] == [
        ExceptionTopic.NON_PREFERRED_PRODUCT,
        ExceptionTopic.DOSE_ABOVE_LIMIT,
        ExceptionTopic.NON_PREFERRED_SITE,
    ]
    assert drafted.review.draft_reasons == ()


def test_each_section_gives_this_patients_reasons_and_evidence(
    everything_off_policy: Case, library: Library
) -> None:
    rendered = render_exception_request(
        everything_off_policy,
        evaluate(everything_off_policy, library, TODAY),
        library,
        letter_date=TODAY,
        justification=GROUNDS,
    )
    text = pdf_inspect.text(rendered.pdf)
    for needle in (
        "Request for a medical exception: immune globulin therapy",
        "A PRODUCT THE PLAN DOES NOT PREFER",
        "Does not cover Panzyga",
        "A preferred product was not tolerated",
        "aseptic meningitis on Privigen and Gamunex-C",
        "A DOSE OR INTERVAL BEYOND THE USUAL LIMITS",
        "Requested: 2.5 g/kg per course, above the induction (loading) dose of 2 g/kg.",
        "Relapse or worsening at a lower dose or a longer interval",
        "relapsed within two weeks of each course",
        "2.5 g/kg × 68 kg = 170 g",
        "A SITE OF CARE THE PLAN DOES NOT PREFER",
        "A previous infusion reaction to immune globulin",
        "Site-of-care programs Non-preferred site",
        "For these reasons I ask that a medical exception be granted",
    ):
        assert contains(text, needle), needle
    assert "Draft: not ready" not in text
    for page in pdf_inspect.reader(rendered.pdf).pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == (612, 792)


def test_a_topic_without_grounds_is_a_draft_reason(
    everything_off_policy: Case, library: Library
) -> None:
    rendered = render_exception_request(
        everything_off_policy,
        evaluate(everything_off_policy, library, TODAY),
        library,
        letter_date=TODAY,
    )
    text = pdf_inspect.text(rendered.pdf)
    assert "Draft" not in text
    assert rendered.review is not None
    assert len(rendered.review.draft_reasons) == 3
    assert not contains(text, "For these reasons I ask that Panzyga be approved.")
    # The physician's own words for a section count as its grounds.
    argued = draft_exception(
        everything_off_policy,
        evaluate(everything_off_policy, library, TODAY),
        library,
        letter_date=TODAY,
        narrative={"exception_non_preferred_site": "She cannot be infused safely elsewhere."},
    )
    assert len(argued.review.draft_reasons) == 2


def test_an_indication_standard_policy_does_not_cover(library: Library, make_case: Any) -> None:
    data = json.loads((ALZHEIMERS / "exception-complete.json").read_text(encoding="utf-8"))
    case: Case = make_case(data["case"])
    rendered = render_exception_request(
        case,
        evaluate(case, library, TODAY),
        library,
        letter_date=TODAY,
        justification=Justification(indication_details="Rapid decline despite donepezil."),
    )
    text = pdf_inspect.text(rendered.pdf)
    assert contains(text, "AN INDICATION THAT STANDARD POLICY DOES NOT COVER")
    assert contains(text, "Standard policy does not cover immune globulin for Alzheimer's disease")
    for need in library.indications["alzheimers_disease"].exception_needs:
        assert contains(text, need), need
    assert contains(text, "Standard therapies failed, not tolerated or contraindicated")
    assert contains(text, "Rapid decline despite donepezil.")
    assert contains(text, "For these reasons I ask for a medical exception for this patient.")
    assert rendered.review is not None and rendered.review.draft_reasons == ()


def test_an_incomplete_off_policy_request_names_what_is_missing(
    library: Library, make_case: Any
) -> None:
    data = json.loads((ALZHEIMERS / "exception-incomplete.json").read_text(encoding="utf-8"))
    case: Case = make_case(data["case"])
    review = draft_exception(
        case, evaluate(case, library, TODAY), library, letter_date=TODAY
    ).review
    assert review.draft_reasons
    assert "does not document what an exception request needs" in review.draft_reasons[0]


def test_a_standard_request_needs_no_exception(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    case: Case = make_case(example_data)
    with pytest.raises(NoExceptionNeeded, match="send the letter of medical necessity"):
        build_exception_context(case, evaluate(case, library, TODAY), library, letter_date=TODAY)
    # Named explicitly, a topic is written even when the engine found nothing to excuse.
    context = build_exception_context(
        case,
        evaluate(case, library, TODAY),
        library,
        letter_date=TODAY,
        topics=[ExceptionTopic.NON_PREFERRED_SITE],
    )
    assert [s.key for s in context.sections] == [ExceptionTopic.NON_PREFERRED_SITE]


def test_other_unmet_criteria_stay_draft_reasons(library: Library, make_case: Any) -> None:
    data = json.loads(DOSE_EXAMPLE.read_text(encoding="utf-8"))["case"]
    data["answers"]["demyelination_on_electrodiagnostics"] = False
    case: Case = make_case(data)
    review = draft_exception(
        case,
        evaluate(case, library, TODAY),
        library,
        letter_date=TODAY,
        justification=GROUNDS,
    ).review
    assert "Demyelination on electrophysiology or pathology: not met." in review.draft_reasons
