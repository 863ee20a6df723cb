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

from .doubts import Doubt, DoubtKind, Marked, unverified
from .parts import References, Row
from .wording import format_date, plural

_ROUTE_LABELS = {Route.IV: "intravenous", Route.SC: "subcutaneous"}
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


def _dose_arithmetic(dose: Dose) -> str:
    """Show how the grams per course follow from g/kg and the dosing weight, rounding included."""
    weight_kg = dose.dosing_weight.weight_kg
    exact_g = dose.dose_g_per_kg * weight_kg
    product = f"{plain_number(dose.dose_g_per_kg)} g/kg × {plain_number(weight_kg)} kg"
    if exact_g == dose.per_course_g:
        return f"{product} = {plain_number(dose.per_course_g)} g per course"
    if dose.rounding_step_g is not None:
        rounding = (
            f"rounded to the nearest {plain_number(dose.rounding_step_g)} g "
            "under the dosing policy applied"
        )
    else:
        rounding = "rounded to 0.1 g"
    return (
        f"{product} = {plain_number(exact_g)} g, {rounding}: "
        f"{plain_number(dose.per_course_g)} g per course"
    )


def _product_rows(product: Product | None, product_id: str) -> list[Marked[Row]]:
    if product is None:
        return [
            Marked(
                Row("Product", product_id),
                (Doubt("Not a product in the catalog.", kind=DoubtKind.PROBLEM),),
            )
        ]
    route = _ROUTE_LABELS.get(product.route, str(product.route))
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
    return [
        Marked(
            Row(
                "Dose per course",
                f"{plain_number(dose.per_course_g)} g ({plain_number(dose.dose_g_per_kg)} g/kg)",
                note=units,
            )
        ),
        Marked(
            Row(
                "Dose per infusion day",
                f"{plain_number(dose.per_day_g)} g "
                f"({plain_number(dose.g_per_kg_per_day)} g/kg per day) "
                f"over {plural(dose.days_per_course, 'day')}",
            )
        ),
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
    rows = [Marked(Row("Interval", f"Every {plural(regimen.interval_weeks, 'week')}"))]
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
    rows = _product_rows(product, case.regimen.product_id)
    rows += _dose_rows(case, assessment, product)
    rows += _period_rows(case, assessment)
    dosing: list[Marked[str]] = []
    dose = check.dose
    if dose is not None:
        dosing.append(_weight_paragraph(check, dose))
        dosing.append(
            Marked(
                f"{_dose_arithmetic(dose)}, given as {plain_number(dose.per_day_g)} g per day "
                f"over {plural(dose.days_per_course, 'day')} "
                f"({plain_number(dose.g_per_kg_per_day)} g/kg per day)."
            )
        )
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
