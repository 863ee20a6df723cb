"""Appeal letters: each denial reason answered with the case's own evidence.

The examples in examples/appeal-*.json hold one denial reason each; every one
must render an appeal whose PDF text states the reason, quotes the reviewer,
and answers with the evidence the case documents. The appeal is for the payer:
what falls short and the deadline the rules work out are in its review.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pdf_inspect
import pytest
from appeal_examples import APPEAL_EXAMPLES, Example, load_example

from priorauth.documents.appeal import (
    AppealInputError,
    build_appeal_context,
    draft_appeal,
    render_appeal,
)
from priorauth.documents.doubts import Review
from priorauth.documents.output import Rendered
from priorauth.domain.case import Case
from priorauth.domain.denial import Denial, DenialReason
from priorauth.rules import evaluate
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)
LETTER_PT = (612, 792)

# What each example's appeal must say: the reason's section and the case's evidence for it.
EXPECTED = {
    "appeal-not-medically-necessary": (
        DenialReason.NOT_MEDICALLY_NECESSARY,
        [
            "MEDICAL NECESSITY",
            "REQUEST FOR EXPEDITED REVIEW",
            "Walking has worsened over the past four weeks",
            "Attn: Expedited Appeals",
            "Diagnosed and managed by a neurologist",
            "Demyelination shown on nerve conduction studies or nerve biopsy: yes",
            "Adjusted INCAT disability score before IVIG: 4 points",
            "Dose within the induction (loading) regimen for CIDP",
            "The request meets the published criteria for this indication.",
            "Nerve conduction study / EMG report showing demyelination (enclosed)",
        ],
    ),
    "appeal-criteria-not-met": (
        DenialReason.CRITERIA_NOT_MET,
        [
            "COVERAGE CRITERIA",
            "these criteria are not met: Demyelination on electrophysiology or pathology; "
            "Course of at least 2 months.",
            "Demyelination shown on nerve conduction studies or nerve biopsy: yes",
            "Duration of progression or relapses: 5 months",
            "Each criterion the denial names is met and documented",
            "Second-level internal appeal",
        ],
    ),
    "appeal-step-therapy": (
        DenialReason.STEP_THERAPY_NOT_MET,
        [
            "PRIOR TREATMENT (STEP THERAPY)",
            "Corticosteroids tried, not tolerated, or contraindicated",
            "A steroid-sparing agent (methotrexate, azathioprine) tried",
            "Methotrexate (immunosuppressant",
            "20 mg weekly",
            "The requirement for prior treatment is met.",
        ],
    ),
    "appeal-dose-above-policy": (
        DenialReason.DOSE_ABOVE_POLICY,
        [
            "DOSE AND FREQUENCY",
            "Dose per course 85 g (1 g/kg)",
            "1 g/kg × 84 kg = 84 g",
            "This is within the maintenance regimen for CIDP",
            "Adjusted INCAT disability score 4 points (05/04/2026) 2 points (11/02/2026) "
            "Improved by 2 points (lower is better)",
            "attempted; the patient relapsed or worsened",
            "The dose and interval requested are within the published regimen",
            # The notice's own deadline is stated to the payer.
            "Appeal deadline May 9, 2027",
        ],
    ),
    "appeal-experimental": (
        DenialReason.EXPERIMENTAL_INVESTIGATIONAL,
        [
            "IMMUNE GLOBULIN IS AN ESTABLISHED TREATMENT FOR THIS CONDITION",
            "Published guidelines and coverage criteria for immune globulin in MMN",
            "Gammagard Liquid's label lists MMN",
            "Conduction block on nerve conduction studies: yes",
            "Immune globulin is an accepted treatment for this condition, not an experimental one.",
            "REFERENCES",
        ],
    ),
    "appeal-site-of-care": (
        DenialReason.SITE_OF_CARE,
        [
            "SITE OF CARE",
            "(hospital outpatient infusion) is not covered or not preferred",
            "A previous infusion reaction to immune globulin",
            "Difficult venous access",
            "needed epinephrine",
            "Site-of-care programs Non-preferred site",
            "For these reasons I ask that infusion at this site be approved.",
        ],
    ),
    "appeal-non-preferred-product": (
        DenialReason.NON_PREFERRED_PRODUCT,
        [
            "CHOICE OF PRODUCT",
            "Bivigam is not a preferred product for Example Blue Plan",
            "A preferred product was not tolerated",
            "Gamunex-C: intolerance",
            "Aseptic meningitis after the third infusion",
            "Preferred products Octagam 5%, Octagam 10%, Gamunex-C",
            "For these reasons I ask that Bivigam be approved.",
        ],
    ),
    "appeal-missing-information": (
        DenialReason.MISSING_INFORMATION,
        [
            "INFORMATION THE REVIEWER DID NOT RECEIVE",
            "Two serum IgG results",
            "Pre- and post-vaccination titres",
            "Enclosed: igg-lab-report.pdf (PDF, 1 page)",
            "Enclosed: Vaccine titres (PNG image, 1 page)",
            "With these records enclosed, the information the policy asks for is complete.",
            "Copy of the denial notice (DN-2026-0088, November 8, 2026) (enclosed)",
        ],
    ),
}


# What each example's review (never the letter) must say of the deadline.
REVIEW_EXPECTED = {
    "appeal-not-medically-necessary": ["a decision within 72 hours"],
    # Medicare Advantage reconsideration: 65 days from the notice of November 2.
    "appeal-step-therapy": ["January 6, 2027", "42 CFR 422.582(b)"],
    "appeal-dose-above-policy": ["May 9, 2027 (the deadline stated in the denial notice)"],
}


def contains(text: str, needle: str) -> bool:
    return pdf_inspect.squeezed(needle) in pdf_inspect.squeezed(text)


def review_text(review: Review | None) -> str:
    """The review's lines and doubts, as one text."""
    assert review is not None
    return "\n".join(
        " ".join([line.shown, *(f"{d.text} {d.source}" for d in line.doubts)])
        for b in review.blocks
        for line in b.lines
    )


