# mypy: disallow-subclassing-any=False
# (WTForms ships no type information: its Form and fields are Any to mypy.)
"""Field shapes every form of the web layer shares: text, numbers, dates, choices, messages.

WTForms checks only the shape of what arrives (lengths, known choices, no
control characters); what a value means is the domain's and the rules' answer.
Here: the one control-character check, the field helpers built on it, the words
a person reads for a pydantic error, one adapter per kind of fact, and the
error summary that links each message to its field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import ErrorDetails
from wtforms import (
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length
from wtforms.validators import ValidationError as ShapeError
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, TextInput

from priorauth.domain import identifiers
from priorauth.domain.facts import Fact, FactKind
from priorauth.rules.schema import Question

try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - WTForms before 3.3
    SelectChoice = None

# Shape limits. Text limits match the domain's; numbers and dates get room for
# a wrong format to reach the domain's clearer message.
TEXT_MAX_CHARS = 200
LONG_TEXT_MAX_CHARS = 4000
NUMBER_MAX_CHARS = 40
DATE_MAX_CHARS = 40
MIN_LAB_ROWS = 2  # payers often want two results weeks apart: offer two rows
MAX_LAB_ROWS = 12

# --- the one control-character check --------------------------------------------------------

# Invisible characters that reorder the text around them: a name could read one
# way on screen and another in the letter (the "Trojan Source" trick).
BIDI_CONTROLS = identifiers.BIDI_CONTROLS
# A browser sends a textarea's line breaks as CR LF.
LONG_TEXT_ALLOWED = frozenset("\n\r\t")
CONTROL_CHARACTERS_MESSAGE = "Remove the control characters (pasted from another program?)."


def has_control_characters(text: str, *, long_text: bool = False) -> bool:
    """True when the text holds a C0 or C1 control or a bidirectional override.

    NUL is among them (PostgreSQL's JSON refuses it outright). Line breaks and
    tabs belong in long text only.
    """
    allowed = LONG_TEXT_ALLOWED if long_text else frozenset()
    return any(
        (unicodedata.category(ch) == "Cc" and ch not in allowed) or ch in BIDI_CONTROLS
        for ch in text
    )


def no_control_characters(*, long_text: bool = False) -> Callable[[Form, Field], None]:
    """The WTForms validator form of ``has_control_characters``."""

    def check(_form: Form, field: Field) -> None:
        value = field.data if isinstance(field.data, str) else ""
        if has_control_characters(value, long_text=long_text):
            raise ShapeError(CONTROL_CHARACTERS_MESSAGE)

    return check


# --- field helpers --------------------------------------------------------------------------


def _with_maxlength(kwargs: dict[str, Any], max_chars: int) -> dict[str, Any]:
    """The browser stops typing and pasting at the limit, before anything is posted."""
    return {**kwargs, "render_kw": {**(kwargs.get("render_kw") or {}), "maxlength": max_chars}}


def text_field(label: str, max_chars: int = TEXT_MAX_CHARS, **kwargs: Any) -> StringField:
    message = f"Too long: at most {max_chars} characters."
    return StringField(
        label,
        [Length(max=max_chars, message=message), no_control_characters()],
        **_with_maxlength(kwargs, max_chars),
    )


def long_text_field(
    label: str, max_chars: int = LONG_TEXT_MAX_CHARS, **kwargs: Any
) -> TextAreaField:
    """A long text; its limit is shown under it (a paste past it is cut by the browser)."""
    message = f"Too long: at most {max_chars} characters."
    limit = f"At most {max_chars:,} characters."
    description = kwargs.pop("description", "")
    return TextAreaField(
        label,
        [Length(max=max_chars, message=message), no_control_characters(long_text=True)],
        description=f"{description} {limit}".strip(),
        **_with_maxlength(kwargs, max_chars),
    )


def number_field(label: str, inputmode: str = "decimal", **kwargs: Any) -> StringField:
    # type="text" with inputmode: a number input would let the browser drop
    # what was typed ("70,5") instead of showing it back with a message.
    return text_field(
        label,
        NUMBER_MAX_CHARS,
        widget=TextInput(),
        render_kw={"inputmode": inputmode, "autocomplete": "off", "class": "input-number"},
        **kwargs,
    )


def date_field(label: str, **kwargs: Any) -> StringField:
    """A date typed as text: the domain's message explains a wrong one.

    No maxlength: the browser's date picker sends a date of its own length.
    """
    message = f"Too long: at most {DATE_MAX_CHARS} characters."
    return StringField(
        label,
        [Length(max=DATE_MAX_CHARS, message=message), no_control_characters()],
        widget=DateInput(),
        **kwargs,
    )


def options(pairs: Sequence[tuple[str, str]]) -> list[Any]:
    """Choices in the form this WTForms version prefers."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def select_field(
    label: str, choices: Sequence[tuple[str, str]], blank: str | None = "Choose…", **kwargs: Any
) -> SelectField:
    pairs = ([("", blank)] if blank is not None else []) + list(choices)
    if blank is not None:
        kwargs.setdefault("default", "")  # nothing chosen yet is the blank option, not an error
    return SelectField(label, choices=options(pairs), **kwargs)


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes; the template renders each option inside one fieldset."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# --- what a person reads for a domain error -------------------------------------------------

