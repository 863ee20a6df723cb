"""The treatment requested, as the letters write it: product, dose, period, site of care.

Every figure comes from the assessment's dose check (the dose and its rounding,
the billing units, the authorization period); this module only words them.
"""

from __future__ import annotations

from dataclasses import dataclass

from priorauth.domain.case import SITE_LABELS, Case
from priorauth.domain.catalog import Product, Route
from priorauth.domain.dosing import BASIS_LABELS
from priorauth.domain.quantities import plain_number
from priorauth.rules.assessment import Assessment
from priorauth.rules.library import Library
from priorauth.rules.schema import IndicationDefinition

from .dose_words import (
    ROUTE_WORDS,
    course_sentence,
    grams,
    loading_sentence,
    prescribed_and_given,
    schedule,
)
from .parts import References, Row
from .wording import format_date, plural


@dataclass(frozen=True, slots=True)
class Treatment:
    """The treatment block's rows, the dosing paragraphs, their references and marks."""

    rows: tuple[Row, ...]
    dosing: tuple[str, ...]
    dosing_refs: tuple[int, ...]
    dosing_unverified: bool


def _product_rows(product: Product | None, product_id: str, given_by: Route) -> list[Row]:
    if product is None:
        return [Row("Product", f"Unknown product {product_id!r}", unverified=True)]
    route = ROUTE_WORDS.get(given_by, str(given_by))
    return [
        Row(
            "Product",
            f"{product.name} (immune globulin {route}, "
            f"{plain_number(product.concentration_percent)}%), {product.manufacturer}",
            unverified=any(
                product.is_unverified(f)
                for f in ("name", "manufacturer", "route", "concentration_percent")
            ),
        ),
        Row(
            "HCPCS code",
            product.hcpcs,
            note=product.hcpcs_descriptor,
            unverified=product.is_unverified("hcpcs") or product.is_unverified("hcpcs_descriptor"),
        ),
    ]


def _dose_rows(case: Case, assessment: Assessment, product: Product | None) -> list[Row]:
    check = assessment.dose
    dose = check.dose
    if dose is None:
        reason = "; ".join(f.message for f in check.findings) or "the dose cannot be computed"
        regimen = case.regimen
        return [Row("Dose", f"{plain_number(regimen.dose_g_per_kg)} g/kg per course", reason)]
    weight = dose.dosing_weight
    units = ""
    if product is not None and check.billing_units is not None:
        units = (
            f"{check.billing_units} billing units of {product.billing_unit_mg} mg ({product.hcpcs})"
        )
    measured = f"Actual weight {plain_number(weight.actual_kg)} kg"
    if weight.bmi is not None:
        measured += f", BMI {plain_number(weight.bmi)}"
    measured += f"; measured {format_date(case.measurements.measured_on)}"
    rows = [
        Row(
            "Dose per course",
            f"{grams(dose.per_course_g)} g ({plain_number(dose.dose_g_per_kg)} g/kg)",
            note=units,
        ),
        Row(
            "Dose per infusion day",
            f"{grams(dose.per_day_g)} g "
            f"({plain_number(dose.g_per_kg_per_day)} g/kg per day) "
            f"over {plural(dose.days_per_course, 'day')}",
        ),
    ]
    if dose.rounded:
        rows.append(
            Row(
                "Dose prescribed",
                f"{grams(dose.prescribed_shown_g)} g per course",
                note=dose.rounding_note,
            )
        )
    if dose.loading is not None:
        loading_units = ""
        if product is not None and check.loading_billing_units is not None:
            loading_units = f"{check.loading_billing_units} billing units ({product.hcpcs})"
        rows.append(
            Row(
                "Loading course",
                f"{grams(dose.loading.per_course_g)} g "
                f"({plain_number(dose.loading.dose_g_per_kg)} g/kg) over "
                f"{plural(dose.loading.days_per_course, 'day')}, before maintenance",
                note=loading_units,
            )
        )
    return [
        *rows,
        Row(
            "Dosing weight",
            f"{plain_number(weight.weight_kg)} kg ({BASIS_LABELS[weight.basis]})",
            note=measured,
            unverified=check.weight_unverified,
        ),
    ]


def _period_rows(case: Case, assessment: Assessment) -> list[Row]:
    regimen = case.regimen
    how_often = schedule(regimen.interval_weeks, assessment.dose.route)
    rows = [Row("Interval", how_often[0].upper() + how_often[1:])]
    duration = []
    if regimen.courses_requested is not None:
        duration.append(plural(regimen.courses_requested, "course"))
    if regimen.months_requested is not None:
        duration.append(plural(regimen.months_requested, "month"))
    rows.append(Row("Duration requested", " / ".join(duration)))
    rows.append(Row("Requested start", format_date(regimen.start_date)))
    end = assessment.authorization_end
    if assessment.authorization_months is not None and end is not None:
        rows.append(
            Row(
                "Authorization period",
                f"{plural(assessment.authorization_months, 'month')}: "
                f"{format_date(regimen.start_date)} through {format_date(end)}",
                unverified=assessment.authorization_unverified,
            )
        )
    rows.append(Row("Site of care", SITE_LABELS[case.site_of_care]))
    plan = []
    if regimen.premedication:
        plan.append(f"premedication: {regimen.premedication}")
    if regimen.tolerated_rate_mg_per_kg_per_min is not None:
        plan.append(
            f"rate no faster than {plain_number(regimen.tolerated_rate_mg_per_kg_per_min)} "
            "mg/kg/min, as tolerated before"
        )
    if plan:
        text = "; ".join(plan)
        rows.append(Row("Infusion plan", text[0].upper() + text[1:]))
    return rows


def treatment(
    case: Case,
    assessment: Assessment,
    library: Library,
    definition: IndicationDefinition,
    refs: References,
) -> Treatment:
    """The treatment block: what is requested and how the dose was worked out."""
    product = library.products.get(case.regimen.product_id)
    check = assessment.dose
    rows = _product_rows(product, case.regimen.product_id, check.route)
    rows += _dose_rows(case, assessment, product)
    rows += _period_rows(case, assessment)
    dosing: list[str] = []
    dose = check.dose
    if dose is not None:
        weight = dose.dosing_weight
        dosing.append(
            f"The dose is based on a dosing weight of {plain_number(weight.weight_kg)} kg. "
            f"{weight.reason} Policy applied: {check.weight_policy}"
        )
        dosing.append(
            f"{prescribed_and_given(dose)} Given as {course_sentence(dose, check.route)}."
        )
        if dose.loading is not None:
            dosing.append(loading_sentence(dose))
        sc = check.sc
        if sc is not None and (sc.conversion or sc.ramp_up_note):
            dosing.append(" ".join(t for t in (sc.conversion, sc.ramp_up_note) if t))
    product_reasons = assessment.safety.product_reasons
    if product_reasons:
        dosing.append("Choice of product: " + " ".join(product_reasons))
    dosing_refs: tuple[int, ...] = ()
    limit_unverified = False
    # Claim the dose is within the regimen only when the engine found nothing to say.
    if check.within_limits:
        dosing_refs = refs.cite(check.limit_citations)
        limit_unverified = check.limit_unverified
        dosing.append(
            f"This is within the {check.limit_label.lower()} regimen for "
            f"{definition.short_name or definition.name}: {check.limit_text}."
        )
    return Treatment(tuple(rows), tuple(dosing), dosing_refs, limit_unverified)
