# mypy: disallow-subclassing-any=False
# (WTForms ships no type information: its Form and fields are Any to mypy.)
"""The intake form: built fresh from an indication's definition, read back into a Case.

WTForms checks only the shape of what arrives (lengths, known choices, no
control characters). Whether a weight is plausible, an NPI valid or a code
right for the indication is the domain's and the rules' answer: this module
carries those answers back to the field they are about, so each error stands
beside its field and in the summary at the top, and nothing typed is lost.

One adapter per kind of fact turns a question into form fields:
lab → repeatable rows of value and date; score → value and date; number;
flag → yes / no / not known; choice → a select of the fact's choices; date.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
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

from priorauth.domain.case import (
    OUTCOME_LABELS,
    PLAN_LABELS,
    SITE_LABELS,
    Case,
    HeightUnit,
    RequestType,
    Sex,
    WeightUnit,
    parse_answer,
)
from priorauth.domain.facts import FACTS, SPECIALTIES, THERAPY_CLASSES, Fact, FactKind
from priorauth.domain.quantities import feet_inches_to_in
from priorauth.rules.engine import case_problems
from priorauth.rules.library import Library
from priorauth.rules.schema import IndicationDefinition, Question

# Shape limits. Text limits match the domain's; numbers and dates get room for
# a wrong format to reach the domain's clearer message.
TEXT_MAX_CHARS = 200
LONG_TEXT_MAX_CHARS = 4000
NUMBER_MAX_CHARS = 40
DATE_MAX_CHARS = 40
CODE_MAX_CHARS = 12
MAX_THERAPY_ROWS = 60  # the domain's limit on prior therapies
MIN_LAB_ROWS = 2  # payers often want two results weeks apart: offer two rows
MAX_LAB_ROWS = 12
MAX_CODES = 12

REQUEST_TYPE_LABELS = {
    RequestType.INITIAL: "Initial request",
    RequestType.CONTINUATION: "Continuation (renewal)",
}
SEX_LABELS = {Sex.FEMALE: "Female", Sex.MALE: "Male"}
FLAG_CHOICES = [("yes", "Yes"), ("no", "No"), ("unknown", "Not known yet")]
FLAG_VALUES = {"yes": True, "no": False}

try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - WTForms before 3.3
    SelectChoice = None

ACTION_SAVE = "save"
_ACTION = re.compile(r"^(add|remove):([a-z0-9_-]+?)(?::(\d{1,4}))?$")

# What a person reads for each kind of domain error, instead of pydantic's wording.
_MESSAGES: dict[str, str] = {
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
_NUMBER_MESSAGE = _MESSAGES["decimal_parsing"]
_DATE_MESSAGE = _MESSAGES["date_parsing"]


def friendly_message(error: ErrorDetails | Mapping[str, Any]) -> str:
    """Turn one pydantic error into a sentence for the person who typed the value."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "value_error":
        message = str(context.get("error", error.get("msg", ""))).removeprefix("Value error, ")
        return message[:1].upper() + message[1:] if message else "Check this value."
    template = _MESSAGES.get(kind)
    if template is None:
        return str(error.get("msg", "Check this value."))
    try:
        return template.format(**{key: str(value) for key, value in context.items()})
    except (KeyError, IndexError):
        return str(error.get("msg", "Check this value."))


# --- shape checks ---------------------------------------------------------------------------


def _no_control_characters(allow_newlines: bool) -> Callable[[Form, Field], None]:
    """Reject NUL and other control characters (PostgreSQL JSON refuses NUL outright)."""
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()

    def check(_form: Form, field: Field) -> None:
        value = field.data if isinstance(field.data, str) else ""
        if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
            raise ShapeError("Remove the control characters (pasted from another program?).")

    return check


def _text(label: str, max_chars: int = TEXT_MAX_CHARS, **kwargs: Any) -> StringField:
    message = f"Too long: at most {max_chars} characters."
    return StringField(
        label,
        [Length(max=max_chars, message=message), _no_control_characters(False)],
        **kwargs,
    )