# By pydantic's error type, instead of pydantic's wording.
MESSAGES: dict[str, str] = {
    "missing": "Required: fill this in.",
    "string_too_short": "Required: fill this in.",
    "decimal_parsing": "Enter a number, with a dot for decimals (for example 72.5).",
    "decimal_type": "Enter a number, with a dot for decimals (for example 72.5).",
    "finite_number": "Enter a number, with a dot for decimals (for example 72.5).",
    "int_parsing": "Enter a whole number.",
    "int_from_float": "Enter a whole number.",
    "int_type": "Enter a whole number.",
    "date_parsing": "Enter a real date as year-month-day (for example 2026-03-14).",
    "date_from_datetime_parsing": "Enter a real date as year-month-day (for example 2026-03-14).",
    "date_from_datetime_inexact": "Enter a real date as year-month-day (for example 2026-03-14).",
    "date_type": "Enter a real date as year-month-day (for example 2026-03-14).",
    "enum": "Choose one of the options.",
    "literal_error": "Choose one of the options.",
    "string_pattern_mismatch": "Choose one of the options.",
    "greater_than": "Must be more than {gt}.",
    "greater_than_equal": "Must be at least {ge}.",
    "less_than": "Must be less than {lt}.",
    "less_than_equal": "Must be at most {le}.",
    "string_too_long": "Too long: at most {max_length} characters.",
    "too_short": "Choose at least {min_length}.",
    "too_long": "At most {max_length} entries.",
}
NUMBER_MESSAGE = MESSAGES["decimal_parsing"]
DATE_MESSAGE = MESSAGES["date_parsing"]


def sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def friendly_message(error: ErrorDetails | Mapping[str, Any]) -> str:
    """Turn one pydantic error into a sentence for the person who typed the value."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "value_error":
        message = str(context.get("error", error.get("msg", ""))).removeprefix("Value error, ")
        return sentence(message) if message else "Check this value."
    template = MESSAGES.get(kind)
    if template is None:
        return str(error.get("msg", "Check this value."))
    try:
        return template.format(**{key: str(value) for key, value in context.items()})
    except (KeyError, IndexError):
        return str(error.get("msg", "Check this value."))


def message_for(detail: ErrorDetails, target: Field | None) -> str:
    """The domain's message, worded for the kind of control it lands on."""
    if isinstance(target, MultiCheckboxField) and detail["type"] == "too_short":
        return "Tick at least one."
    if isinstance(target, SelectField) and detail["type"] in ("missing", "string_too_short"):
        return "Choose one of the options."
    return friendly_message(detail)