def render_example(example: Example, library: Library, **changes: Any) -> Rendered[Any]:
    options: dict[str, Any] = {
        "letter_date": example.as_of,
        "justification": example.justification,
        "attachments": example.attachments,
    }
    options.update(changes)
    denial = options.pop("denial", example.denial)
    return render_appeal(example.case, example.assessment, library, denial, **options)


def test_there_is_an_example_for_every_denial_reason(library: Library) -> None:
    reasons = {load_example(p, library).denial.categories[0] for p in APPEAL_EXAMPLES}
    assert reasons == set(DenialReason)
    assert {p.stem for p in APPEAL_EXAMPLES} == set(EXPECTED)


@pytest.mark.parametrize("path", APPEAL_EXAMPLES, ids=[p.stem for p in APPEAL_EXAMPLES])
def test_each_reason_is_answered_with_the_cases_evidence(path: Path, library: Library) -> None:
    example = load_example(path, library)
    reason, needles = EXPECTED[path.stem]
    assert example.denial.categories == (reason,)
    appeal = render_example(example, library)
    text = pdf_inspect.text(appeal.pdf)
    missing = [needle for needle in needles if not contains(text, needle)]
    assert not missing, missing
    # The denial is stated and the reviewer quoted, word for word.
    assert contains(text, example.denial.payer_reference)
    for words in [example.denial.reviewer_words, example.denial.reasons[0].reviewer_words]:
        if words:
            assert contains(text, words), words
    # Every example is complete: nothing keeps it from being sent.
    assert appeal.review is not None
    assert appeal.review.draft_reasons == ()
    # The deadline for this level, always, in the review; the patient on the letter.
    level = next(r.value for r in appeal.context.member_rows if r.label == "Appeal level")
    review = review_text(appeal.review)
    assert contains(review, f"Deadline for this {level.lower()}")
    assert all(contains(review, needle) for needle in REVIEW_EXPECTED.get(path.stem, []))
    assert not contains(text, "Deadline for this")
    assert example.case.patient.full_name in text
    for page in pdf_inspect.reader(appeal.pdf).pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == LETTER_PT
    assert pdf_inspect.embedded_files(appeal.pdf) == []
    assert all(fetch.url.startswith("asset:") for fetch in appeal.fetches)


def test_references_are_numbered_in_reading_order(library: Library) -> None:
    example = load_example(APPEAL_EXAMPLES[0], library)
    context = render_example(example, library).context
    cited = [n for s in context.sections for item in s.items for n in item.refs]
    cited += [n for s in context.sections for n in s.paragraph_refs]
    numbers = [r.number for r in context.references]
    assert numbers == list(range(1, len(numbers) + 1))
    assert set(cited) == set(numbers)


def _denial(**data: Any) -> Denial:
    base: dict[str, Any] = {"date": "2026-11-05", "payer_reference": "DN-9"}
    base.update(data)
    return Denial.model_validate(base, context={"today": TODAY})


