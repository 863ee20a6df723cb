"""An indication's definition as a FHIR Questionnaire, DTR-style, for one payer profile.

The definition's questions become the items of the "answers" group: the fact's
kind gives the item type and the answer options, the question's request types
become enableWhen on the request type, its "why" and the criteria that test it
(with the sources this payer accepts) become the help text. The rest of a case
(patient, coverage, prescriber, measurements, therapies, regimen) is asked the
same way for every indication, from the case model.
"""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire

from priorauth.domain.case import Case, RequestType
from priorauth.domain.facts import FACTS, Fact, FactKind
from priorauth.rules.citations import cite
from priorauth.rules.library import Library
from priorauth.rules.schema import Condition, IndicationDefinition, PayerProfile, Question

from .draft import FhirInputError
from .model_items import field_item, help_item, option
from .tables import tables

CANONICAL = "http://priorauth.local/fhir/Questionnaire"
CITATION = "http://hl7.org/fhir/StructureDefinition/cqf-citation"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
# The case's top-level fields asked in the "request" group.
REQUEST_FIELDS = ("request_type", "site_of_care", "indication_id", "icd10_codes")
SECTIONS = (
    ("patient", "Patient"),
    ("coverage", "Coverage"),
    ("prescriber", "Prescriber"),
    ("measurements", "Body measurements"),
    ("prior_therapies", "Therapies tried"),
    ("never_tried", "Therapy classes never given, with the reason"),
    ("safety", "Safety facts"),
    ("regimen", "Requested regimen"),
    ("clinical_summary", "Clinical summary"),
)


def questionnaire_url(indication_id: str, payer_id: str) -> str:
    return f"{CANONICAL}/ivig-{indication_id}-{payer_id}"


def parse_url(url: str) -> tuple[str, str] | None:
    """(indication, payer) of one of this module's canonical URLs, else None."""
    name = url.split("|", 1)[0].removeprefix(f"{CANONICAL}/ivig-")
    if name == url.split("|", 1)[0]:
        return None
    indication, _, payer = name.rpartition("-")
    return (indication, payer) if indication and payer else None


def resolve(
    library: Library, indication_id: str, payer_id: str | None
) -> tuple[IndicationDefinition, PayerProfile]:
    definition = library.indications.get(indication_id)
    if definition is None:
        raise FhirInputError(f"unknown indication {indication_id!r}; see `priorauth indications`")
    payer = library.payers.get(payer_id or "reference")
    if payer is None:
        raise FhirInputError(
            f"unknown payer profile {payer_id!r}; one of {', '.join(sorted(library.payers))}"
        )
    return definition, payer


def _request_group(definition: IndicationDefinition, payer: PayerProfile) -> dict[str, Any]:
    items = [field_item(name, Case.model_fields[name]) for name in REQUEST_FIELDS]
    by_id = {item["linkId"]: item for item in items}
    by_id["indication_id"].update(
        type="string", readOnly=True, initial=[{"valueString": definition.id}]
    )
    codes = by_id["icd10_codes"]
    codes.update(
        type="open-choice",
        answerOption=[option(code.code, code.description) for code in definition.codes],
    )
    return {"linkId": "request", "type": "group", "text": "The request", "item": items}


def _coverage_group(payer: PayerProfile) -> dict[str, Any]:
    group = field_item("coverage", Case.model_fields["coverage"])
    for item in group["item"]:
        if item["linkId"] == "coverage.payer_profile":
            item.update(readOnly=True, initial=[{"valueString": payer.id}])
    return group


def _regimen_group(library: Library) -> dict[str, Any]:
    """The regimen, with the product chosen from the catalog."""
    group = field_item("regimen", Case.model_fields["regimen"])
    for item in group["item"]:
        if item["linkId"] == "regimen.product_id":
            item.pop("maxLength", None)
            item.update(
                type="choice",
                answerOption=[
                    option(product.id, product.name) for product in library.products.values()
                ],
            )
    return group


def _fact_item(link_id: str, fact: Fact) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": link_id, "text": fact.label}
    kind = fact.kind
    if kind is FactKind.FLAG:
        item["type"] = "boolean"
    elif kind is FactKind.CHOICE:
        item["type"] = "choice"
        item["answerOption"] = [option(code, display) for code, display in fact.choices]
    elif kind is FactKind.DATE:
        item["type"] = "date"
    elif kind is FactKind.NUMBER:
        item["type"] = "decimal"
    else:  # a dated value: one (score) or several (lab results)
        item["type"] = "group"
        item["repeats"] = kind is FactKind.LAB
        value = {"linkId": f"{link_id}.value", "type": "decimal", "text": "Value", "required": True}
        date = {
            "linkId": f"{link_id}.date",
            "type": "date",
            "text": "Date",
            "required": kind is FactKind.LAB,
        }
        if fact.unit:
            value["text"] = f"Value ({fact.unit})"
        item["item"] = [value, date]
        return item
    if fact.unit and kind is FactKind.NUMBER:
        item["extension"] = [{"url": UNIT, "valueCoding": {"display": fact.unit}}]
        item["text"] = f"{fact.label} ({fact.unit})"
    return item


def _help(
    question: Question, definition: IndicationDefinition, payer: PayerProfile
) -> tuple[str, list[str]]:
    """The help text (why, the criteria that test the fact, this payer's changes) and sources."""
    criteria = [c for c in definition.all_criteria() if question.fact in c.facts()]
    lines = [question.why]
    lines += [f"Checked by: {c.title}." for c in criteria]
    for override in payer.overrides:
        if override.indication == definition.id and override.criterion in {c.id for c in criteria}:
            what = ", ".join(f"{key} = {value}" for key, value in override.set.items())
            lines.append(f"{payer.name}: {what} ({override.source}, as of {override.as_of}).")
    sources = cite(definition, [ref for c in criteria for ref in c.citations], payer)
    cited = [f"{s.text} ({s.date}){' ' + s.url if s.url else ''}" for s in sources]
    if cited:
        lines.append("Sources: " + " | ".join(cited))
    return "\n".join(line for line in lines if line), cited