def _long_text(label: str, **kwargs: Any) -> TextAreaField:
    message = f"Too long: at most {LONG_TEXT_MAX_CHARS} characters."
    return TextAreaField(
        label,
        [Length(max=LONG_TEXT_MAX_CHARS, message=message), _no_control_characters(True)],
        **kwargs,
    )


def _number(label: str, inputmode: str = "decimal", **kwargs: Any) -> StringField:
    # type="text" with inputmode: a number input would let the browser drop
    # what was typed ("70,5") instead of showing it back with a message.
    return _text(
        label,
        NUMBER_MAX_CHARS,
        widget=TextInput(),
        render_kw={"inputmode": inputmode, "autocomplete": "off", "class": "input-number"},
        **kwargs,
    )


def _date(label: str, **kwargs: Any) -> StringField:
    return _text(label, DATE_MAX_CHARS, widget=DateInput(), **kwargs)


def options(pairs: Sequence[tuple[str, str]]) -> list[Any]:
    """Choices in the form this WTForms version prefers."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def _select(
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


# --- fixed sections -------------------------------------------------------------------------


class PatientForm(Form):
    first_name = _text("First name", render_kw={"autocomplete": "off"})
    last_name = _text("Last name", render_kw={"autocomplete": "off"})
    date_of_birth = _date("Date of birth")
    sex = _select("Sex", [(s.value, label) for s, label in SEX_LABELS.items()])


class PrescriberForm(Form):
    name = _text("Name", description="As it should appear on the letter.")
    credentials = _text("Credentials", 40, description="For example MD or DO.")
    npi = _text(
        "NPI",
        NUMBER_MAX_CHARS,
        description="National Provider Identifier: 10 digits, the last a check digit.",
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    specialty = _select(
        "Specialty",
        SPECIALTIES,
        description="Payers often require a specialist to prescribe or be consulted.",
    )
    phone = _text("Phone")
    fax = _text("Fax")
    practice_name = _text("Practice name")
    practice_address = _text("Practice address")


# The height may be typed in feet and inches; the Case holds inches then (the
# domain knows cm and in only), converted here before the Case is built.
FEET_AND_INCHES = "ft_in"
HEIGHT_UNIT_LABELS = {
    HeightUnit.CM.value: "cm",
    HeightUnit.IN.value: "in",
    FEET_AND_INCHES: "ft + in",
}
MAX_FEET = 9


class MeasurementsForm(Form):
    weight = _number("Weight")
    weight_unit = _select(
        "Weight unit", [(u.value, u.value) for u in WeightUnit], blank=None, default="kg"
    )
    height = _number(
        "Height",
        description="Needed when the payer doses on ideal or adjusted body weight.",
    )
    height_unit = _select("Height unit", list(HEIGHT_UNIT_LABELS.items()), blank=None, default="cm")
    height_feet = _number("Feet", inputmode="numeric")
    height_inches = _number("Inches")
    measured_on = _date("Date measured")
    pregnant = BooleanField("Pregnant")
    pre_pregnancy_weight = _number(
        "Pre-pregnancy weight",
        description="Same unit as the weight. Some payers dose pregnant patients on it.",
    )


class TherapyForm(Form):
    agent = _text("Medicine or treatment", description="For example prednisone.")
    therapy_class = _select("Class", THERAPY_CLASSES)
    start = _date("Start date")
    end = _date("End date", description="Leave empty if it is still going on.")
    dose = _text("Dose and schedule")
    outcome = _select("Outcome", [(o.value, label) for o, label in OUTCOME_LABELS.items()])
    note = _long_text("Note", description="What happened, in a sentence or two.")


class LabRowForm(Form):
    value = _number("Value")
    date = _date("Date")


class ScoreForm(Form):
    value = _number("Score")
    date = _date("Date assessed")


# --- one adapter per kind of fact -----------------------------------------------------------


def _lab_field(fact: Fact, question: Question) -> FieldList:
    return FieldList(
        FormField(LabRowForm),
        label=f"{fact.label} ({fact.unit}) result",
        description=question.why,
        min_entries=MIN_LAB_ROWS,
        max_entries=MAX_LAB_ROWS,
    )


def _score_field(fact: Fact, question: Question) -> FormField:
    unit = f" ({fact.unit})" if fact.unit else ""
    return FormField(ScoreForm, label=f"{fact.label}{unit}", description=question.why)


def _number_field(fact: Fact, question: Question) -> StringField:
    unit = f" ({fact.unit})" if fact.unit else ""
    return _number(f"{fact.label}{unit}", description=question.why)


def _flag_field(fact: Fact, question: Question) -> RadioField:
    return RadioField(
        fact.label, choices=options(FLAG_CHOICES), default="unknown", description=question.why
    )


def _choice_field(fact: Fact, question: Question) -> SelectField:
    return _select(fact.label, fact.choices, blank="Not answered", description=question.why)


def _date_field(fact: Fact, question: Question) -> StringField:
    return _date(fact.label, description=question.why)


ADAPTERS: dict[FactKind, Callable[[Fact, Question], Any]] = {
    FactKind.LAB: _lab_field,
    FactKind.SCORE: _score_field,
    FactKind.NUMBER: _number_field,
    FactKind.FLAG: _flag_field,
    FactKind.CHOICE: _choice_field,
    FactKind.DATE: _date_field,
}


@dataclass(frozen=True)
class QuestionView:
    """What the template needs to lay out one indication question."""

    name: str
    kind: str
    label: str
    why: str
    required: bool


def coverage_form_class(library: Library) -> type[Form]:
    """The coverage section: its payer rules are the library's payer profiles."""

    class CoverageForm(Form):
        payer_name = _text("Payer name", description="The insurer, as on the member's card.")
        payer_profile = _select(
            "Payer rules",
            [(p.id, p.name) for p in sorted(library.payers.values(), key=lambda p: p.name)],
            blank=None,
            default="reference",
            description="Whose coverage and dosing-weight rules to check against.",
        )
        plan_type = _select("Plan type", [(p.value, label) for p, label in PLAN_LABELS.items()])
        member_id = _text("Member ID", render_kw={"autocomplete": "off"})
        group_number = _text("Group number")

    return CoverageForm


