"""The treatment requested, as the letters write it: product, dose, period, site of care.

Every figure comes from the assessment's dose check (the dose and its rounding,
the billing units, the authorization period); this module only words them. What
the figures rest on (the weight rule assumed, a period or limit no source
confirmed) goes beside them for the physician, never into the payer's text.
"""

from __future__ import annotations

from dataclasses import dataclass

from priorauth.domain.case import SITE_LABELS, Case
from priorauth.domain.catalog import Product, Route
from priorauth.domain.dosing import BASIS_LABELS, Dose, WeightBasis
from priorauth.domain.quantities import plain_number
from priorauth.rules.assessment import Assessment, DoseCheck
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
from .doubts import Doubt, DoubtKind, Marked, unverified
from .parts import References, Row
from .wording import format_date, plural

CATALOG = "the product catalog (forms/products.toml)"


@dataclass(frozen=True, slots=True)
class Treatment:
    """The treatment block's rows, the dosing paragraphs and their references, with doubts."""

    rows: tuple[Marked[Row], ...]
    dosing: tuple[Marked[str], ...]
    dosing_refs: tuple[int, ...]

    @property
    def payer_rows(self) -> tuple[Row, ...]:
        return tuple(m.item for m in self.rows)

    @property
    def payer_dosing(self) -> tuple[str, ...]:
        return tuple(m.item for m in self.dosing)


def _product_rows(product: Product | None, product_id: str, given_by: Route) -> list[Marked[Row]]:
    if product is None:
        return [
            Marked(
                Row("Product", product_id),
                (Doubt("Not a product in the catalog.", kind=DoubtKind.PROBLEM),),
            )
        ]
    route = ROUTE_WORDS.get(given_by, str(given_by))
    return [
        Marked(
            Row(
                "Product",
                f"{product.name} (immune globulin {route}, "
                f"{plain_number(product.concentration_percent)}%), {product.manufacturer}",
            ),
            unverified(
                any(
                    product.is_unverified(f)
                    for f in ("name", "manufacturer", "route", "concentration_percent")
                ),
                CATALOG,
            ),
        ),
        Marked(
            Row("HCPCS code", product.hcpcs, note=product.hcpcs_descriptor),
            unverified(
                product.is_unverified("hcpcs") or product.is_unverified("hcpcs_descriptor"),
                CATALOG,
            ),
        ),
    ]


def _dose_rows(case: Case, assessment: Assessment, product: Product | None) -> list[Marked[Row]]:
    check = assessment.dose
    dose = check.dose
    if dose is None:
        reason = "; ".join(f.message for f in check.findings) or "the dose cannot be computed"
        regimen = case.regimen
        return [
            Marked(
                Row("Dose", f"{plain_number(regimen.dose_g_per_kg)} g/kg per course"),
                (Doubt(f"The dose cannot be computed: {reason}", kind=DoubtKind.PROBLEM),),
            )
        ]
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
        Marked(
            Row(
                "Dose per course",
                f"{grams(dose.per_course_g)} g ({plain_number(dose.dose_g_per_kg)} g/kg)",
                note=units,
            )
        ),
        Marked(
            Row(
                "Dose per infusion day",
                f"{grams(dose.per_day_g)} g "
                f"({plain_number(dose.g_per_kg_per_day)} g/kg per day) "
                f"over {plural(dose.days_per_course, 'day')}",
            )
        ),
    ]
    if dose.rounded:
        rows.append(
            Marked(
                Row(
                    "Dose prescribed",
                    f"{grams(dose.prescribed_shown_g)} g per course",
                    note=f"given as {grams(dose.per_course_g)} g: {dose.rounding_rule}",
                ),
                (Doubt(f"Rounding: {dose.rounding_note}", kind=DoubtKind.ASSUMPTION),),
            )
        )
    if dose.loading is not None:
        loading_units = ""
        if product is not None and check.loading_billing_units is not None:
            loading_units = f"{check.loading_billing_units} billing units ({product.hcpcs})"
        rows.append(
            Marked(
                Row(
                    "Loading course",
                    f"{grams(dose.loading.per_course_g)} g "
                    f"({plain_number(dose.loading.dose_g_per_kg)} g/kg) over "
                    f"{plural(dose.loading.days_per_course, 'day')}, before maintenance",
                    note=loading_units,
                )
            )
        )
    return [
        *rows,
        Marked(
            Row(
                "Dosing weight",
                f"{plain_number(weight.weight_kg)} kg ({BASIS_LABELS[weight.basis]})",
                note=measured,
            ),
            unverified(
                check.weight_unverified,
                check.weight_source,
                "This payer's weight rule is not confirmed by a source; the weight basis "
                "is a placeholder.",
            ),
        ),
    ]


