"""Each indication as a DTR-style Questionnaire, and the round trip back into a case.

For every indication, every example case goes Questionnaire → QuestionnaireResponse
(filled from the case) → draft → case, and must come back as the same case with
the same assessment.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir_helpers import REPO_ROOT, outcome, read_example

from priorauth.domain.case import Case
from priorauth.domain.facts import FACTS, FactKind
from priorauth.interop import FhirInputError
from priorauth.interop.model_items import walk
from priorauth.interop.questionnaire import (
    ENABLE_WHEN_EXPRESSION,
    build_questionnaire,
    model_sections,
)
from priorauth.interop.response import prefill_response, read_response
from priorauth.rules import evaluate
from priorauth.rules.library import Library

INDICATIONS = sorted(p.name for p in (REPO_ROOT / "forms" / "indications").iterdir() if p.is_dir())


def _items(questionnaire: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in walk(questionnaire["item"])}


@pytest.mark.parametrize("indication", INDICATIONS)
def test_every_example_round_trips_through_a_questionnaire_response(
    library: Library, indication: str
) -> None:
    examples = sorted(
        (REPO_ROOT / "forms" / "indications" / indication / "examples").glob("*.json")
    )
    assert examples, f"{indication} has no example cases"
    built: dict[str, dict[str, Any]] = {}
    for path in examples:
        data, as_of = read_example(path)
        case = Case.model_validate(data, context={"today": as_of})
        payer = case.coverage.payer_profile
        if payer not in built:
            built[payer] = build_questionnaire(library, indication, payer)
            Questionnaire.model_validate(built[payer])
        response = prefill_response(library, case, built[payer])
        QuestionnaireResponse.model_validate(response)
        draft = read_response(library, json.loads(json.dumps(response)), built[payer])
        assert not draft.ignored, (path.name, draft.ignored)
        back = draft.case(as_of)
        assert back == case, path.name
        assert outcome(evaluate(back, library, as_of)) == outcome(evaluate(case, library, as_of))


def test_questions_carry_type_required_enable_when_help_and_citations(library: Library) -> None:
    definition = library.indications["cidp"]
    items = _items(build_questionnaire(library, "cidp"))
    for question in definition.questions:
        item = items[f"answers.{question.fact}"]
        kind = FACTS[question.fact].kind
        expected = {
            FactKind.FLAG: "boolean",
            FactKind.CHOICE: "choice",
            FactKind.NUMBER: "decimal",
            FactKind.SCORE: "group",
            FactKind.LAB: "group",
            FactKind.DATE: "date",
        }[kind]
        assert item["type"] == expected
        assert item.get("required", False) == question.required
        help_text = items[f"answers.{question.fact}.help"]["text"]
        assert question.why in help_text
        if kind is FactKind.CHOICE:
            codes = [o["valueCoding"]["code"] for o in item["answerOption"]]
            assert codes == [code for code, _ in FACTS[question.fact].choices]
        if set(question.applies_to) == {"initial"}:
            assert item["enableWhen"] == [
                {
                    "question": "request_type",
                    "operator": "=",
                    "answerCoding": {
                        "system": "http://priorauth.local/fhir/CodeSystem/case-field",
                        "code": "initial",
                    },
                }
            ]
        else:
            assert "enableWhen" not in item or len(item["enableWhen"]) == 1
    demyelination = items["answers.demyelination_on_electrodiagnostics"]
    cited = [e["valueString"] for e in demyelination["extension"]]
    assert any("National Blood Authority" in text for text in cited)
    assert (
        "Checked by: Demyelination"
        in items["answers.demyelination_on_electrodiagnostics.help"]["text"]
    )


def test_a_payer_profile_changes_the_help_and_the_fixed_payer(library: Library) -> None:
    reference = _items(build_questionnaire(library, "secondary_hypogammaglobulinemia"))
    commercial = _items(
        build_questionnaire(library, "secondary_hypogammaglobulinemia", "commercial")
    )
    assert commercial["coverage.payer_profile"]["initial"] == [{"valueString": "commercial"}]
    changed = [
        link
        for link, item in commercial.items()
        if link.endswith(".help") and item["text"] != reference[link]["text"]
    ]
    assert changed, "the commercial profile's override is not in any help text"


def test_the_questionnaire_asks_every_part_of_a_case(library: Library) -> None:
    assert set(model_sections()) | {"schema_version"} == set(Case.model_fields)
    items = _items(build_questionnaire(library, "pid"))
    products = [o["valueCoding"]["code"] for o in items["regimen.product_id"]["answerOption"]]
    assert items["regimen.product_id"]["type"] == "choice"
    assert set(products) == set(library.products)
    assert items["prior_therapies"]["repeats"] is True
    assert items["clinical_summary"]["type"] == "text"
    assert items["clinical_summary"]["maxLength"] == 4000


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"resourceType": "Bundle"}, "not a QuestionnaireResponse"),
        (
            {"resourceType": "QuestionnaireResponse", "status": "completed", "questionnaire": "x"},
            "not one of priorauth's",
        ),
        (
            {"resourceType": "QuestionnaireResponse", "status": "completed", "authored": "now"},
            "not a valid FHIR R4 QuestionnaireResponse",
        ),
    ],
)
def test_an_unreadable_response_is_a_field_level_error(
    library: Library, data: dict[str, Any], expected: str
) -> None:
    with pytest.raises(FhirInputError) as raised:
        read_response(library, data)
    assert expected in raised.value.message


def test_unknown_indication_or_payer(library: Library) -> None:
    with pytest.raises(FhirInputError, match="unknown indication"):
        build_questionnaire(library, "nope")
    with pytest.raises(FhirInputError, match="unknown payer profile"):
        build_questionnaire(library, "cidp", "nope")


def test_a_question_with_conditions_carries_them_as_an_sdc_expression(library: Library) -> None:
    """PID's genetic question: initial requests AND one of its codes ticked, which one
    enableWhen behavior cannot say, so the SDC enableWhenExpression says all of it."""
    items = _items(build_questionnaire(library, "pid"))
    genetic = items["answers.genetic_diagnosis_confirmed"]
    assert "enableWhen" not in genetic
    expressions = [
        e["valueExpression"]
        for e in genetic.get("extension", [])
        if e["url"] == ENABLE_WHEN_EXPRESSION
    ]
    assert len(expressions) == 1 and expressions[0]["language"] == "text/fhirpath"
    text = expressions[0]["expression"]
    assert "where(linkId='request_type')" in text and "'initial'" in text
    assert "where(linkId='icd10_codes')" in text
    assert all(f"'{code}'" in text for code in ("D80.0", "D81.0", "D81.9"))
    assert "'D83.9'" not in text
    # A question without conditions keeps plain enableWhen on the request type.
    assert "enableWhen" in items["answers.pneumococcal_vaccine_response"]