# --- the form -------------------------------------------------------------------------------


class IntakeForm(Form):
    """Base of every built intake form; the fields are added by ``build_form_class``."""

    definition: IndicationDefinition
    built_for: RequestType
    questions: list[QuestionView]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.general_errors: list[str] = []
        self.notices: list[str] = []

    def field_lists(self) -> dict[str, FieldList]:
        """Every repeatable group, by its HTML name (for the add/remove buttons)."""
        found: dict[str, FieldList] = {}

        def walk(form: Form) -> None:
            for item in form:
                if isinstance(item, FieldList):
                    found[item.name] = item
                elif isinstance(item, FormField):
                    walk(item.form)

        walk(self)
        return found


def build_form_class(
    definition: IndicationDefinition, library: Library, request_type: RequestType
) -> type[IntakeForm]:
    """Build the intake form class for an indication and request type (fresh each call)."""
    questions = definition.questions_for(request_type)
    answer_fields = {q.fact: ADAPTERS[FACTS[q.fact].kind](FACTS[q.fact], q) for q in questions}
    answers_form = type("AnswersForm", (Form,), answer_fields)
    CoverageForm = coverage_form_class(library)

    products = sorted(library.products.values(), key=lambda p: p.name)
    dosing = [
        (d.id, f"{d.label}: {d.g_per_kg_per_course.describe('g/kg')} per course")
        for d in definition.dosing
        if request_type in d.applies_to
    ]

    class RegimenForm(Form):
        product_id = _select("Product", [(p.id, f"{p.name} ({p.hcpcs})") for p in products])
        phase = _select(
            "Dosing phase",
            dosing,
            blank="Usual for this request type",
            description="Which of the indication's dosing limits this request follows.",
        )
        dose_g_per_kg = _number("Dose per course (g/kg)")
        days_per_course = _number(
            "Infusion days per course",
            inputmode="numeric",
            description="How many days one course is given over.",
        )
        interval_weeks = _number("Interval between courses (weeks)")
        courses_requested = _number(
            "Courses requested", inputmode="numeric", description="Give courses or months."
        )
        months_requested = _number("Months requested", inputmode="numeric")
        start_date = _date("Start date")

    codes = [(c.code, f"{c.code} — {c.description}") for c in definition.codes]
    attrs: dict[str, Any] = {
        "definition": definition,
        "built_for": request_type,
        "questions": [
            QuestionView(
                name=q.fact,
                kind=FACTS[q.fact].kind.value,
                label=FACTS[q.fact].label,
                why=q.why,
                required=q.required,
            )
            for q in questions
        ],
        # Field order is page order: the error summary follows it.
        "patient": FormField(PatientForm, label="Patient"),
        "coverage": FormField(CoverageForm, label="Coverage"),
        "prescriber": FormField(PrescriberForm, label="Prescriber"),
        "request_type": _select(
            "Request type",
            [(r.value, label) for r, label in REQUEST_TYPE_LABELS.items()],
            blank=None,
            description="A continuation (renewal) is asked different questions from an "
            "initial request.",
        ),
        "site_of_care": _select(
            "Site of care", [(s.value, label) for s, label in SITE_LABELS.items()]
        ),
        "icd10_codes": MultiCheckboxField(
            "Diagnosis (ICD-10-CM)",
            choices=options(codes),
            validate_choice=False,  # the rules say which codes belong, with a better message
            description="Tick each code that applies to this patient.",
        ),
        "answers": FormField(answers_form, label=""),
        "prior_therapies": FieldList(
            FormField(TherapyForm),
            label="Prior therapy",
            min_entries=1,
            max_entries=MAX_THERAPY_ROWS,
        ),
        "measurements": FormField(MeasurementsForm, label="Weight and height"),
        "regimen": FormField(RegimenForm, label="Requested regimen"),
        "clinical_summary": _long_text(
            "Clinical summary",
            description="The history in a few sentences; it goes into the letter as written.",
        ),
        "form_request_type": HiddenField(),
        "version": HiddenField(),
    }
    return type(f"IntakeForm_{definition.id}_{request_type.value}", (IntakeForm,), attrs)


