"""The peer-to-peer sheet: criteria, evidence, objections to expect, questions to ask."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pdf_inspect
from appeal_examples import APPEAL_EXAMPLES, load_example

from priorauth.documents.peer_to_peer import build_peer_to_peer_context, render_peer_to_peer
from priorauth.domain.case import Case
from priorauth.domain.denial import Denial
from priorauth.rules import evaluate
from priorauth.rules.appeals import load_appeal_rules
from priorauth.rules.assessment import STATUS_LABELS
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)


def contains(text: str, needle: str) -> bool:
    return pdf_inspect.squeezed(needle) in pdf_inspect.squeezed(text)


def test_every_criterion_with_its_status_and_evidence(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    example_data["answers"]["demyelination_on_electrodiagnostics"] = False
    case: Case = make_case(example_data)
    assessment = evaluate(case, library, TODAY)
    sheet = render_peer_to_peer(case, assessment, library, prepared_on=TODAY)
    text = pdf_inspect.text(sheet.pdf)
    assert contains(text, "Not for submission")
    for result in assessment.criteria:
        assert contains(text, result.title), result.title
        for line in result.evidence:
            assert contains(text, line), line
    assert contains(text, "Demyelination on electrophysiology or pathology")
    assert STATUS_LABELS[assessment.criteria[3].status] in text
    # The unmet criterion is the first objection to expect, with what the payer asks.
    objections = sheet.context.objections
    assert objections[0].about == "Demyelination on electrophysiology or pathology"
    assert "The payer asks for" in objections[0].prepare
    assert contains(text, "160 g per course (2 g/kg on a dosing weight of 79.6 kg")
    for question in load_appeal_rules().peer_to_peer.questions:
        assert contains(text, question)


def test_the_denials_reasons_bring_their_objections_and_what_is_on_file(
    library: Library,
) -> None:
    path = next(p for p in APPEAL_EXAMPLES if p.stem == "appeal-site-of-care")
    example = load_example(path, library)
    context = build_peer_to_peer_context(
        example.case,
        example.assessment,
        library,
        prepared_on=example.as_of,
        denial=example.denial,
        justification=example.justification,
    )
    about = [o for o in context.objections if o.about == "Denial: site of care"]
    rules = load_appeal_rules().reason(example.denial.categories[0])
    assert [o.objection for o in about] == [o.objection for o in rules.objections]
    # Beside each objection, the case's own answer to it.
    assert all("A previous infusion reaction to immune globulin" in o.on_file for o in about)
    assert all("epinephrine" in o.on_file for o in about)
    denial_rows = {row.label: row.value for row in context.denial_rows}
    assert denial_rows["Denial"].startswith("SOC-2026-0310")
    assert denial_rows["Deadline"] == "May 2, 2027"


def test_an_unverified_rule_and_a_dose_finding_are_objections_too(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    example_data["regimen"]["dose_g_per_kg"] = 2.5
    example_data["regimen"]["days_per_course"] = 5
    case: Case = make_case(example_data)
    denial = Denial.model_validate(
        {
            "date": "2026-11-05",
            "payer_reference": "X",
            "reasons": [{"category": "dose_above_policy"}],
        },
        context={"today": TODAY},
    )
    context = build_peer_to_peer_context(
        case, evaluate(case, library, TODAY), library, prepared_on=TODAY, denial=denial
    )
    dose = [o for o in context.objections if o.about == "Dose"]
    assert dose and "above the induction (loading) range" in dose[0].prepare
    on_file = [o.on_file for o in context.objections if o.about.startswith("Denial: dose")]
    assert all("Not on file" in text for text in on_file)


def test_the_sheet_is_compact(library: Library) -> None:
    example = load_example(APPEAL_EXAMPLES[0], library)
    sheet = render_peer_to_peer(
        example.case, example.assessment, library, prepared_on=TODAY, denial=example.denial
    )
    assert sheet.page_count <= 3
    assert {str(v) for v in (pdf_inspect.reader(sheet.pdf).metadata or {}).values()} == {
        "Peer-to-peer preparation sheet"
    }
