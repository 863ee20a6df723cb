"""How a continuation shows the response to treatment: each measure before and now.

The measures come from the questions the indication's definition asks of a
continuation; a score or count recorded before immune globulin is paired with
its value now, and the change is said with the direction that is better.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from priorauth.domain.case import Case, RequestType
from priorauth.domain.facts import FACTS, FactKind
from priorauth.domain.quantities import plain_number
from priorauth.rules.schema import IndicationDefinition

from .wording import format_short_date, in_sentence


@dataclass(frozen=True, slots=True)
class MeasureRow:
    """An objective measure before immune globulin and now, as a continuation shows it."""

    measure: str
    before: str
    now: str
    change: str


# Measures with a "before" fact that is not named <measure>_baseline.
_PAIRED_NUMBERS = {"infections_past_year_on_treatment": "infections_past_year"}


def _unit_text(value: Decimal, unit: str) -> str:
    if not unit:
        return plain_number(value)
    if unit in ("points", "infections") and abs(value) == 1:
        unit = unit[:-1]
    return f"{plain_number(value)} {unit}"


def _value_text(raw: object, unit: str) -> str:
    """A recorded score, number or list of lab results as a letter writes it."""
    if raw is None:
        return "not recorded"
    if isinstance(raw, list):
        return "; ".join(
            f"{_unit_text(r.value, unit)} ({format_short_date(r.date)})"
            for r in sorted(raw, key=lambda r: r.date)
        )
    value = getattr(raw, "value", raw)
    text = _unit_text(Decimal(str(value)), unit)
    date = getattr(raw, "date", None)
    return f"{text} ({format_short_date(date)})" if date else text


def _change_text(before: Decimal, now: Decimal, unit: str, higher_is_better: bool) -> str:
    """Say which way a measure moved, by how much, and which way is better."""
    diff = now - before
    better = diff if higher_is_better else -diff
    if better == 0:
        return "No change"
    word = "Improved" if better > 0 else "Worse"
    scale = "higher is better" if higher_is_better else "lower is better"
    return f"{word} by {_unit_text(abs(diff), unit)} ({scale})"


def response_rows(case: Case, definition: IndicationDefinition) -> tuple[MeasureRow, ...]:
    """The objective measures a continuation is judged on, from what the definition asks."""
    rows: list[MeasureRow] = []
    for question in definition.questions_for(RequestType.CONTINUATION):
        name = question.fact
        fact = FACTS[name]
        now_raw = case.answer(name)
        if fact.kind is FactKind.SCORE and name.endswith("_current"):
            before_name = name.removesuffix("_current") + "_baseline"
        elif name in _PAIRED_NUMBERS:
            before_name = _PAIRED_NUMBERS[name]
        elif fact.kind is FactKind.LAB:
            if now_raw:
                rows.append(MeasureRow(fact.label, "—", _value_text(now_raw, fact.unit), ""))
            continue
        else:
            continue
        before_raw = case.answer(before_name) if before_name in FACTS else None
        if before_raw is None and now_raw is None:
            continue
        change = ""
        if before_raw is not None and now_raw is not None:
            before = Decimal(str(getattr(before_raw, "value", before_raw)))
            now = Decimal(str(getattr(now_raw, "value", now_raw)))
            # Fewer infections is better; scores say which way is better themselves.
            higher = bool(fact.higher_is_better) if fact.kind is FactKind.SCORE else False
            change = _change_text(before, now, fact.unit, higher)
        rows.append(
            MeasureRow(
                measure=fact.label.removesuffix(" now").removesuffix(" on treatment"),
                before=_value_text(before_raw, fact.unit),
                now=_value_text(now_raw, fact.unit),
                change=change,
            )
        )
    response = case.answer("response_to_ivig")
    if response is not None:
        label = dict(FACTS["response_to_ivig"].choices)[response]
        rows.append(MeasureRow(FACTS["response_to_ivig"].label, "—", label, ""))
    return tuple(rows)


def dose_reduction_text(case: Case) -> str:
    """Whether a lower dose or a trial off was attempted, as recorded."""
    answer = case.answer("dose_reduction_attempt")
    if answer is None:
        return ""
    fact = FACTS["dose_reduction_attempt"]
    return f"{fact.label}: {in_sentence(dict(fact.choices)[answer])}."