def _parse_request_type(value: str | None) -> RequestType | None:
    try:
        return RequestType(value) if value else None
    except ValueError:
        return None


def make_form(
    definition: IndicationDefinition,
    library: Library,
    formdata: MultiDict[str, str],
    default_request_type: RequestType = RequestType.INITIAL,
) -> IntakeForm:
    """Build the form for the request type the data asks for and fill it with the data."""
    request_type = (
        _parse_request_type(formdata.get("request_type"))
        or _parse_request_type(formdata.get("form_request_type"))
        or default_request_type
    )
    form = build_form_class(definition, library, request_type)(formdata)
    # Keep a code that is not the indication's on screen, so its error has a place.
    known = {code.code for code in definition.codes}
    extra = [c for c in (form.icd10_codes.data or []) if c and c not in known][:MAX_CODES]
    codes = [(c.code, f"{c.code} — {c.description}") for c in definition.codes]
    form.icd10_codes.choices = options(codes + [(c, c) for c in extra])
    return form


def new_formdata(request_type: RequestType) -> MultiDict[str, str]:
    """Starting values for a new case: the request type and the usual units."""
    return MultiDict(
        [
            ("request_type", request_type.value),
            ("form_request_type", request_type.value),
            ("coverage-payer_profile", "reference"),
            ("measurements-weight_unit", WeightUnit.KG.value),
            ("measurements-height_unit", HeightUnit.CM.value),
        ]
    )


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def formdata_for_case(data: Mapping[str, Any], version: int | None = None) -> MultiDict[str, str]:
    """The form's fields for a stored case (``Case.model_dump(mode="json")``)."""
    pairs: list[tuple[str, str]] = []

    def put(name: str, value: Any) -> None:
        if value is not None and value != "":
            pairs.append((name, _as_text(value)))

    for section in ("patient", "coverage", "prescriber", "measurements", "regimen"):
        for key, value in (data.get(section) or {}).items():
            if key == "pregnant":
                if value:
                    pairs.append(("measurements-pregnant", "y"))
                continue
            put(f"{section}-{key}", value)
    for key in ("site_of_care", "request_type", "clinical_summary"):
        put(key, data.get(key))
    put("form_request_type", data.get("request_type"))
    for code in data.get("icd10_codes") or []:
        put("icd10_codes", code)
    for index, therapy in enumerate(data.get("prior_therapies") or []):
        for key, value in therapy.items():
            put(f"prior_therapies-{index}-{key}", value)
    for name, value in (data.get("answers") or {}).items():
        fact = FACTS.get(name)
        if fact is None or value is None:
            continue
        if fact.kind is FactKind.LAB:
            for index, row in enumerate(value if isinstance(value, list) else [value]):
                put(f"answers-{name}-{index}-value", row.get("value"))
                put(f"answers-{name}-{index}-date", row.get("date"))
        elif fact.kind is FactKind.SCORE:
            score = value if isinstance(value, dict) else {"value": value}
            put(f"answers-{name}-value", score.get("value"))
            put(f"answers-{name}-date", score.get("date"))
        else:
            put(f"answers-{name}", value)
    if version is not None:
        put("version", version)
    return MultiDict(pairs)