def _period_rows(case: Case, assessment: Assessment) -> list[Marked[Row]]:
    regimen = case.regimen
    how_often = schedule(regimen.interval_weeks, assessment.dose.route)
    rows = [Marked(Row("Interval", how_often[0].upper() + how_often[1:]))]
    duration = []
    if regimen.courses_requested is not None:
        duration.append(plural(regimen.courses_requested, "course"))
    if regimen.months_requested is not None:
        duration.append(plural(regimen.months_requested, "month"))
    rows.append(Marked(Row("Duration requested", " / ".join(duration))))
    rows.append(Marked(Row("Requested start", format_date(regimen.start_date))))
    end = assessment.authorization_end
    if assessment.authorization_months is not None and end is not None:
        rows.append(
            Marked(
                Row(
                    "Authorization period",
                    f"{plural(assessment.authorization_months, 'month')}: "
                    f"{format_date(regimen.start_date)} through {format_date(end)}",
                ),
                unverified(
                    assessment.authorization_unverified,
                    assessment.authorization_note,
                    "The authorization period is not confirmed by a source for this payer.",
                ),
            )
        )
    rows.append(Marked(Row("Site of care", SITE_LABELS[case.site_of_care])))
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
        rows.append(Marked(Row("Infusion plan", text[0].upper() + text[1:])))
    return rows


def _weight_paragraph(check: DoseCheck, dose: Dose) -> Marked[str]:
    """The dosing weight as the payer reads it; the rule behind it beside it, for staff.

    The payer reads how an adjusted or ideal weight was worked out. Which rule
    applies is this application's reading of the payer's policy (or of the
    guidelines, for a payer without a profile): the physician checks it, the payer
    is not told it as the payer's own.
    """
    weight = dose.dosing_weight
    text = (
        f"The dose is based on a dosing weight of {plain_number(weight.weight_kg)} kg "
        f"({BASIS_LABELS[weight.basis]})."
    )
    if weight.basis is not WeightBasis.ACTUAL and not check.weight_unverified:
        text += f" {weight.reason}"
    doubts = (
        Doubt(
            f"Weight rule applied: {weight.reason} Policy: {check.weight_policy}",
            check.weight_source,
            DoubtKind.ASSUMPTION,
        ),
        *unverified(
            check.weight_unverified,
            check.weight_source,
            "This payer's weight rule is not confirmed by a source; the weight basis is a "
            "placeholder.",
        ),
    )
    return Marked(text, doubts)


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
    dosing: list[Marked[str]] = []
    dose = check.dose
    if dose is not None:
        dosing.append(_weight_paragraph(check, dose))
        dosing.append(
            Marked(
                f"{prescribed_and_given(dose)} That is {course_sentence(dose, check.route)}.",
                (Doubt(f"Rounding: {dose.rounding_note}", kind=DoubtKind.ASSUMPTION),)
                if dose.rounding_note
                else (),
            )
        )
        if dose.loading is not None:
            dosing.append(Marked(loading_sentence(dose)))
        sc = check.sc
        if sc is not None and (sc.conversion or sc.ramp_up_note):
            dosing.append(Marked(" ".join(t for t in (sc.conversion, sc.ramp_up_note) if t)))
    product_reasons = assessment.safety.product_reasons
    if product_reasons:
        dosing.append(Marked("Choice of product: " + " ".join(product_reasons)))
    dosing_refs: tuple[int, ...] = ()
    # Claim the dose is within the regimen only when the engine found nothing to say.
    if check.within_limits:
        dosing_refs = refs.cite(check.limit_citations)
        dosing.append(
            Marked(
                f"This is within the {check.limit_label.lower()} regimen for "
                f"{definition.short_name or definition.name}: {check.limit_text}.",
                unverified(
                    check.limit_unverified,
                    check.limit_note,
                    "The dosing limits for this indication are not confirmed by a source.",
                ),
            )
        )
    return Treatment(tuple(rows), tuple(dosing), dosing_refs)
