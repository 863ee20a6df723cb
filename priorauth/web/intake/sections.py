# mypy: disallow-subclassing-any=False
"""The intake form's fixed sections: patient, coverage, prescriber, measurements, therapies."""

from __future__ import annotations

from wtforms import BooleanField, Form, FormField

from priorauth.domain.case import PLAN_LABELS, HeightUnit, RequestType, Sex, WeightUnit
from priorauth.domain.facts import SPECIALTIES, THERAPY_CLASSES
from priorauth.domain.treatment_history import OUTCOME_LABELS
from priorauth.rules.library import Library

from ..fields import (
    NUMBER_MAX_CHARS,
    date_field,
    long_text_field,
    number_field,
    select_field,
    text_field,
)

REQUEST_TYPE_LABELS = {
    RequestType.INITIAL: "Initial request",
    RequestType.CONTINUATION: "Continuation (renewal)",
}
SEX_LABELS = {Sex.FEMALE: "Female", Sex.MALE: "Male"}


class PatientForm(Form):
    first_name = text_field("First name", render_kw={"autocomplete": "off"})
    last_name = text_field("Last name", render_kw={"autocomplete": "off"})
    date_of_birth = date_field("Date of birth")
    sex = select_field("Sex", [(s.value, label) for s, label in SEX_LABELS.items()])


class PrescriberForm(Form):
    name = text_field("Name", description="As it should appear on the letter.")
    credentials = text_field("Credentials", 40, description="For example MD or DO.")
    npi = text_field(
        "NPI",
        NUMBER_MAX_CHARS,
        description="National Provider Identifier: 10 digits, the last a check digit.",
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    specialty = select_field(
        "Specialty",
        SPECIALTIES,
        description="Payers often require a specialist to prescribe or be consulted.",
    )
    phone = text_field("Phone")
    fax = text_field("Fax")
    practice_name = text_field("Practice name")
    practice_address = text_field("Practice address")


# The height may be typed in feet and inches; the Case holds inches then (the
# domain knows cm and in only), converted before the Case is built.
FEET_AND_INCHES = "ft_in"
HEIGHT_UNIT_LABELS = {
    HeightUnit.CM.value: "cm",
    HeightUnit.IN.value: "in",
    FEET_AND_INCHES: "ft + in",
}
MAX_FEET = 9


class MeasurementsForm(Form):
    weight = number_field("Weight")
    weight_unit = select_field(
        "Weight unit", [(u.value, u.value) for u in WeightUnit], blank=None, default="kg"
    )
    height = number_field(
        "Height",
        description="Needed when the payer doses on ideal or adjusted body weight.",
    )
    height_unit = select_field(
        "Height unit", list(HEIGHT_UNIT_LABELS.items()), blank=None, default="cm"
    )
    height_feet = number_field("Feet", inputmode="numeric")
    height_inches = number_field("Inches")
    measured_on = date_field("Date measured")
    pregnant = BooleanField("Pregnant")
    pre_pregnancy_weight = number_field(
        "Pre-pregnancy weight",
        description="Same unit as the weight. Some payers dose pregnant patients on it.",
    )


class TherapyForm(Form):
    agent = text_field("Medicine or treatment", description="For example prednisone.")
    therapy_class = select_field("Class", THERAPY_CLASSES)
    start = date_field("Start date")
    end = date_field("End date", description="Leave empty if it is still going on.")
    dose = text_field("Dose and schedule")
    outcome = select_field("Outcome", [(o.value, label) for o, label in OUTCOME_LABELS.items()])
    note = long_text_field("Note", description="What happened, in a sentence or two.")


class PlanTermsForm(Form):
    """The patient's cost sharing this plan year, for the share in the cost estimate."""

    deductible_usd = number_field("Deductible ($)", description="For the plan year.")
    deductible_met_usd = number_field("Deductible met so far ($)")
    coinsurance_percent = number_field(
        "Coinsurance (%)", description="Or a copay per infusion: give one of the two."
    )
    copay_per_infusion_usd = number_field("Copay per infusion ($)")
    out_of_pocket_max_usd = number_field("Out-of-pocket maximum ($)")
    out_of_pocket_met_usd = number_field("Out-of-pocket met so far ($)")
    source = text_field(
        "Where the terms come from", description="For example the plan's summary of benefits."
    )


PLAN_TERMS_FIELDS = tuple(PlanTermsForm().data)


def coverage_form_class(library: Library) -> type[Form]:
    """The coverage section: its payer rules are the library's payer profiles."""

    class CoverageForm(Form):
        payer_name = text_field("Payer name", description="The insurer, as on the member's card.")
        payer_profile = select_field(
            "Payer rules",
            [(p.id, p.name) for p in sorted(library.payers.values(), key=lambda p: p.name)],
            blank=None,
            default="reference",
            description="Whose coverage and dosing-weight rules to check against.",
        )
        plan_type = select_field(
            "Plan type", [(p.value, label) for p, label in PLAN_LABELS.items()]
        )
        member_id = text_field("Member ID", render_kw={"autocomplete": "off"})
        group_number = text_field("Group number")
        plan_terms = FormField(PlanTermsForm, label="The patient's plan terms")

    return CoverageForm