# --- add and remove rows without JavaScript -------------------------------------------------


def apply_row_action(form: IntakeForm, action: str) -> bool:
    """Add or remove one row of a repeatable group; True when the action was one of those."""
    match = _ACTION.match(action or "")
    if not match:
        return False
    verb, name, index = match.group(1), match.group(2), match.group(3)
    group = form.field_lists().get(name)
    if group is None:
        return True  # a stale or forged button: re-show the form, change nothing
    if verb == "add":
        if group.max_entries and len(group.entries) >= group.max_entries:
            form.notices.append(f"At most {group.max_entries} rows here.")
        else:
            group.append_entry()
        return True
    if index is not None and int(index) < len(group.entries):
        group.entries.pop(int(index))
        while len(group.entries) < group.min_entries:
            group.append_entry()
        group._compact_indices()  # names 0..n-1 again, matching the buttons
    return True


# --- reading the form into a Case -----------------------------------------------------------


def _value(item: Field) -> Any:
    """A field's value for the domain: None when blank or when its shape was wrong."""
    if item.errors:
        return None
    data = item.data
    if isinstance(data, str):
        data = data.strip()
        return data or None
    return data


def _section(form: Form, names: Sequence[str]) -> dict[str, Any]:
    return {name: value for name in names if (value := _value(form[name])) is not None}


def _add_error(item: Field, message: str) -> None:
    """Attach a message to a field unless its shape already failed (one message is enough)."""
    if item.errors:
        return
    item.errors = [message]


@dataclass
class _Reading:
    """The raw case data read from the form, with where each list item came from."""

    data: dict[str, Any] = field(default_factory=dict)
    therapy_rows: list[int] = field(default_factory=list)
    # Where a domain location's message goes instead of its own field (the
    # height typed in feet and inches has no single field).
    redirects: dict[tuple[str | int, ...], Field] = field(default_factory=dict)


_PATIENT = ("first_name", "last_name", "date_of_birth", "sex")
_COVERAGE = ("payer_name", "payer_profile", "plan_type", "member_id", "group_number")
_PRESCRIBER = (
    "name",
    "credentials",
    "npi",
    "specialty",
    "phone",
    "fax",
    "practice_name",
    "practice_address",
)
_MEASUREMENTS = (
    "weight_unit",
    "weight",
    "height_unit",
    "height",
    "measured_on",
    "pre_pregnancy_weight",
)
_THERAPY = ("agent", "therapy_class", "start", "end", "dose", "outcome", "note")
_REGIMEN = (
    "product_id",
    "phase",
    "dose_g_per_kg",
    "days_per_course",
    "interval_weeks",
    "courses_requested",
    "months_requested",
    "start_date",
)


