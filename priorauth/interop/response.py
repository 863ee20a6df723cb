"""QuestionnaireResponses: filled from a case (what DTR's prefill does), and read back
into a draft.

Each item's linkId is a dotted path of the case JSON. Inside a repeating group
(a therapy, a lab result) the path is relative to the group; elsewhere it is
from the case's root, so presentational groups ("request") need no table.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from priorauth.domain.case import Case
from priorauth.rules.library import Library

from .draft import DraftBuilder, FhirInputError, FromRecord, ImportResult, validation_lines
from .questionnaire import build_questionnaire, parse_url, questionnaire_url
from .tables import tables


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or data.get(part) is None:
            return None
        data = data[part]
    return data


def _answer(item: dict[str, Any], value: Any) -> dict[str, Any] | None:
    kind = item["type"]
    if kind == "boolean" and isinstance(value, bool):
        return {"valueBoolean": value}
    if kind == "integer":
        return {"valueInteger": int(value)}
    if kind == "decimal":
        return {"valueDecimal": value if isinstance(value, Decimal) else Decimal(str(value))}
    if kind == "date":
        return {
            "valueDate": value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        }
    if kind in ("choice", "open-choice"):
        return {"valueCoding": {"system": tables().system("case_field"), "code": str(value)}}
    if kind in ("string", "text"):
        return {"valueString": str(value)} if str(value) else None
    return None


def _fill(items: list[dict[str, Any]], data: Any, base: str) -> list[dict[str, Any]]:
    """Response items for questionnaire items, with values read from data."""
    filled: list[dict[str, Any]] = []
    for item in items:
        link_id = item["linkId"]
        if item["type"] == "display":
            continue
        path = link_id[len(base) + 1 :] if base and link_id.startswith(base + ".") else link_id
        if item["type"] == "group":
            if item.get("repeats"):
                for entry in _get(data, path) or []:
                    children = _fill(item.get("item", []), entry, link_id)
                    if children:
                        filled.append({"linkId": link_id, "item": children})
                continue
            children = _fill(item.get("item", []), data, base)
            if children:
                filled.append({"linkId": link_id, "item": children})
            continue
        value = _get(data, path)
        values = value if isinstance(value, list) else [value]
        answers = [a for a in (_answer(item, v) for v in values if v is not None) if a]
        if answers:
            filled.append({"linkId": link_id, "answer": answers})
    return filled


def prefill_response(
    library: Library,
    case: Case,
    questionnaire: dict[str, Any] | None = None,
    leave_out: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """A completed QuestionnaireResponse holding the case's answers, as FHIR JSON.

    ``leave_out`` names linkIds not to answer (what a payer has no use for).
    """
    questionnaire = questionnaire or build_questionnaire(
        library, case.indication_id, case.coverage.payer_profile
    )
    data = case.model_dump(mode="python")
    resource = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": questionnaire["url"],
        "item": _strip(_fill(questionnaire["item"], data, ""), leave_out),
    }
    return json.loads(QuestionnaireResponse.model_validate(resource).model_dump_json())


def _strip(items: list[dict[str, Any]], leave_out: frozenset[str]) -> list[dict[str, Any]]:
    kept = []
    for item in items:
        if item["linkId"] in leave_out:
            continue
        if "item" in item:
            item = {**item, "item": _strip(item["item"], leave_out)}
        kept.append(item)
    return kept


def _value(answer: Any) -> Any:
    for name in ("valueBoolean", "valueDecimal", "valueInteger", "valueDate", "valueString"):
        value = getattr(answer, name, None)
        if value is not None:
            return Decimal(str(value)) if name == "valueDecimal" else value
    coding = answer.valueCoding
    return coding.code if coding is not None else None


def _put(target: dict[str, Any], path: str, value: Any, append: bool = False) -> bool:
    """Set (or append to) the value at a dotted path; False when the path is taken.

    A response may answer an item twice or in the wrong group: what does not fit
    the shape already read is reported, not forced.
    """
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            return False
    if append:
        items = target.setdefault(last, [])
        if not isinstance(items, list):
            return False
        items.append(value)
        return True
    if last in target:
        return False
    target[last] = value
    return True


def _read(
    items: Any,
    index: dict[str, dict[str, Any]],
    target: dict[str, Any],
    base: str,
    builder: DraftBuilder,
) -> None:
    for item in items or []:
        asked = index.get(item.linkId)
        if asked is None:
            builder.ignore(f"item {item.linkId}", "not an item of the questionnaire")
            continue
        path = (
            item.linkId[len(base) + 1 :]
            if base and item.linkId.startswith(base + ".")
            else item.linkId
        )
        if asked["type"] == "group":
            if asked.get("repeats"):
                entry: dict[str, Any] = {}
                _read(item.item, index, entry, item.linkId, builder)
                if not _put(target, path, entry, append=True):
                    builder.ignore(f"item {item.linkId}", "does not fit where it is answered")
            else:
                _read(item.item, index, target, base, builder)
            continue
        values = [_value(answer) for answer in item.answer or []]
        values = [value for value in values if value is not None]
        if not values:
            continue
        if not _put(target, path, values if asked.get("repeats") else values[0]):
            builder.ignore(f"item {item.linkId}", "answered twice, or where it does not fit")


def read_response(
    library: Library, data: Any, questionnaire: dict[str, Any] | None = None
) -> ImportResult:
    """A QuestionnaireResponse of one of our Questionnaires as a draft case.

    ``questionnaire`` saves rebuilding it when the caller already has it.
    """
    if not isinstance(data, dict) or data.get("resourceType") != "QuestionnaireResponse":
        raise FhirInputError(
            'not a QuestionnaireResponse: expected "resourceType": "QuestionnaireResponse"'
        )
    try:
        response = QuestionnaireResponse.model_validate(data)
    except ValidationError as error:
        raise FhirInputError(
            "not a valid FHIR R4 QuestionnaireResponse", validation_lines(error)
        ) from None
    except (TypeError, KeyError, AttributeError) as error:
        # fhir.resources raises these on some malformed nested resources.
        raise FhirInputError(
            "not a valid FHIR R4 QuestionnaireResponse", [f"(whole resource): {error}"]
        ) from None
    found = parse_url(response.questionnaire or "")
    if found is None:
        raise FhirInputError(
            f"questionnaire {response.questionnaire!r} is not one of priorauth's "
            f"({questionnaire_url('INDICATION', 'PAYER')})"
        )
    if questionnaire is None or questionnaire.get("url") != questionnaire_url(*found):
        questionnaire = build_questionnaire(library, *found)
    index: dict[str, dict[str, Any]] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            index[item["linkId"]] = item
            walk(item.get("item", []))

    walk(questionnaire["item"])
    builder = DraftBuilder()
    _read(response.item, index, builder.draft, "", builder)
    source = f"QuestionnaireResponse/{response.id or '(no id)'}"
    for key in list(builder.draft):
        builder.sources.append(FromRecord(key, source))
    coverage = builder.draft.get("coverage")
    if isinstance(coverage, dict) and "payer_profile" not in coverage:
        # A response sent to a payer leaves the profile out; the questionnaire names it.
        coverage["payer_profile"] = found[1]
    return builder.result()
