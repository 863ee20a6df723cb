# mypy: disallow-subclassing-any=False
"""Build the intake form class for an indication and a request type, fresh on each call."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from werkzeug.datastructures import MultiDict
from wtforms import FieldList, Form, FormField, HiddenField

from priorauth.domain.case import (
    SITE_LABELS,
    Coverage,
    Measurements,
    Patient,
    Prescriber,
    RequestType,
)
from priorauth.domain.catalog import Route
from priorauth.domain.facts import FACTS
from priorauth.domain.identifiers import normalise_icd10
from priorauth.domain.regimen import Regimen
from priorauth.rules.library import Library
from priorauth.rules.schema import IndicationDefinition, Question

from ..fields import (
    ADAPTERS,
    MultiCheckboxField,
    date_field,
    long_text_field,
    number_field,
    options,
    select_field,
    text_field,
)
from .safety import MAX_NEVER_TRIED_ROWS, NeverTriedForm, SafetyForm
from .sections import (
    REQUEST_TYPE_LABELS,
    MeasurementsForm,
    PatientForm,
    PrescriberForm,
    TherapyForm,
    coverage_form_class,
)

MAX_THERAPY_ROWS = 60  # the domain's limit on prior therapies
ROUTE_NAMES = {Route.IV: "IV", Route.SC: "SC"}
_USUALLY = {
    RequestType.INITIAL: " — usually an initial request",
    RequestType.CONTINUATION: " — usually a renewal",
}
MAX_TYPED_CODE_CHARS = 10
MAX_CODES = 12


@dataclass(frozen=True)
class QuestionView:
    """What the template needs to lay out one indication question."""

    name: str
    kind: str
    label: str
    why: str
    required: bool
    # The question's enable_when as JSON for the page's script, "" when it has none: the
    # script shows it only while its conditions hold; without the script it is shown
    # and the rules drop an answer it should not have had (``rules.conditions``).
    conditions: str = ""


def _conditions_json(question: Question) -> str:
    if not question.enable_when:
        return ""
    return json.dumps(
        {
            "behavior": question.enable_behavior,
            "when": [
                {"fact": c.fact, "operator": c.operator, "value": c.value}
                for c in question.enable_when
            ],
        }
    )


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


def _regimen_form_class(
    definition: IndicationDefinition, library: Library, request_type: RequestType
) -> type[Form]:
    products = sorted(library.products.values(), key=lambda p: p.name)
    # Every phase: a loading course before maintenance names the maintenance phase,
    # even in an initial request.
    dosing = [
        (
            d.id,
            f"{d.label} ({ROUTE_NAMES[d.route]}): {d.describe_dose()}"
            + ("" if request_type in d.applies_to else _USUALLY[d.applies_to[0]]),
        )
        for d in definition.dosing
    ]

    class RegimenForm(Form):
        product_id = select_field(
            "Product",
            [(p.id, f"{p.name} ({p.hcpcs}, {ROUTE_NAMES[p.route]})") for p in products],
        )
        phase = select_field(
            "Dosing phase",
            dosing,
            blank="Usual for this request type and product",
            description="Which of the indication's dosing limits this request follows; a "
            "subcutaneous phase gives its dose per week.",
        )
        dose_g_per_kg = number_field(
            "Dose per course (g/kg)",
            description="Subcutaneous: the dose of one course (a week, or two weeks).",
        )
        days_per_course = number_field(
            "Infusion days per course",
            inputmode="numeric",
            description="How many days one course is given over (subcutaneous: 1–7).",
        )
        interval_weeks = number_field(
            "Interval between courses (weeks)",
            description="Leave empty for one course only (then courses requested: 1). "
            "Subcutaneous: 1 for weekly, 2 for every two weeks.",
        )
        courses_requested = number_field(
            "Courses requested", inputmode="numeric", description="Give courses or months."
        )
        months_requested = number_field("Months requested", inputmode="numeric")
        start_date = date_field("Start date")
        loading = FormField(LoadingForm, label="Loading course before maintenance")
        switch_from_iv = FormField(SwitchForm, label="Switching from IV to subcutaneous")
        premedication = text_field(
            "Premedication",
            description="As ordered, e.g. acetaminophen 650 mg and diphenhydramine 25 mg.",
        )
        tolerated_rate_mg_per_kg_per_min = number_field(
            "Fastest rate tolerated (mg/kg/min)",
            description="Leave empty unless the patient tolerates only a slower rate than the "
            "label's: the infusion plan never goes faster.",
        )

    return RegimenForm


class LoadingForm(Form):
    dose_g_per_kg = number_field(
        "Loading dose (g/kg)", description="Given once, before the first maintenance course."
    )
    days = number_field("Loading days", inputmode="numeric")


class SwitchForm(Form):
    iv_dose_g = number_field(
        "Previous IV dose (g per course)",
        description="The label's conversion starts from it: weekly dose = IV dose × factor ÷ "
        "weeks between IV doses.",
    )
    iv_interval_weeks = number_field("Weeks between IV doses")


def _code_choices(definition: IndicationDefinition) -> list[tuple[str, str]]:
    return [(c.code, f"{c.code} — {c.description}") for c in definition.codes]


def build_form_class(
    definition: IndicationDefinition, library: Library, request_type: RequestType
) -> type[IntakeForm]:
    """Build the intake form class for an indication and request type (fresh each call)."""
    questions = definition.questions_for(request_type)
    answer_fields = {q.fact: ADAPTERS[FACTS[q.fact].kind](FACTS[q.fact], q) for q in questions}
    answers_form = type("AnswersForm", (Form,), answer_fields)
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
                conditions=_conditions_json(q),
            )
            for q in questions
        ],
        # Field order is page order: the error summary follows it.
        "patient": FormField(PatientForm, label="Patient"),
        "coverage": FormField(coverage_form_class(library), label="Coverage"),
        "prescriber": FormField(PrescriberForm, label="Prescriber"),
        "request_type": select_field(
            "Request type",
            [(r.value, label) for r, label in REQUEST_TYPE_LABELS.items()],
            blank=None,
            description="A continuation (renewal) is asked different questions from an "
            "initial request.",
        ),
        "site_of_care": select_field(
            "Site of care", [(s.value, label) for s, label in SITE_LABELS.items()]
        ),
        "icd10_codes": MultiCheckboxField(
            "Diagnosis (ICD-10-CM)",
            choices=options(_code_choices(definition)),
            validate_choice=False,  # the rules say which codes belong, with a better message
            description="Tick each code that applies to this patient.",
        ),
        # A condition outside the library has no list of codes: the code is typed
        # and checked against the ICD-10-CM code set.
        **(
            {
                "icd10_code_typed": text_field(
                    "ICD-10-CM code of the condition",
                    MAX_TYPED_CODE_CHARS,
                    description="For example D89.89; checked against the official code set.",
                )
            }
            if definition.any_code
            else {}
        ),
        "answers": FormField(answers_form, label=""),
        "prior_therapies": FieldList(
            FormField(TherapyForm),
            label="Prior therapy",
            min_entries=1,
            max_entries=MAX_THERAPY_ROWS,
        ),
        "never_tried": FieldList(
            FormField(NeverTriedForm),
            label="Never given",
            min_entries=1,
            max_entries=MAX_NEVER_TRIED_ROWS,
        ),
        "measurements": FormField(MeasurementsForm, label="Weight and height"),
        "safety": FormField(SafetyForm, label="Safety facts"),
        "regimen": FormField(
            _regimen_form_class(definition, library, request_type), label="Requested regimen"
        ),
        "clinical_summary": long_text_field(
            "Clinical summary",
            description="The history in a few sentences; it goes into the letter as written.",
        ),
        "form_request_type": HiddenField(),
        "version": HiddenField(),
    }
    return type(f"IntakeForm_{definition.id}_{request_type.value}", (IntakeForm,), attrs)


# The sections whose fields the domain requires: marked "(needed)" on the page.
_REQUIRED_BY: dict[str, type[BaseModel]] = {
    "patient": Patient,
    "coverage": Coverage,
    "prescriber": Prescriber,
    "measurements": Measurements,
    "regimen": Regimen,
}


def mark_required(form: IntakeForm) -> IntakeForm:
    """Flag each field the domain's models require (the label says so; nothing blocks)."""
    for section, model in _REQUIRED_BY.items():
        if section not in form._fields:
            continue
        sub = form[section].form
        for name, info in model.model_fields.items():
            if info.is_required() and name in sub._fields:
                sub[name].flags.required = True
    return form


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
    form = mark_required(build_form_class(definition, library, request_type)(formdata))
    # Keep a code that is not the indication's on screen, so its error has a place.
    known = {code.code for code in definition.codes}
    extra = [c for c in (form.icd10_codes.data or []) if c and c not in known][:MAX_CODES]
    form.icd10_codes.choices = options(_code_choices(definition) + [(c, c) for c in extra])
    return form


def patient_step_form(library: Library, formdata: MultiDict[str, str]) -> IntakeForm:
    """The patient, coverage and prescriber sections alone, before an indication is chosen."""
    attrs: dict[str, Any] = {
        "patient": FormField(PatientForm, label="Patient"),
        "coverage": FormField(coverage_form_class(library), label="Coverage"),
        "prescriber": FormField(PrescriberForm, label="Prescriber"),
        "questions": [],
    }
    form_class = type("PatientStepForm", (IntakeForm,), attrs)
    return mark_required(form_class(formdata))


def matching_indications(library: Library, query: str) -> list[IndicationDefinition]:
    """Indications whose name, short name or ICD-10-CM codes match what was typed."""
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
    # A condition the library does not list always has a way forward: the
    # medical-exception request with its own code.
    found += [d for d in definitions if d.any_code and d not in found]
    return found