def _check_answer(name: str, value: Any, subform: Form | None, target: Field) -> bool:
    """Check one answer with the domain's parser; put any error on its field."""
    try:
        parse_answer(name, value)
    except ValidationError as error:
        for detail in error.errors():
            where = next((str(s) for s in detail["loc"] if isinstance(s, str)), "value")
            place = subform[where] if subform is not None and where in subform else target
            _add_error(place, friendly_message(detail))
        return False
    except ArithmeticError:  # decimal.InvalidOperation: not a number at all
        _add_error(target, _NUMBER_MESSAGE)
        return False
    except ValueError as error:
        kind = FACTS[name].kind
        _add_error(target, _DATE_MESSAGE if kind is FactKind.DATE else _sentence(str(error)))
        return False
    return True


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _read_answers(form: IntakeForm) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    sub = form.answers.form
    for question in form.questions:
        item = sub[question.name]
        kind = FACTS[question.name].kind
        if kind is FactKind.LAB:
            rows = []
            for entry in item.entries:
                row = _section(entry.form, ("value", "date"))
                if row and _check_answer(question.name, [row], entry.form, entry.form["value"]):
                    rows.append(row)
            if rows:
                answers[question.name] = rows
        elif kind is FactKind.SCORE:
            score = _section(item.form, ("value", "date"))
            if score and _check_answer(question.name, score, item.form, item.form["value"]):
                answers[question.name] = score
        elif kind is FactKind.FLAG:
            flag = FLAG_VALUES.get(_value(item) or "")
            if flag is not None:
                answers[question.name] = flag
        else:
            value = _value(item)
            if value is not None and _check_answer(question.name, value, None, item):
                answers[question.name] = value
    return answers


def _typed_decimal(item: Field, message: str) -> Decimal | bool | None:
    """The number typed in a field; None when blank, False (and an error) when not a number."""
    text = _value(item)
    if item.errors:
        return False
    if text is None:
        return None
    try:
        number = Decimal(str(text).replace(" ", ""))
    except ArithmeticError:
        _add_error(item, message)
        return False
    if not number.is_finite():
        _add_error(item, message)
        return False
    return number


def feet_and_inches(sub: Form) -> Decimal | None:
    """The height in inches from the feet and inches fields; None when blank or wrong.

    A wrong value gets its message on its own field; the total keeps the
    precision typed (5 ft 7.5 in is 67.5 in).
    """
    feet = _typed_decimal(sub["height_feet"], "Enter the feet as a whole number, for example 5.")
    inches = _typed_decimal(
        sub["height_inches"], "Enter the inches as a number, for example 7 or 7.5."
    )
    if feet is False or inches is False or (feet is None and inches is None):
        return None
    assert not isinstance(feet, bool) and not isinstance(inches, bool)
    if feet is not None and (feet != feet.to_integral_value() or not 0 <= feet <= MAX_FEET):
        _add_error(sub["height_feet"], f"Enter whole feet from 0 to {MAX_FEET}, for example 5.")
        return None
    if inches is not None and not 0 <= inches < 12:
        _add_error(
            sub["height_inches"],
            "Inches go from 0 to 11.9 here; for a height in inches only, choose the unit in.",
        )
        return None
    return feet_inches_to_in(feet, inches)


def _read(form: IntakeForm) -> _Reading:
    reading = _Reading()
    sub = form.measurements.form
    measurements = _section(sub, _MEASUREMENTS)
    measurements["pregnant"] = bool(sub.pregnant.data)
    if measurements.get("height_unit") == FEET_AND_INCHES:
        # The domain knows inches: convert before the Case is built.
        measurements["height_unit"] = HeightUnit.IN.value
        measurements.pop("height", None)
        total = feet_and_inches(sub)
        if total is not None:
            measurements["height"] = total
        only_inches = not (sub.height_feet.data or "").strip() and bool(
            (sub.height_inches.data or "").strip()
        )
        reading.redirects[("measurements", "height")] = (
            sub.height_inches if only_inches else sub.height_feet
        )
    therapies = []
    for position, entry in enumerate(form.prior_therapies.entries):
        therapy = _section(entry.form, _THERAPY)
        if therapy:  # an empty row is not a therapy
            therapies.append(therapy)
            reading.therapy_rows.append(position)
    codes = [c.strip() for c in (form.icd10_codes.data or []) if c and c.strip()]
    data = {
        "patient": _section(form.patient.form, _PATIENT),
        "coverage": _section(form.coverage.form, _COVERAGE),
        "prescriber": _section(form.prescriber.form, _PRESCRIBER),
        "site_of_care": _value(form.site_of_care),
        "request_type": form.built_for.value,
        "indication_id": form.definition.id,
        "icd10_codes": codes[:MAX_CODES],
        "measurements": measurements,
        "answers": _read_answers(form),
        "prior_therapies": therapies,
        "regimen": _section(form.regimen.form, _REGIMEN),
        "clinical_summary": _value(form.clinical_summary) or "",
    }
    reading.data = {key: value for key, value in data.items() if value is not None}
    return reading


