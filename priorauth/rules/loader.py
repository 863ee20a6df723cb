"""Load every definition under forms/ into frozen models, or explain what is wrong.

A load error reads as a breadcrumb a person can act on:

    forms/indications/cidp/definition.toml → indication cidp → criteria[2] (demyelination)
      → fcat: unknown key; did you mean 'fact'?

Layout of the folder:
    indications/<id>/definition.toml   one per indication (its examples/ beside it)
    payers/<id>.toml                   payer profiles
    products.toml                      the product catalog
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from priorauth.domain.catalog import Product
from priorauth.domain.dosing import DosingWeightPolicy
from priorauth.domain.facts import FACTS

from . import schema
from .codesets import icd10cm_entry, icd10cm_problem, icd10cm_source
from .schema import IndicationDefinition, PayerProfile, ProductCatalog


class DefinitionError(Exception):
    """One or more definition files cannot be loaded; each problem is a breadcrumb."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Definitions:
    """The indications, payer profiles and product catalog of one forms/ folder."""

    indications: Mapping[str, IndicationDefinition]
    payers: Mapping[str, PayerProfile]
    products: Mapping[str, Product]
    catalog_as_of: str
    # Short content hash per file: a stored document records which versions made it.
    file_versions: Mapping[str, str] = field(default_factory=dict)


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for value in vars(schema).values():
        if isinstance(value, type) and issubclass(value, BaseModel):
            names.update(value.model_fields)
    names.update(Product.model_fields)
    names.update(DosingWeightPolicy.model_fields)
    return names


_KNOWN_KEYS = _all_field_names()


