"""The letter as the payer receives it: the PDF's text, metadata and what it fetched."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pdf_inspect
import pytest

from priorauth.documents import LetterContext, Rendered
from priorauth.documents.pdf import DEFAULT_TITLE, stylesheet_fetches
from priorauth.rules.library import Library
from priorauth.rules.schema import CoverageStatus

Render = Callable[..., Rendered[LetterContext]]


@pytest.fixture
def example_letter(render: Render, example_data: dict[str, Any]) -> Rendered[LetterContext]:
    return render(example_data)


def test_letter_text_has_patient_diagnosis_dose_and_each_therapy(
    example_letter: Rendered[LetterContext], example_data: dict[str, Any]
) -> None:
    text = pdf_inspect.text(example_letter.pdf)
    assert "Avery Testpatient" in text
    assert "G61.81" in text
    assert "J1459" in text
    # 220 lb = 99.8 kg, 67 in: BMI 34.5 > 30, so adjusted weight under the reference
    # profile: IBW 50 + 2.3 × 7 = 66.1 kg; 66.1 + 0.4 × (99.8 − 66.1) = 79.6 kg;
    # 2 g/kg × 79.6 kg = 159.2 g, rounded to the nearest 5 g = 160 g; 40 g a day over 4 days.
    assert "160 g (2 g/kg)" in text
    assert "40 g (0.5 g/kg per day) over 4 days" in text
    assert "79.6 kg (adjusted body weight)" in text
    assert "320 billing units of 500 mg" in text  # 160 000 mg / 500 mg
    for therapy in example_data["prior_therapies"]:
        assert therapy["agent"] in text
        assert pdf_inspect.squeezed(therapy["note"]) in pdf_inspect.squeezed(text)


def test_letter_has_every_section_a_payer_expects(example_letter: Rendered[LetterContext]) -> None:
    text = pdf_inspect.text(example_letter.pdf)
    for heading in (
        "Letter of medical necessity",
        "Re: Prior authorization for Privigen (HCPCS J1459)",
        "Member ID EHP000123",
        "DIAGNOSIS",
        "TREATMENT REQUESTED",
        "CLINICAL HISTORY",
        "MEDICAL NECESSITY",
        "PRIOR TREATMENT",
        "DOSING",
        "ENCLOSURES",
        "REFERENCES",
        "NPI 1234567893",
        "Dana Example, MD",
        "Synthetic Neurology Clinic",
        "November 20, 2026",
        "Interval Every 3 weeks",
        "Duration requested 1 course",
    ):
        assert heading in text, heading
    assert f"Page 1 of {example_letter.page_count}" in text
    # The weight worked out, for the payer; the policy assumed is in the review only.
    assert "Dosed on adjusted body weight" in text
    assert "because BMI" in text
    assert "Policy applied" not in text


def test_the_same_input_renders_the_same_text(render: Render, example_data: dict[str, Any]) -> None:
    first = render(example_data)
    second = render(example_data)
    assert first.html == second.html
    assert pdf_inspect.text(first.pdf) == pdf_inspect.text(second.pdf)


def test_pdf_metadata_holds_no_patient_data(example_letter: Rendered[LetterContext]) -> None:
    pdf = pdf_inspect.reader(example_letter.pdf)
    info = {key: str(value) for key, value in (pdf.metadata or {}).items()}
    assert info.get("/Title") == DEFAULT_TITLE
    assert "/Author" not in info
    assert "/Keywords" not in info
    assert "/Subject" not in info
    assert "/Producer" not in info  # no library version for a reader to fingerprint
    identifying = ("Avery", "Testpatient", "EHP000123", "1968", "G61.81", "Dana Example")
    for value in info.values():
        for needle in identifying:
            assert needle not in value
    xmp = pdf.trailer["/Root"].get("/Metadata")
    if xmp is not None:
        data = xmp.get_object().get_data()
        for needle in identifying:
            assert needle.encode() not in data


def test_letter_fetches_nothing_and_fonts_come_from_the_assets(
    example_letter: Rendered[LetterContext],
) -> None:
    assert example_letter.fetches == ()
    fonts = stylesheet_fetches()
    assert fonts, "the stylesheet loads its fonts through the asset fetcher"
    assert all(f.served and f.url.startswith("asset:fonts/") for f in fonts)
    fonts_in_pdf = {
        str(d.get("/BaseFont"))
        for d in pdf_inspect.walk(example_letter.pdf)[0]
        if d.get("/Type") == "/Font"
    }
    # Every glyph comes from the bundled family (named by our @font-face), none from
    # whatever fonts the host happens to have.
    assert fonts_in_pdf
    assert all(name.split("+")[-1].startswith("Letter-Sans") for name in fonts_in_pdf), fonts_in_pdf


def test_criteria_not_met_or_missing_are_not_claimed(
    render: Render, example_data: dict[str, Any]
) -> None:
    example_data["answers"]["demyelination_on_electrodiagnostics"] = False
    del example_data["answers"]["walking_compromised_or_disabled"]
    letter = render(example_data)
    titles = [c.title for c in letter.context.criteria_met]
    assert "Demyelination on electrophysiology or pathology" not in titles
    assert "Walking compromised or significant disability" not in titles
    assert "Diagnosed and managed by a neurologist" in titles
    text = pdf_inspect.text(letter.pdf)
    claimed = text.split("MEDICAL NECESSITY", 1)[1].split("PRIOR TREATMENT", 1)[0]
    assert "Diagnosed and managed by a neurologist" in claimed
    assert "Demyelination" not in claimed
    assert "Walking compromised" not in claimed
    # Not ready: the review says so, with the engine's reasons; the letter stays clean.
    assert "Draft" not in text
    assert letter.review is not None
    assert "Demyelination on electrophysiology or pathology: not met." in (
        letter.review.draft_reasons
    )


def test_a_ready_letter_has_no_draft_reason(example_letter: Rendered[LetterContext]) -> None:
    assert example_letter.review is not None
    assert example_letter.review.draft_reasons == ()
    assert "Draft" not in pdf_inspect.text(example_letter.pdf)


def test_unverified_values_are_in_the_review_not_the_letter(
    render: Render, example_data: dict[str, Any]
) -> None:
    # Panzyga's own HCPCS code is unverified in the catalog; CIDP's authorization
    # periods are unverified in its definition.
    example_data["regimen"]["product_id"] = "panzyga"
    letter = render(example_data)
    assert letter.review is not None
    treatment = next(b for b in letter.review.blocks if b.heading == "Treatment requested")
    doubts = {line.shown.split(":")[0]: line.doubts for line in treatment.lines}
    assert doubts["HCPCS code"] and doubts["Authorization period"]
    assert "forms/products.toml" in doubts["HCPCS code"][0].source
    assert doubts["Interval"] == ()
    text = pdf_inspect.text(letter.pdf)
    assert "J1576" in text
    assert "unverified" not in text.lower()
    assert "not confirmed" not in text


def test_exception_request_when_the_indication_is_not_standard_coverage(
    render: Render, library: Library, example_data: dict[str, Any]
) -> None:
    cidp = library.indications["cidp"].model_copy(
        update={"coverage": CoverageStatus.RARELY_COVERED}
    )
    lib = dataclasses.replace(library, indications={**library.indications, "cidp": cidp})
    letter = render(example_data, lib=lib)
    assert letter.context.is_exception
    text = pdf_inspect.text(letter.pdf)
    assert "Request for a medical exception" in text
    assert "Re: Medical exception for Privigen" in text
    assert "Letter of medical necessity" not in text
    meta = pdf_inspect.reader(letter.pdf).metadata or {}
    assert str(meta.get("/Title")) == "Medical exception request"


def test_missing_height_renders_a_letter_that_says_why_there_is_no_dose(
    render: Render, example_data: dict[str, Any]
) -> None:
    del example_data["measurements"]["height"]
    letter = render(example_data)
    text = pdf_inspect.text(letter.pdf)
    assert "Dose 2 g/kg per course" in text
    assert "Dose per course" not in text
    assert "Dosing weight" not in text
    assert "Draft" not in text
    # Why there is no dose is for staff: the review says it, and the case is not ready.
    assert letter.review is not None
    assert any("height is needed" in d.text for d in letter.review.doubts)
    assert any("height is needed" in reason for reason in letter.review.draft_reasons)


def test_physician_edits_replace_named_sections(
    render: Render, example_data: dict[str, Any]
) -> None:
    closing = "Please call me to discuss.\n\nThank you for <i>your</i> prompt review."
    letter = render(example_data, narrative={"closing": closing})
    assert letter.context.closing == (
        "Please call me to discuss.",
        "Thank you for <i>your</i> prompt review.",
    )
    assert "&lt;i&gt;your&lt;/i&gt;" in letter.html
    text = pdf_inspect.text(letter.pdf)
    assert "Thank you for <i>your</i> prompt review." in text
    assert "medically necessary for Avery Testpatient" not in text


def test_an_unknown_narrative_section_is_an_error(
    render: Render, example_data: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="unknown narrative section clsoing"):
        render(example_data, narrative={"clsoing": "typo"})


def test_no_prior_therapy(render: Render, example_data: dict[str, Any]) -> None:
    example_data["prior_therapies"] = []
    text = pdf_inspect.text(render(example_data).pdf)
    assert "No prior treatment for this condition is recorded." in text


def test_a_long_therapy_history_keeps_every_row(
    render: Render, example_data: dict[str, Any]
) -> None:
    start = dt.date(2020, 1, 6)
    example_data["prior_therapies"] = [
        {
            "agent": f"Agent{index:02d}",
            "therapy_class": "immunosuppressant",
            "start": (start + dt.timedelta(weeks=4 * index)).isoformat(),
            "end": (start + dt.timedelta(weeks=4 * index + 3)).isoformat(),
            "dose": "as prescribed",
            "outcome": "inadequate_response",
            "note": "no change in strength " * 3,
        }
        for index in range(60)
    ]
    letter = render(example_data)
    text = pdf_inspect.text(letter.pdf)
    for index in range(60):
        assert f"Agent{index:02d}" in text
    assert letter.page_count > 3


def test_the_letter_html_references_no_resource(example_letter: Rendered[LetterContext]) -> None:
    html = example_letter.html.lower()
    for construct in ("<link", "<img", "<script", "<object", "<iframe", "url(", "@import"):
        assert construct not in html, construct


def test_the_preview_inlines_the_print_stylesheet(example_letter: Rendered[LetterContext]) -> None:
    preview = example_letter.preview_html
    assert preview.count("<style>") == 1
    assert "@page" in preview
    start, end = preview.index("<style>"), preview.index("</style>") + len("</style>")
    assert end <= preview.index("</head>")
    assert preview[:start] + preview[end:] == example_letter.html