def field_at(
    form: IntakeForm, path: Sequence[str | int], therapy_rows: Sequence[int]
) -> Field | None:
    """The form field a domain location names, e.g. ('prior_therapies', 1, 'end')."""
    steps = list(path)
    if len(steps) > 1 and steps[0] == "prior_therapies" and isinstance(steps[1], int):
        if steps[1] >= len(therapy_rows):
            return None
        steps[1] = therapy_rows[steps[1]]
    node: Any = form
    for step in steps:
        if isinstance(node, FormField):
            node = node.form
        if isinstance(node, FieldList):
            if not isinstance(step, int) or not 0 <= step < len(node.entries):
                return None
            node = node.entries[step]
        elif isinstance(node, Form):
            if not isinstance(step, str) or step not in node:
                return None
            node = node[step]
        else:
            break  # a leaf: a deeper location (a list item) belongs to it
    # An answer as a whole (a lab's rows, a score's parts): point at its first value.
    if isinstance(node, FieldList):
        node = node.entries[0] if node.entries else None
    if isinstance(node, FormField):
        node = node.form._fields.get("value")
    if node is None or isinstance(node, Form):
        return None
    return node


def _message_for(detail: ErrorDetails, target: Field | None) -> str:
    """The domain's message, worded for the kind of control it lands on."""
    if isinstance(target, MultiCheckboxField) and detail["type"] == "too_short":
        return "Tick at least one."
    if isinstance(target, SelectField) and detail["type"] in ("missing", "string_too_short"):
        return "Choose one of the options."
    return friendly_message(detail)


def _split_path(dotted: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in dotted.split(".") if part]


def _place(form: IntakeForm, path: Sequence[str | int], reading: _Reading, message: str) -> None:
    target = reading.redirects.get(tuple(path)) or field_at(form, path, reading.therapy_rows)
    if target is None:
        if message not in form.general_errors:
            form.general_errors.append(message)
    else:
        _add_error(target, message)


def read_case(form: IntakeForm, library: Library, today: dt.date) -> Case | None:
    """Validate the form into a Case; on any error, attach it to its field and return None."""
    shape_ok = form.validate()
    reading = _read(form)
    case: Case | None = None
    try:
        case = Case.model_validate(reading.data, context={"today": today})
    except ValidationError as error:
        for detail in error.errors():
            target = reading.redirects.get(tuple(detail["loc"])) or field_at(
                form, detail["loc"], reading.therapy_rows
            )
            _place(form, detail["loc"], reading, _message_for(detail, target))
    if case is not None:
        for problem in case_problems(case, library):
            _place(
                form,
                _split_path(problem.field),
                reading,
                _sentence(problem.message),
            )
    if not shape_ok or case is None or has_errors(form):
        return None
    return case


# --- what the template shows ----------------------------------------------------------------


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
            text = item.label.text
            yield item, f"{prefix}: {text}" if prefix else text


def leaves(form: Form) -> Iterator[tuple[Field, str]]:
    """Every visible field in page order, with the label the error summary gives it."""
    return _leaves(form, "")


def has_errors(form: IntakeForm) -> bool:
    return bool(form.general_errors) or any(item.errors for item, _ in _leaves(form, ""))


def error_summary(form: IntakeForm) -> list[ErrorLink]:
    """Every field error in page order, each linking to its field."""
    links = [ErrorLink("", "", message) for message in form.general_errors]
    for item, label in _leaves(form, ""):
        for message in item.errors or ():
            links.append(ErrorLink(anchor_id(item), label, str(message)))
    return links


# --- drafts: the form as pairs, the first step, a continuation -----------------------------


