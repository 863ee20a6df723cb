"""Questionnaire items for the parts of a case every indication asks the same way.

The case model itself says what to ask: each field of Patient, Coverage,
Measurements, Regimen... becomes an item of the matching FHIR type, a nested
model a group, a list of models a repeating group, an enum a choice. The item's
linkId is the field's dotted path in the case JSON, so a response reads back
without a second table.
"""

from __future__ import annotations

import datetime as dt
import types
from decimal import Decimal
from enum import Enum
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from priorauth.domain.case import PLAN_LABELS, SITE_LABELS
from priorauth.domain.facts import SPECIALTIES, THERAPY_CLASSES
from priorauth.domain.treatment_history import NEVER_TRIED_LABELS, OUTCOME_LABELS

from .tables import tables

ENUM_LABELS: dict[Any, str] = {**SITE_LABELS, **PLAN_LABELS, **OUTCOME_LABELS, **NEVER_TRIED_LABELS}
# Fields whose values come from a list in code rather than from an enum.
CODE_LISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "prescriber.specialty": SPECIALTIES,
    "prior_therapies.therapy_class": THERAPY_CLASSES,
    "never_tried.therapy_class": THERAPY_CLASSES,
}
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
MAX_TEXT = 200
MAX_LONG_TEXT = 4000


def option(code: str, display: str) -> dict[str, Any]:
    return {
        "valueCoding": {"system": tables().system("case_field"), "code": code, "display": display}
    }


def help_item(link_id: str, text: str) -> dict[str, Any]:
    """A display item the form shows as the question's help: why the payer asks."""
    return {
        "linkId": f"{link_id}.help",
        "type": "display",
        "text": text,
        "extension": [
            {
                "url": ITEM_CONTROL,
                "valueCodeableConcept": {
                    "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "help"}]
                },
            }
        ],
    }


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The type inside an Optional, and whether None is allowed."""
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        return (inner[0] if len(inner) == 1 else annotation), len(inner) < len(get_args(annotation))
    return annotation, False


def _max_length(info: FieldInfo) -> int | None:
    for item in info.metadata:
        length = getattr(item, "max_length", None)
        if isinstance(length, int):
            return length
    return None


def _label(name: str, info: FieldInfo) -> str:
    words = name.replace("_", " ")
    words = words[:1].upper() + words[1:]
    return f"{words} ({info.description})" if info.description else words


def field_item(path: str, info: FieldInfo) -> dict[str, Any]:
    """One item for a model field at a dotted path (recursing into nested models)."""
    annotation, optional = _unwrap(info.annotation)
    item: dict[str, Any] = {"linkId": path, "text": _label(path.rsplit(".", 1)[-1], info)}
    if info.is_required() and not optional:
        item["required"] = True
    origin = get_origin(annotation)
    if origin is list:
        (inner,) = get_args(annotation)
        inner, _ = _unwrap(inner)
        item["repeats"] = True
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            item["type"] = "group"
            item["item"] = model_items(inner, path)
            return item
        item["type"] = "string"
        return item
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        item["type"] = "group"
        item["item"] = model_items(annotation, path)
        return item
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        item["type"] = "choice"
        item["answerOption"] = [
            option(str(member.value), ENUM_LABELS.get(member, str(member.value)))
            for member in annotation
        ]
        return item
    codes = CODE_LISTS.get(path.split(".", 1)[0] + "." + path.rsplit(".", 1)[-1])
    if codes is not None:
        item["type"] = "choice"
        item["answerOption"] = [option(code, display) for code, display in codes]
        return item
    item["type"] = {
        bool: "boolean",
        int: "integer",
        Decimal: "decimal",
        dt.date: "date",
    }.get(annotation, "string")
    if item["type"] == "string":
        length = _max_length(info) or MAX_TEXT
        if length > MAX_TEXT:
            item["type"] = "text"
        item["maxLength"] = length
    return item


def model_items(
    model: type[BaseModel], prefix: str, skip: frozenset[str] = frozenset()
) -> list[Any]:
    """Items for every field of a model, under a dotted prefix."""
    return [
        field_item(f"{prefix}.{name}" if prefix else name, info)
        for name, info in model.model_fields.items()
        if name not in skip
    ]


def walk(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item, depth first."""
    found: list[dict[str, Any]] = []
    for item in items:
        found.append(item)
        found.extend(walk(item.get("item", [])))
    return found