def split_path(dotted: str) -> list[str | int]:
    """A dotted field path ("reasons.0.criteria") as the location pydantic would give."""
    return [int(part) if part.isdigit() else part for part in dotted.split(".") if part]


def add_error(item: Field, message: str) -> None:
    """Attach a message to a field unless it has one already (one message is enough)."""
    if item.errors:
        return
    item.errors = [message]


# --- one adapter per kind of fact -----------------------------------------------------------


class LabRowForm(Form):
    value = number_field("Value")
    date = date_field("Date")


class ScoreForm(Form):
    value = number_field("Score")
    date = date_field("Date assessed")


FLAG_CHOICES = [("yes", "Yes"), ("no", "No"), ("unknown", "Not known yet")]


def _unit(fact: Fact) -> str:
    return f" ({fact.unit})" if fact.unit else ""


def _lab_adapter(fact: Fact, question: Question) -> FieldList:
    return FieldList(
        FormField(LabRowForm),
        label=f"{fact.label} ({fact.unit}) result",
        description=question.why,
        min_entries=MIN_LAB_ROWS,
        max_entries=MAX_LAB_ROWS,
    )


def _score_adapter(fact: Fact, question: Question) -> FormField:
    return FormField(ScoreForm, label=f"{fact.label}{_unit(fact)}", description=question.why)


def _number_adapter(fact: Fact, question: Question) -> StringField:
    return number_field(f"{fact.label}{_unit(fact)}", description=question.why)


def _flag_adapter(fact: Fact, question: Question) -> RadioField:
    return RadioField(
        fact.label, choices=options(FLAG_CHOICES), default="unknown", description=question.why
    )


def _choice_adapter(fact: Fact, question: Question) -> SelectField:
    return select_field(fact.label, fact.choices, blank="Not answered", description=question.why)


def _date_adapter(fact: Fact, question: Question) -> StringField:
    return date_field(fact.label, description=question.why)


ADAPTERS: dict[FactKind, Callable[[Fact, Question], Any]] = {
    FactKind.LAB: _lab_adapter,
    FactKind.SCORE: _score_adapter,
    FactKind.NUMBER: _number_adapter,
    FactKind.FLAG: _flag_adapter,
    FactKind.CHOICE: _choice_adapter,
    FactKind.DATE: _date_adapter,
}


# --- the error summary ----------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorLink:
    """One line of the error summary: the field's id to link to, its label, the message."""

    anchor: str
    label: str
    message: str


def anchor_id(item: Field) -> str:
    """The id the summary links to: the first option of a group of radios or boxes."""
    if isinstance(item, (RadioField, MultiCheckboxField)):
        return f"{item.id}-0"
    return str(item.id)


def _leaves(form: Form, prefix: str) -> Iterator[tuple[Field, str]]:
    for item in form:
        if isinstance(item, HiddenField):
            continue
        if isinstance(item, FormField):
            label = item.label.text
            inner = f"{prefix}: {label}" if prefix and label else (label or prefix)
            yield from _leaves(item.form, inner)
        elif isinstance(item, FieldList):
            for position, entry in enumerate(item.entries):
                row = f"{item.label.text} {position + 1}"
                if isinstance(entry, FormField):
                    yield from _leaves(entry.form, row)
                else:
                    yield entry, row
        else:
            label = item.label.text
            yield item, f"{prefix}: {label}" if prefix else label


def leaves(form: Form) -> Iterator[tuple[Field, str]]:
    """Every visible field in page order, with the label the error summary gives it."""
    return _leaves(form, "")


def has_errors(form: Form, general: Sequence[str] = ()) -> bool:
    return bool(general) or any(item.errors for item, _ in leaves(form))


def error_links(form: Form, general: Sequence[str] = ()) -> list[ErrorLink]:
    """The messages that belong to no field, then every field error in page order."""
    links = [ErrorLink("", "", message) for message in general]
    for item, label in leaves(form):
        for message in item.errors or ():
            links.append(ErrorLink(anchor_id(item), label, str(message)))
    return links