def form_pairs(form: Form) -> list[tuple[str, str]]:
    """The form's current values as the (name, value) pairs a browser would post.

    A draft stores these; building the form from them shows it again as it was,
    rows added or removed included.
    """
    pairs: list[tuple[str, str]] = []

    def emit(item: Field) -> None:
        if isinstance(item, BooleanField):
            if item.data:
                pairs.append((item.name, "y"))
        elif isinstance(item, SelectMultipleField):
            pairs.extend((item.name, str(value)) for value in item.data or ())
        else:
            value = item.data
            pairs.append((item.name, "" if value is None else str(value)))

    def walk(node: Form) -> None:
        for item in node:
            if isinstance(item, FormField):
                walk(item.form)
            elif isinstance(item, FieldList):
                for entry in item.entries:
                    if isinstance(entry, FormField):
                        walk(entry.form)
                    else:
                        emit(entry)
            else:
                emit(item)

    walk(form)
    return pairs


def patient_step_form(library: Library, formdata: MultiDict[str, str]) -> IntakeForm:
    """The patient, coverage and prescriber sections alone, before an indication is chosen."""
    attrs: dict[str, Any] = {
        "patient": FormField(PatientForm, label="Patient"),
        "coverage": FormField(coverage_form_class(library), label="Coverage"),
        "prescriber": FormField(PrescriberForm, label="Prescriber"),
        "questions": [],
    }
    form_class = type("PatientStepForm", (IntakeForm,), attrs)
    return form_class(formdata)


def read_patient_step(form: IntakeForm, today: dt.date) -> bool:
    """Check the first step with the domain's own models; errors go beside their fields."""
    from priorauth.domain.case import Coverage, Patient, Prescriber

    shape_ok = form.validate()
    reading = _Reading()
    for section, names, model in (
        ("patient", _PATIENT, Patient),
        ("coverage", _COVERAGE, Coverage),
        ("prescriber", _PRESCRIBER, Prescriber),
    ):
        data = _section(form[section].form, names)
        try:
            model.model_validate(data, context={"today": today})
        except ValidationError as error:
            for detail in error.errors():
                path = (section, *detail["loc"])
                target = field_at(form, path, ())
                _place(form, path, reading, _message_for(detail, target))
    return shape_ok and not has_errors(form)


def continuation_formdata(
    data: Mapping[str, Any], definition: IndicationDefinition
) -> MultiDict[str, str]:
    """A continuation's starting values, from the case it renews.

    Patient, coverage, prescriber, codes, site, therapies, regimen and the
    summary carry over; so do the answers asked of both request types (the
    baseline measures). What a continuation must show anew is left empty: the
    current measures and the other continuation questions, the weight and its
    date (the dose must be computed on today's weight), the start date and the
    dosing phase.
    """
    initial = {q.fact for q in definition.questions_for(RequestType.INITIAL)}
    continuation = {q.fact for q in definition.questions_for(RequestType.CONTINUATION)}
    keep = initial & continuation
    renewed = {key: value for key, value in data.items() if key not in ("answers",)}
    renewed["request_type"] = RequestType.CONTINUATION.value
    renewed["answers"] = {k: v for k, v in (data.get("answers") or {}).items() if k in keep}
    measurements = dict(data.get("measurements") or {})
    for key in ("weight", "measured_on", "pre_pregnancy_weight", "pregnant"):
        measurements.pop(key, None)
    renewed["measurements"] = measurements
    regimen = dict(data.get("regimen") or {})
    for key in ("phase", "start_date"):
        regimen.pop(key, None)
    renewed["regimen"] = regimen
    return formdata_for_case(renewed)


def matching_indications(library: Library, query: str) -> list[IndicationDefinition]:
    """Indications whose name, short name or ICD-10-CM codes match what was typed."""
    from priorauth.domain.identifiers import normalise_icd10

    definitions = sorted(library.indications.values(), key=lambda d: d.name.lower())
    words = query.strip().lower()
    if not words:
        return definitions
    code = re.sub(r"[^A-Z0-9]", "", normalise_icd10(words))
    found = []
    for definition in definitions:
        names = f"{definition.name} {definition.short_name} {definition.id}".lower()
        codes = [c.code.replace(".", "") for c in definition.codes]
        if words in names or (len(code) >= 2 and any(c.startswith(code) for c in codes)):
            found.append(definition)
    return found