def test_a_reason_the_case_cannot_answer_is_never_argued(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    example_data["answers"]["demyelination_on_electrodiagnostics"] = False
    case: Case = make_case(example_data)
    assessment = evaluate(case, library, TODAY)
    denial = _denial(reasons=[{"category": "criteria_not_met", "criteria": ["demyelination"]}])
    appeal = render_appeal(case, assessment, library, denial, letter_date=TODAY)
    text = pdf_inspect.text(appeal.pdf)
    assert "Draft" not in text
    assert appeal.review is not None
    assert any(
        "does not document every criterion the denial names "
        "(Demyelination on electrophysiology or pathology)" in reason
        for reason in appeal.review.draft_reasons
    )
    assert not contains(text, "Each criterion the denial names is met")
    assert not contains(text, "The medical record documents each of them")

    # The physician's own argument answers it: the draft reason goes, the words are in.
    argued = render_appeal(
        case,
        assessment,
        library,
        denial,
        letter_date=TODAY,
        narrative={"rebuttal_criteria_not_met": "The biopsy shows demyelination; enclosed."},
    )
    argued_text = pdf_inspect.text(argued.pdf)
    assert "The biopsy shows demyelination; enclosed." in argued_text
    assert argued.review is not None
    assert not any("does not document" in r for r in argued.review.draft_reasons)


def test_an_indication_without_step_therapy_says_so_and_lists_the_treatments(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    case: Case = make_case(example_data)
    denial = _denial(reasons=[{"category": "step_therapy_not_met"}])
    appeal = render_appeal(case, evaluate(case, library, TODAY), library, denial, letter_date=TODAY)
    text = pdf_inspect.text(appeal.pdf)
    assert contains(
        text,
        "The coverage criteria applied for CIDP do not require another "
        "treatment to fail before immune globulin.",
    )
    for therapy in example_data["prior_therapies"]:
        assert therapy["agent"] in text
    assert appeal.review is not None and appeal.review.draft_reasons == ()


def test_a_criterion_the_indication_lacks_is_an_input_error(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    case: Case = make_case(example_data)
    denial = _denial(reasons=[{"category": "criteria_not_met", "criteria": ["igg_low"]}])
    with pytest.raises(AppealInputError) as caught:
        build_appeal_context(
            case, evaluate(case, library, TODAY), library, denial, letter_date=TODAY
        )
    assert "CIDP has no criterion 'igg_low'" in caught.value.problems[0]


def test_a_passed_deadline_is_a_draft_reason(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    case: Case = make_case(example_data)
    denial = _denial(
        appeal_deadline="2026-11-15", reasons=[{"category": "not_medically_necessary"}]
    )
    drafted = draft_appeal(case, evaluate(case, library, TODAY), library, denial, letter_date=TODAY)
    assert any("was November 15, 2026" in reason for reason in drafted.review.draft_reasons)
    assert not any("within the time allowed" in p for p in drafted.context.opening)


def test_several_reasons_get_a_section_each_in_the_denials_order(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    case: Case = make_case(example_data)
    order = ["dose_above_policy", "not_medically_necessary", "experimental_investigational"]
    denial = _denial(reasons=[{"category": c} for c in order])
    context = build_appeal_context(
        case, evaluate(case, library, TODAY), library, denial, letter_date=TODAY
    )
    assert [s.key for s in context.sections] == order
    assert context.opening[1].startswith("The denial gives 3 reasons")


def test_the_same_input_renders_the_same_text(library: Library) -> None:
    example = load_example(APPEAL_EXAMPLES[0], library)
    first, second = render_example(example, library), render_example(example, library)
    assert first.html == second.html
    assert pdf_inspect.text(first.pdf) == pdf_inspect.text(second.pdf)
    assert first.record == second.record


def test_typed_words_stay_text_and_stay_out_of_the_metadata(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    payload = '<b>x</b> <link rel="attachment" href="file:///etc/passwd">'
    case: Case = make_case(example_data)
    denial = _denial(
        reviewer_words=f"Denied {payload}",
        delay_risks_health=True,
        urgency=f"Urgent {payload}",
        reasons=[{"category": "not_medically_necessary", "reviewer_words": payload}],
    )
    appeal = render_appeal(case, evaluate(case, library, TODAY), library, denial, letter_date=TODAY)
    assert "<b>x</b>" not in appeal.html
    assert "&lt;b&gt;x&lt;/b&gt;" in appeal.html
    assert pdf_inspect.embedded_files(appeal.pdf) == []
    assert not pdf_inspect.contains_bytes(appeal.pdf, b"root:x:0:0")
    metadata = {str(v) for v in (pdf_inspect.reader(appeal.pdf).metadata or {}).values()}
    assert metadata == {"Appeal of a coverage denial"}


def test_the_record_names_what_produced_the_appeal(library: Library) -> None:
    example = load_example(APPEAL_EXAMPLES[0], library)
    record = render_example(example, library).record
    assert record["document"] == "appeal"
    assert record["case"] == example.case.model_dump(mode="json")
    assert record["denial"] == example.denial.model_dump(mode="json")
    assert record["definition_versions"] == dict(example.assessment.definition_versions)
    assert record["assessment"]["verdict"] == example.assessment.verdict.value


def test_an_unknown_narrative_section_is_an_error(library: Library) -> None:
    example = load_example(APPEAL_EXAMPLES[0], library)
    with pytest.raises(ValueError, match="unknown narrative section rebuttal_cost"):
        render_example(example, library, narrative={"rebuttal_cost": "x"})


def test_the_context_is_frozen(library: Library) -> None:
    context = render_example(load_example(APPEAL_EXAMPLES[0], library), library).context
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.title = "changed"  # type: ignore[misc]