def _hint(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    loc = error["loc"]
    last = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(last, _KNOWN_KEYS, n=1)
        suggestion = (
            f"; did you mean {close[0]!r}?" if close else "; remove it or check the spelling"
        )
        return f"unknown key{suggestion}"
    if kind == "missing":
        return "required key is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        found = error.get("input", {}).get("kind") if isinstance(error.get("input"), dict) else None
        choices = ", ".join(schema.CRITERION_KINDS)
        close = difflib.get_close_matches(str(found), schema.CRITERION_KINDS, n=1) if found else []
        mean = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown kind {found!r}{mean} (kinds: {choices})"
    message = str(error["msg"]).removeprefix("Value error, ")
    if "unknown fact" in message:
        name = message.split("'")[1] if "'" in message else ""
        close = difflib.get_close_matches(name, FACTS, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
    return message


def _breadcrumb(path: Path, what: str, data: Any, error: Mapping[str, Any]) -> str:
    crumbs = [str(path), what]
    node = data
    loc = list(error["loc"])
    key_path: list[str] = []
    for step in loc:
        if (
            isinstance(node, dict)
            and isinstance(step, str)
            and step not in node
            and node.get("kind") == step
        ):
            continue  # a discriminator tag in pydantic's location, not a key in the file
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            item = node[step]
            label = f"{key_path.pop() if key_path else ''}[{step}]"
            if isinstance(item, dict) and "id" in item:
                label += f" ({item['id']})"
            crumbs.append(label)
            node = item
            continue
        key_path.append(str(step))
        node = node.get(step) if isinstance(node, dict) else None
    key = ".".join(key_path) if key_path else "(whole entry)"
    return " → ".join([*crumbs, f"{key}: {_hint(error)}"])


def read_toml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        problems.append(f"{path} → not valid TOML: {error}")
    except OSError as error:
        problems.append(f"{path} → cannot be read: {error.strerror}")
    return None


def validate_model(
    model: type[BaseModel], path: Path, what: str, data: dict[str, Any], problems: list[str]
) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            problems.append(_breadcrumb(path, what, data, item))
    return None


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def load_definitions(root: Path) -> Definitions:
    """Load and cross-check every definition; raise DefinitionError listing all problems."""
    problems: list[str] = []
    if not root.is_dir():
        raise DefinitionError([f"{root} → not a folder of definitions"])
    versions: dict[str, str] = {}

    indications: dict[str, IndicationDefinition] = {}
    for path in sorted((root / "indications").glob("*/definition.toml")):
        data = read_toml(path, problems)
        if data is None:
            continue
        label = f"indication {data.get('id', path.parent.name)}"
        definition = validate_model(IndicationDefinition, path, label, data, problems)
        if definition is None:
            continue
        definition = _confirm_codes(path, label, definition, problems)
        problems.extend(_check_periods(path, label, definition))
        problems.extend(_check_conditions(path, label, definition))
        if definition.id != path.parent.name:
            problems.append(
                f"{path} → {label} → id: must match its folder name {path.parent.name!r}"
            )
        elif definition.id in indications:
            problems.append(f"{path} → {label} → id: used by another indication")
        else:
            indications[definition.id] = definition
            versions[f"indication:{definition.id}"] = f"{definition.version}/{_digest(path)}"

    products: dict[str, Product] = {}
    catalog_as_of = ""
    catalog_path = root / "products.toml"
    if catalog_path.exists():
        data = read_toml(catalog_path, problems)
        catalog = (
            validate_model(ProductCatalog, catalog_path, "catalog", data, problems)
            if data
            else None
        )
        if catalog is not None:
            catalog_as_of = catalog.as_of
            versions["products"] = f"{catalog.as_of}/{_digest(catalog_path)}"
            for product in catalog.products:
                if product.id in products:
                    problems.append(f"{catalog_path} → product {product.id} → id: used twice")
                products[product.id] = product
    else:
        problems.append(f"{catalog_path} → missing: the product catalog is required")

    payers: dict[str, PayerProfile] = {}
    for path in sorted((root / "payers").glob("*.toml")):
        data = read_toml(path, problems)
        if data is None:
            continue
        profile = check_payer(path, data, path.stem, indications, products, problems)
        if profile is None:
            continue
        payers[profile.id] = profile
        versions[f"payer:{profile.id}"] = payer_version_key(profile, path.read_bytes())
    if "reference" not in payers and not problems:
        problems.append(
            f"{root / 'payers'} → the reference payer profile (reference.toml) is "
            "missing; every case falls back to it"
        )

    if problems:
        raise DefinitionError(problems)
    return Definitions(
        indications=indications,
        payers=payers,
        products=products,
        catalog_as_of=catalog_as_of,
        file_versions=versions,
    )


def _check_periods(path: Path, label: str, definition: IndicationDefinition) -> list[str]:
    """Every indication has its periods from a source, or says why it has none.

    Periods without a citation must be marked unverified, and an unverified mark
    (or a missing period) needs the reason in the note.
    """
    periods = definition.authorization
    crumb = f"{path} → {label} → authorization"
    has_period = periods.initial_months is not None or periods.continuation_months is not None
    if not has_period and not periods.unverified:
        return [
            f"{crumb}: give the periods from a source, or set unverified = true with the reason"
        ]
    if has_period and not periods.citations and not periods.unverified:
        return [f"{crumb}: cite the source of the periods, or set unverified = true"]
    if periods.unverified and not periods.note.strip():
        return [f"{crumb} → note: say why the periods are unverified"]
    return []


def _check_conditions(path: Path, label: str, definition: IndicationDefinition) -> list[str]:
    """A question's condition on ICD-10-CM codes names only codes this indication lists."""
    listed = {code.code for code in definition.codes}
    problems = []
    for index, question in enumerate(definition.questions):
        for number, condition in enumerate(question.enable_when):
            if condition.fact != "icd10_codes":
                continue
            value = condition.value
            wanted = value if isinstance(value, tuple) else (value,)
            for code in wanted:
                if code not in listed:
                    problems.append(
                        f"{path} → {label} → questions[{index}] ({question.fact}) → "
                        f"enable_when[{number}]: {code!r} is not one of this indication's codes"
                    )
    return problems


def _confirm_codes(
    path: Path, label: str, definition: IndicationDefinition, problems: list[str]
) -> IndicationDefinition:
    """Every code must exist in the ICD-10-CM code set and be billable.

    A confirmed code takes its description from the code set and loses its
    "unverified" mark, whatever the file says: the code set is the authority.
    """
    confirmed = []
    for index, code in enumerate(definition.codes):
        problem = icd10cm_problem(code.code)
        entry = icd10cm_entry(code.code)
        if problem is not None or entry is None:
            problems.append(f"{path} → {label} → codes[{index}] ({code.code}) → code: {problem}")
            confirmed.append(code)
            continue
        note = code.note if code.verified and code.note else icd10cm_source()
        confirmed.append(
            code.model_copy(
                update={"description": entry.description, "verified": True, "note": note}
            )
        )
    return definition.model_copy(update={"codes": tuple(confirmed)})


def payer_version_key(profile: PayerProfile, content: bytes) -> str:
    """The profile's entry in ``file_versions``: its own version and its content's hash,
    so both a raised version and an edit that kept it are seen as a change."""
    return f"{profile.version}/{hashlib.sha256(content).hexdigest()[:12]}"


def check_payer(
    path: Path,
    data: dict[str, Any],
    expected_id: str,
    indications: Mapping[str, IndicationDefinition],
    products: Mapping[str, Product],
    problems: list[str],
) -> PayerProfile | None:
    """One payer profile's data checked as ``forms check`` checks it: the model, the id it
    must have, and every product and criterion it names. None (with problems) if wrong."""
    label = f"payer {data.get('id', expected_id)}"
    profile = validate_model(PayerProfile, path, label, data, problems)
    if profile is None:
        return None
    if profile.id != expected_id:
        problems.append(f"{path} → {label} → id: must be {expected_id!r} (the profile's name)")
        return None
    found = _check_payer(path, profile, indications, products)
    problems.extend(found)
    return None if found else profile


def payer_from_text(
    text: str,
    path: Path,
    expected_id: str,
    indications: Mapping[str, IndicationDefinition],
    products: Mapping[str, Product],
) -> tuple[PayerProfile | None, list[str]]:
    """A payer profile from TOML text (an admin's edit), with the breadcrumbs of any problem."""
    problems: list[str] = []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, [f"{path} → not valid TOML: {error}"]
    profile = check_payer(path, data, expected_id, indications, products, problems)
    return profile, problems


def _check_payer(
    path: Path,
    profile: PayerProfile,
    indications: Mapping[str, IndicationDefinition],
    products: Mapping[str, Product],
) -> list[str]:
    problems = []
    where = f"{path} → payer {profile.id}"
    for key in ("preferred_products", "excluded_products"):
        for product_id in getattr(profile, key):
            if product_id not in products:
                close = difflib.get_close_matches(product_id, products, n=1)
                mean = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(f"{where} → {key}: unknown product {product_id!r}{mean}")
    for index, override in enumerate(profile.overrides):
        crumb = f"{where} → overrides[{index}] ({override.indication}.{override.criterion})"
        definition = indications.get(override.indication)
        if definition is None:
            problems.append(f"{crumb} → indication: unknown indication {override.indication!r}")
            continue
        target = next((c for c in definition.all_criteria() if c.id == override.criterion), None)
        if target is None:
            problems.append(
                f"{crumb} → criterion: {override.indication} has no criterion "
                f"{override.criterion!r}"
            )
            continue
        try:
            apply_override(target, override.set)
        except (ValueError, ValidationError) as error:
            problems.append(f"{crumb} → set: {error}")
    return problems


def apply_override(criterion: Any, changes: Mapping[str, Any]) -> Any:
    """Return the criterion with a payer's changes, validated like the original."""
    unknown = [key for key in changes if key not in type(criterion).model_fields or key == "id"]
    if unknown:
        raise ValueError(f"cannot set {', '.join(unknown)} on a {criterion.kind} criterion")
    data = criterion.model_dump()
    data.update(changes)
    return type(criterion).model_validate(data)
