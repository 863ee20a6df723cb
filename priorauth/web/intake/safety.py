# mypy: disallow-subclassing-any=False
"""The intake's safety facts and its "never tried" rows: their fields, reading and values.

Each safety fact is yes, no or not recorded: not recorded raises no flag, and
the case page says so. A therapy class never given is a class and a reason
(contraindicated, not tolerated, declined, not tried), never invented dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wtforms import Field, Form, FormField

from priorauth.domain.facts import THERAPY_CLASSES
from priorauth.domain.treatment_history import NEVER_TRIED_LABELS

from ..fields import TEXT_MAX_CHARS, date_field, long_text_field, number_field, select_field

YES_NO = (("yes", "Yes"), ("no", "No"))
NOT_RECORDED = "Not recorded"
YES_NO_VALUES = {"yes": True, "no": False}
MAX_THROMBOSIS_FACTORS = 12  # the domain's limit
# Twelve lines of the domain's 200 characters, and their line breaks.
THROMBOSIS_MAX_CHARS = MAX_THROMBOSIS_FACTORS * (TEXT_MAX_CHARS + 2)
MAX_NEVER_TRIED_ROWS = 20  # the domain's limit


def _yes_no(label: str, why: str) -> Any:
    return select_field(label, YES_NO, blank=NOT_RECORDED, description=why)


class DatedValueForm(Form):
    value = number_field("Value")
    date = date_field("Date measured")


# The questions in the order a clinician reads a chart; each says why it is asked.
YES_NO_FACTS = (
    "iga_deficient",
    "anti_iga_antibodies",
    "renal_impairment",
    "diabetes",
    "heart_failure_or_fluid_restriction",
    "hyperprolinemia",
    "hereditary_fructose_intolerance",
    "hyaluronidase_hypersensitivity",
)
DATED_FACTS = ("egfr", "creatinine")


class SafetyForm(Form):
    iga_deficient = _yes_no(
        "IgA deficiency", "A product with less IgA is preferred when IgA is absent."
    )
    anti_iga_antibodies = _yes_no(
        "Antibodies against IgA",
        "Payers check anti-IgA antibodies as a contraindication and ask for the status.",
    )
    egfr = FormField(DatedValueForm, label="eGFR (mL/min/1.73 m²), with its date")
    creatinine = FormField(DatedValueForm, label="Serum creatinine (mg/dL), with its date")
    renal_impairment = _yes_no(
        "Known kidney disease",
        "IVIG carries a boxed warning for renal failure; sugar-stabilized products are avoided.",
    )
    diabetes = _yes_no(
        "Diabetes", "Maltose-containing products can falsely raise glucose-meter readings."
    )
    thrombosis_risk_factors = long_text_field(
        "Thrombosis risk factors",
        THROMBOSIS_MAX_CHARS,
        description=f"One per line, at most {MAX_THROMBOSIS_FACTORS}: for example prior DVT, "
        "estrogen use, immobility. The label's lower rate applies to patients at risk.",
    )
    heart_failure_or_fluid_restriction = _yes_no(
        "Heart failure or fluid restriction",
        "A more concentrated product gives the same dose in less fluid.",
    )
    hyperprolinemia = _yes_no("Hyperprolinemia", "Privigen and Hizentra contain L-proline.")
    hereditary_fructose_intolerance = _yes_no(
        "Hereditary fructose intolerance", "Sorbitol-containing products and Gammaplex."
    )
    hyaluronidase_hypersensitivity = _yes_no(
        "Hypersensitivity to hyaluronidase", "HyQvia contains recombinant hyaluronidase."
    )


class NeverTriedForm(Form):
    therapy_class = select_field("Class never given", THERAPY_CLASSES)
    reason = select_field(
        "Why it was never given",
        [(reason.value, label) for reason, label in NEVER_TRIED_LABELS.items()],
    )
    note = long_text_field("Note", description="For example the contraindication, in a sentence.")


def _text(item: Field) -> str | None:
    if item.errors or not isinstance(item.data, str):
        return None
    return item.data.strip() or None


def read_safety(sub: Form) -> dict[str, Any]:
    """The safety facts typed, as the domain's SafetyFacts data (blank means not recorded)."""
    facts: dict[str, Any] = {}
    for name in YES_NO_FACTS:
        value = YES_NO_VALUES.get(_text(sub[name]) or "")
        if value is not None:
            facts[name] = value
    for name in DATED_FACTS:
        dated = sub[name].form
        row = {key: text for key in ("value", "date") if (text := _text(dated[key])) is not None}
        if row:
            facts[name] = row
    factors = _text(sub.thrombosis_risk_factors)
    if factors:
        facts["thrombosis_risk_factors"] = [
            line.strip() for line in factors.splitlines() if line.strip()
        ]
    return facts


def read_never_tried(entries: list[Any]) -> tuple[list[dict[str, Any]], list[int]]:
    """The rows that say something, and the position of each on the page."""
    rows, positions = [], []
    for position, entry in enumerate(entries):
        row = {
            key: text
            for key in ("therapy_class", "reason", "note")
            if (text := _text(entry.form[key])) is not None
        }
        if row:
            rows.append(row)
            positions.append(position)
    return rows, positions


def safety_pairs(safety: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The form's fields for stored safety facts."""
    pairs: list[tuple[str, str]] = []
    for name, value in (safety or {}).items():
        if value is None or value == []:
            continue
        if name in DATED_FACTS and isinstance(value, Mapping):
            pairs += [(f"safety-{name}-{key}", str(value[key])) for key in ("value", "date")]
        elif name == "thrombosis_risk_factors":
            pairs.append(("safety-thrombosis_risk_factors", "\n".join(value)))
        elif isinstance(value, bool):
            pairs.append((f"safety-{name}", "yes" if value else "no"))
    return pairs


def never_tried_pairs(rows: list[Mapping[str, Any]] | None) -> list[tuple[str, str]]:
    return [
        (f"never_tried-{index}-{key}", str(value))
        for index, row in enumerate(rows or [])
        for key, value in row.items()
        if value not in (None, "")
    ]