def _answers_group(definition: IndicationDefinition, payer: PayerProfile) -> dict[str, Any]:
    items = []
    for question in definition.questions:
        link_id = f"answers.{question.fact}"
        item = _fact_item(link_id, FACTS[question.fact])
        if question.required:
            item["required"] = True
        kinds = set(question.applies_to)
        expression = enable_expression(question) if question.enable_when else None
        if expression is not None:
            # Request type AND the question's own conditions: more than enableWhen's one
            # behavior can say, so the SDC expression carries all of them (and alone).
            item.setdefault("extension", []).append(
                {
                    "url": ENABLE_WHEN_EXPRESSION,
                    "valueExpression": {"language": "text/fhirpath", "expression": expression},
                }
            )
        elif kinds != set(RequestType):
            item["enableWhen"] = [
                {
                    "question": "request_type",
                    "operator": "=",
                    "answerCoding": {"system": tables().system("case_field"), "code": kind.value},
                }
                for kind in sorted(kinds)
            ]
            item["enableBehavior"] = "any"
        text, cited = _help(question, definition, payer)
        if cited:
            item.setdefault("extension", []).extend(
                {"url": CITATION, "valueString": source} for source in cited
            )
        item["item"] = [*item.get("item", []), help_item(link_id, text)]
        items.append(item)
    return {
        "linkId": "answers",
        "type": "group",
        "text": f"{definition.name}: what {payer.name} checks",
        "item": items,
    }


def build_questionnaire(
    library: Library, indication_id: str, payer_id: str | None = None
) -> dict[str, Any]:
    """The Questionnaire for one indication and payer profile, as FHIR JSON."""
    definition, payer = resolve(library, indication_id, payer_id)
    items: list[dict[str, Any]] = [_request_group(definition, payer)]
    for name, title in SECTIONS:
        if name == "coverage":
            group = _coverage_group(payer)
        elif name == "regimen":
            group = _regimen_group(library)
        else:
            group = field_item(name, Case.model_fields[name])
        group["text"] = title
        items.append(group)
        if name == "measurements":
            items.append(_answers_group(definition, payer))
    resource = {
        "resourceType": "Questionnaire",
        "id": f"ivig-{definition.id}-{payer.id}".replace("_", "-"),
        "url": questionnaire_url(definition.id, payer.id),
        "version": f"{definition.version}+{payer.as_of}",
        "name": f"IVIG_{definition.id}_{payer.id}".replace("-", "_"),
        "title": f"IVIG prior authorization: {definition.name} ({payer.name})",
        "status": "active",
        "subjectType": ["Patient"],
        "description": definition.summary.strip() or definition.name,
        "item": items,
    }
    # Validates against the R4B model: a mistake here is a bug, not bad input.
    return json.loads(Questionnaire.model_validate(resource).model_dump_json())


def model_sections() -> list[str]:
    """The case's fields the questionnaire asks (a check for the tests)."""
    return [*REQUEST_FIELDS, "answers", *(name for name, _ in SECTIONS)]


ENABLE_WHEN_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)
# The items a condition can name, and whether their answers are codings.
_CONDITION_ITEMS = {
    "icd10_codes": "icd10_codes",
    "request_type": "request_type",
    "sex": "patient.sex",
}


def _answer(link_id: str, coded: bool) -> str:
    path = f"%resource.repeat(item).where(linkId='{link_id}').answer.value"
    return f"{path}.code" if coded else path


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _condition(condition: Condition) -> str | None:
    """One condition as FHIRPath over the response; None when no item carries its fact."""
    fact = FACTS.get(condition.fact)
    if condition.fact in _CONDITION_ITEMS:
        link_id, coded = _CONDITION_ITEMS[condition.fact], True
    elif fact is not None and fact.kind in (FactKind.CHOICE, FactKind.FLAG, FactKind.NUMBER):
        link_id, coded = f"answers.{condition.fact}", fact.kind is FactKind.CHOICE
    else:
        return None  # age is computed from the birth date; a dated value has no one answer
    answer = _answer(link_id, coded)
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    listed = " | ".join(_literal(value) for value in values)
    if condition.operator == "exists":
        return f"{answer}.exists()"
    if condition.operator in ("=", "in"):
        return f"{answer}.intersect({listed}).exists()"
    if condition.operator == "!=":
        return f"({answer}.exists() and {answer}.intersect({listed}).empty())"
    return f"({answer} {condition.operator} {_literal(condition.value)})"


def enable_expression(question: Question) -> str | None:
    """The question's request types and conditions as one FHIRPath expression, or None
    when a condition has no item to test in the response (then enableWhen says the rest)."""
    parts = [_condition(condition) for condition in question.enable_when]
    if any(part is None for part in parts):
        return None
    joined = f" {'and' if question.enable_behavior == 'all' else 'or'} ".join(
        part for part in parts if part is not None
    )
    kinds = sorted(kind.value for kind in question.applies_to)
    if set(question.applies_to) != set(RequestType):
        request = _answer("request_type", coded=True)
        wanted = " | ".join(_literal(kind) for kind in kinds)
        return f"{request}.intersect({wanted}).exists() and ({joined})"
    return joined
