"""Page breaks in every document: a 40-row therapy history and a three-page narrative
never run off the page, cut a row in half, or leave a heading alone at a page's foot."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import layout_inspect
import pdf_inspect
import pytest

from priorauth.documents import render_html, render_letter
from priorauth.documents.appeal import render_appeal
from priorauth.documents.cost_summary import render_cost_summary
from priorauth.documents.exception import ExceptionTopic, render_exception_request
from priorauth.documents.packet import CHECKLIST_TEMPLATE, COVER_TEMPLATE, build_packet
from priorauth.documents.peer_to_peer import render_peer_to_peer
from priorauth.documents.review import render_letter_review
from priorauth.domain.case import Case
from priorauth.domain.denial import Denial, Justification
from priorauth.rules import evaluate
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)
LETTER_PX = (816.0, 1056.0)  # US Letter in CSS pixels
SENTENCE = (
    "The patient's weakness progressed over the months described, with falls, loss of grip "
    "and a need for help with stairs, despite the treatments listed in the table above. "
)
# About three pages of the physician's own words.
NARRATIVE = "\n\n".join(f"Paragraph {n}. " + SENTENCE * 5 for n in range(1, 23))


def forty_therapies() -> list[dict[str, Any]]:
    start = dt.date(2020, 1, 6)
    return [
        {
            "agent": f"Agent{n:02d}",
            "therapy_class": "corticosteroid" if n % 2 else "immunosuppressant",
            "start": (start + dt.timedelta(weeks=4 * n)).isoformat(),
            "end": (start + dt.timedelta(weeks=4 * n + 3)).isoformat(),
            "dose": "as prescribed",
            "outcome": "inadequate_response",
            "note": f"Note{n:02d} " + "no change in strength on examination " * (1 + n % 3),
        }
        for n in range(40)
    ]


DENIAL = Denial.model_validate(
    {
        "date": "2026-11-05",
        "payer_reference": "DN-40",
        "reviewer_words": "Not established. " * 20,
        "reasons": [
            {"category": "step_therapy_not_met"},
            {"category": "not_medically_necessary"},
            {"category": "dose_above_policy"},
        ],
    },
    context={"today": TODAY},
)


def _letter(case: Case, library: Library) -> Any:
    return render_letter(
        case,
        evaluate(case, library, TODAY),
        library,
        letter_date=TODAY,
        narrative={"clinical_history": NARRATIVE},
    )


def _appeal(case: Case, library: Library) -> Any:
    return render_appeal(
        case,
        evaluate(case, library, TODAY),
        library,
        DENIAL,
        letter_date=TODAY,
        narrative={"clinical_history": NARRATIVE, "rebuttal_step_therapy_not_met": NARRATIVE},
    )


def _exception(case: Case, library: Library) -> Any:
    return render_exception_request(
        case,
        evaluate(case, library, TODAY),
        library,
        letter_date=TODAY,
        topics=[ExceptionTopic.NON_PREFERRED_SITE, ExceptionTopic.NON_PREFERRED_PRODUCT],
        justification=Justification(site_of_care_details=SENTENCE * 10),
        narrative={"clinical_history": NARRATIVE, "exception_non_preferred_site": NARRATIVE},
    )


def _peer_to_peer(case: Case, library: Library) -> Any:
    return render_peer_to_peer(
        case, evaluate(case, library, TODAY), library, prepared_on=TODAY, denial=DENIAL
    )


RENDERERS: dict[str, Callable[[Case, Library], Any]] = {
    "letter": _letter,
    "appeal": _appeal,
    "exception": _exception,
    "peer-to-peer": _peer_to_peer,
}


@pytest.mark.parametrize("name", list(RENDERERS))
def test_long_histories_and_narratives_break_cleanly(
    name: str,
    library: Library,
    make_case: Callable[[dict[str, Any]], Case],
    example_data: dict[str, Any],
) -> None:
    example_data["prior_therapies"] = forty_therapies()
    case = make_case(example_data)
    rendered = RENDERERS[name](case, library)
    layout = layout_inspect.inspect(rendered.html)
    assert layout.pages == rendered.page_count
    assert set(layout.page_sizes) == {LETTER_PX}
    assert layout.split_rows == [], layout.split_rows
    assert layout.overflow == [], layout.overflow[:5]
    assert layout.stranded_headings == [], layout.stranded_headings
    assert layout.auto_min_width == set(), layout.auto_min_width
    text = pdf_inspect.squeezed(pdf_inspect.text(rendered.pdf))
    if name in ("letter", "appeal"):  # the others do not show the therapy table
        therapy_rows = [row for row in layout.row_pages if re.match(r"Agent\d\d", row)]
        assert len(therapy_rows) == 40
        for n in range(40):
            assert f"Agent{n:02d}" in text
            assert f"Note{n:02d}" in text
    if name != "peer-to-peer":
        assert pdf_inspect.squeezed("Paragraph 22. " + SENTENCE.strip()) in text
        assert rendered.page_count >= 4


def test_the_layout_checks_see_a_cut_row_and_a_stranded_heading() -> None:
    """The checks above would pass vacuously if they could not see a problem."""
    tall = "<br>".join(f"line {n}" for n in range(120))
    html = (
        "<!doctype html><html lang='en'><head><title>t</title></head><body>"
        + "<p>filler</p>" * 40
        + "<h2 style='break-after: auto'>Stranded heading</h2>"
        + "<div style='break-inside: avoid; height: 9in'>block</div>"
        + "<div class='rows'><div class='row' style='display: block; break-inside: auto'>"
        + f"{tall}</div></div>"
        + "</body></html>"
    )
    layout = layout_inspect.inspect(html)
    assert layout.split_rows and layout.split_rows[0].startswith("line 0")
    assert [text for _, text in layout.stranded_headings] == ["STRANDED HEADING"]
    flex = "<div class='field'><div class='label'>a</div><div class='value'>b</div></div>"
    assert layout_inspect.inspect(html.replace("</body>", flex + "</body>")).auto_min_width == set()
    loose = "<div style='display: flex'><div class='loose'>c</div></div>"
    assert layout_inspect.inspect(html.replace("</body>", loose + "</body>")).auto_min_width == {
        "div > loose"
    }


def _at_limits(data: dict[str, Any]) -> dict[str, Any]:
    """The case with its free-text fields at their stated limits (model.py, case.py)."""
    words = "Weakness progressed despite treatment, with falls and loss of grip. "

    def text(length: int) -> str:
        return (words * (length // len(words) + 1))[:length].strip()

    for key in ("first_name", "last_name"):
        data["patient"][key] = text(200)
    for key in ("payer_name", "member_id", "group_number"):
        data["coverage"][key] = text(200)
    for key in ("name", "practice_name", "practice_address"):
        data["prescriber"][key] = text(200)
    data["prescriber"]["credentials"] = text(40)
    data["clinical_summary"] = text(4000)
    for therapy in data["prior_therapies"]:
        therapy.update(agent=text(200), dose=text(200), note=text(4000))
    return data


def test_every_document_at_its_fields_limits_keeps_flex_items_at_min_width_0(
    library: Library,
    make_case: Callable[[dict[str, Any]], Case],
    example_data: dict[str, Any],
) -> None:
    """Every template, the payer's and the internal ones, with the longest typed text."""
    case = make_case(_at_limits(example_data))
    assessment = evaluate(case, library, TODAY)
    documents = {name: render(case, library).html for name, render in RENDERERS.items()}
    documents["cost summary"] = render_cost_summary(
        case, assessment, library, library.prices, prepared_on=TODAY
    ).html
    documents["review sheet"] = render_letter_review(
        case, assessment, library, letter_date=TODAY
    ).html
    packet = build_packet(
        case, assessment, library, packet_date=TODAY, denial=DENIAL, missing_confirmed=True
    )
    documents["fax cover"] = render_html(COVER_TEMPLATE, packet.cover)
    documents["checklist"] = render_html(CHECKLIST_TEMPLATE, packet.checklist)
    for name, html in documents.items():
        layout = layout_inspect.inspect(html)
        assert layout.auto_min_width == set(), (name, layout.auto_min_width)
        assert layout.overflow == [], (name, layout.overflow[:3])
