"""Body-weight formulas and the dose a regimen asks for.

Formulas (sources in ../shared/reference/ivig-products-billing.md §5.1):
- BMI = weight_kg / height_m².
- Ideal body weight, Devine: male 50 kg, female 45.5 kg, plus 2.3 kg per inch
  over 60 inches (Australian National Blood Authority, BloodSTAR calculator).
- Adjusted weight = IBW + factor × (actual − IBW); factor 0.4 in BloodSTAR.
- When actual weight is below IBW, dose on actual weight (UTMC policy
  3364-133-93; pharmot/multipurpose-calculator; InsightRX clinPK).
- Below 152.4 cm (60 in) Devine does not apply: Ontario's calculator doses
  those patients on actual weight.
Which weight a payer wants is the payer's policy, passed in, never assumed here.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .case import Measurements, Sex
from .quantities import cm_to_in, plain_number, round_dose_g, round_weight_kg, split_dose_g
from .regimen import Regimen
from .vials import NO_ROUNDING, RoundingRule, VialRounding, rounded_dose_g

DEVINE_BASE_KG = {Sex.MALE: Decimal("50"), Sex.FEMALE: Decimal("45.5")}
DEVINE_KG_PER_INCH = Decimal("2.3")
DEVINE_MIN_HEIGHT_IN = Decimal("60")
DEVINE_MIN_HEIGHT_CM = Decimal("152.4")


class WeightBasis(StrEnum):
    ACTUAL = "actual"
    IDEAL = "ideal"
    ADJUSTED = "adjusted"


class WeightTrigger(StrEnum):
    ALWAYS = "always"
    BMI_ABOVE = "bmi_above"
    PERCENT_ABOVE_IDEAL = "percent_above_ideal"


BASIS_LABELS = {
    WeightBasis.ACTUAL: "actual body weight",
    WeightBasis.IDEAL: "ideal body weight (Devine)",
    WeightBasis.ADJUSTED: "adjusted body weight",
}


class DosingWeightPolicy(BaseModel):
    """Which body weight a payer doses on, when, and how it rounds the dose."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    basis: WeightBasis = WeightBasis.ACTUAL
    trigger: WeightTrigger = WeightTrigger.ALWAYS
    bmi_threshold: Decimal | None = Field(default=None, gt=0)
    percent_above_ideal: Decimal | None = Field(default=None, gt=0)
    adjustment_factor: Decimal = Field(default=Decimal("0.4"), ge=0, le=1)
    use_pre_pregnancy_weight: bool = False
    # How the course dose is rounded, never beyond the rounding's tolerance.
    rounding: VialRounding = NO_ROUNDING
    # Ontario's calculator leaves patients below 152.4 cm, or at or below 50 kg (male)
    # / 45.5 kg (female), on actual weight and unrounded [S18].
    exempt_small_patients: bool = False
    # Indications whose dose is titrated to IgG rather than computed (Ontario: PID, SID).
    exempt_indications: tuple[str, ...] = ()
    # MP.001.001 does not round for patients under 18.
    exempt_under_age_years: int | None = Field(default=None, ge=1, le=30)
    exemptions_source: str = ""

    def needs_height(self) -> bool:
        return self.basis is not WeightBasis.ACTUAL

    def describe(self) -> str:
        if self.basis is WeightBasis.ACTUAL:
            return "Dosed on actual body weight."
        what = BASIS_LABELS[self.basis]
        if self.basis is WeightBasis.ADJUSTED:
            what += f" (IBW + {self.adjustment_factor} × (actual − IBW))"
        if self.trigger is WeightTrigger.BMI_ABOVE:
            when = f"when BMI is above {self.bmi_threshold}"
        elif self.trigger is WeightTrigger.PERCENT_ABOVE_IDEAL:
            when = f"when actual weight is more than {self.percent_above_ideal}% above ideal"
        else:
            when = "for every patient of 152.4 cm or taller"
        return f"Dosed on {what} {when}; otherwise, and whenever actual is below ideal, on actual."


class MissingDosingInput(ValueError):
    """The policy needs a measurement the case does not have."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class DosingWeight(BaseModel):
    """The weight a dose is computed on: weights as shown (0.1 kg), and the exact one used.

    Ideal and adjusted weights are computed from unrounded values and rounded only
    for showing; the dose uses ``exact_kg``.
    """

    model_config = ConfigDict(frozen=True)

    weight_kg: Decimal
    exact_kg: Decimal
    basis: WeightBasis
    actual_kg: Decimal
    ideal_kg: Decimal | None
    adjusted_kg: Decimal | None
    bmi: Decimal | None
    reason: str


class Dose(BaseModel):
    model_config = ConfigDict(frozen=True)

    dosing_weight: DosingWeight
    dose_g_per_kg: Decimal
    # What the prescription asks for, unrounded: dose_g_per_kg × the dosing weight.
    prescribed_g: Decimal
    per_course_g: Decimal
    per_day_g: Decimal
    # The dose of each infusion day; they add up to per_course_g.
    day_doses_g: tuple[Decimal, ...]
    g_per_kg_per_day: Decimal
    days_per_course: int
    # None: one course, not repeated.
    interval_weeks: Decimal | None
    # The step the course was rounded to, when a step rounding was applied.
    rounding_step_g: Decimal | None
    rounded: bool = False
    # What was done to the prescribed dose and under which rule, in a sentence.
    rounding_note: str = ""
    # The rule that changed the dose, in words a payer reads (no source), or "".
    rounding_rule: str = ""
    # The loading course given once before these courses, on the same weight and rule.
    loading: Dose | None = None

    @property
    def prescribed_shown_g(self) -> Decimal:
        """The prescribed dose to its precision, as every page and document writes it."""
        return round_dose_g(self.prescribed_g)

    @property
    def per_week_g(self) -> Decimal | None:
        """The course dose spread over its weeks (a subcutaneous regimen's weekly dose)."""
        if self.interval_weeks is None:
            return None
        return self.per_course_g / self.interval_weeks


def bmi(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    height_m = height_cm / Decimal(100)
    return (weight_kg / (height_m * height_m)).quantize(Decimal("0.1"))


def ideal_body_weight_kg(sex: Sex, height_cm: Decimal) -> Decimal:
    """Devine formula; only meaningful at 152.4 cm (60 in) or taller."""
    inches_over = cm_to_in(height_cm) - DEVINE_MIN_HEIGHT_IN
    return DEVINE_BASE_KG[sex] + DEVINE_KG_PER_INCH * inches_over


def adjusted_body_weight_kg(actual_kg: Decimal, ideal_kg: Decimal, factor: Decimal) -> Decimal:
    return ideal_kg + factor * (actual_kg - ideal_kg)


def dosing_weight(
    measurements: Measurements, sex: Sex, policy: DosingWeightPolicy, indication_id: str = ""
) -> DosingWeight:
    """Choose the body weight to dose on, and say why.

    Ideal and adjusted weights are computed unrounded; only what is shown (the
    reason, a letter's rows) is rounded to 0.1 kg.
    """
    actual = measurements.weight_kg
    source = "actual body weight"
    if policy.use_pre_pregnancy_weight and measurements.pregnant:
        if measurements.pre_pregnancy_weight_kg is None:
            raise MissingDosingInput(
                "measurements.pre_pregnancy_weight",
                "this payer doses pregnant patients on their pre-pregnancy weight: enter it",
            )
        actual = measurements.pre_pregnancy_weight_kg
        source = "pre-pregnancy weight"
    shown_actual = round_weight_kg(actual)
    height = measurements.height_cm
    if height is None and policy.needs_height():
        raise MissingDosingInput(
            "measurements.height",
            f"height is needed: this payer doses on {BASIS_LABELS[policy.basis]}, "
            "which is computed from height",
        )
    body_mass_index = bmi(actual, height) if height is not None else None
    ideal: Decimal | None = None
    adjusted: Decimal | None = None
    if height is not None and height >= DEVINE_MIN_HEIGHT_CM:
        ideal = ideal_body_weight_kg(sex, height)
        adjusted = adjusted_body_weight_kg(actual, ideal, policy.adjustment_factor)

    def shown(value: Decimal | None) -> Decimal | None:
        return None if value is None else round_weight_kg(value)

    def actual_weight(reason: str) -> DosingWeight:
        return DosingWeight(
            weight_kg=shown_actual,
            exact_kg=actual,
            basis=WeightBasis.ACTUAL,
            actual_kg=shown_actual,
            ideal_kg=shown(ideal),
            adjusted_kg=shown(adjusted),
            bmi=body_mass_index,
            reason=reason,
        )

    if indication_id and indication_id in policy.exempt_indications:
        return actual_weight(
            f"Dosed on {source} ({shown_actual} kg): under this payer's policy the dose for "
            "this indication is titrated to IgG levels, not adjusted for body weight"
            + (f" ({policy.exemptions_source})." if policy.exemptions_source else ".")
        )
    if height is None:
        return actual_weight(f"Dosed on {source} ({shown_actual} kg).")
    if ideal is None or adjusted is None:
        return actual_weight(
            f"Dosed on {source} ({shown_actual} kg): below 152.4 cm the ideal-weight "
            "formula does not apply."
        )
    shown_ideal = round_weight_kg(ideal)
    if policy.basis is WeightBasis.ACTUAL:
        return actual_weight(
            f"Dosed on {source} ({shown_actual} kg), as this payer's policy states."
        )
    if actual <= ideal:
        return actual_weight(
            f"Dosed on {source} ({shown_actual} kg): it is not above ideal body weight "
            f"({shown_ideal} kg)."
        )
    measured_bmi = bmi(actual, height)
    if policy.trigger is WeightTrigger.BMI_ABOVE and policy.bmi_threshold is not None:
        if measured_bmi <= policy.bmi_threshold:
            return actual_weight(
                f"Dosed on {source} ({shown_actual} kg): BMI {measured_bmi} is not above "
                f"{policy.bmi_threshold}."
            )
        trigger = f"BMI {measured_bmi} is above {policy.bmi_threshold}"
    elif (
        policy.trigger is WeightTrigger.PERCENT_ABOVE_IDEAL
        and policy.percent_above_ideal is not None
    ):
        limit = ideal * (1 + policy.percent_above_ideal / 100)
        if actual <= limit:
            return actual_weight(
                f"Dosed on {source} ({shown_actual} kg): not more than "
                f"{policy.percent_above_ideal}% above ideal body weight ({shown_ideal} kg)."
            )
        trigger = f"actual weight is more than {policy.percent_above_ideal}% above ideal"
    else:
        trigger = "this payer's policy applies it to every adult of 152.4 cm or taller"

    if policy.basis is WeightBasis.IDEAL:
        chosen, basis = ideal, WeightBasis.IDEAL
        how = f"ideal body weight (Devine) {shown_ideal} kg"
    else:
        chosen, basis = adjusted, WeightBasis.ADJUSTED
        how = (
            f"adjusted body weight {round_weight_kg(adjusted)} kg = IBW {shown_ideal} kg + "
            f"{policy.adjustment_factor} × ({shown_actual} kg − {shown_ideal} kg)"
        )
    return DosingWeight(
        weight_kg=round_weight_kg(chosen),
        exact_kg=chosen,
        basis=basis,
        actual_kg=shown_actual,
        ideal_kg=shown_ideal,
        adjusted_kg=round_weight_kg(adjusted),
        bmi=body_mass_index,
        reason=f"Dosed on {how}, because {trigger}.",
    )


def rounding_exemption(
    policy: DosingWeightPolicy,
    measurements: Measurements,
    sex: Sex,
    age_years: int,
    indication_id: str,
) -> str:
    """Why this patient's dose is not rounded under the payer's policy, or "" when it may be."""
    where = f" ({policy.exemptions_source})" if policy.exemptions_source else ""
    if indication_id in policy.exempt_indications:
        return f"the dose for this indication is titrated to IgG levels{where}"
    if policy.exempt_under_age_years is not None and age_years < policy.exempt_under_age_years:
        return f"the policy does not round doses for patients under {policy.exempt_under_age_years}"
    if policy.exempt_small_patients:
        height = measurements.height_cm
        small_weight = DEVINE_BASE_KG[sex]
        if height is None or height < DEVINE_MIN_HEIGHT_CM:
            return f"patients under 152.4 cm are dosed on actual weight, unrounded{where}"
        if measurements.weight_kg <= small_weight:
            return (
                f"patients at or below {plain_number(small_weight)} kg ({sex.value}) are dosed "
                f"on actual weight, unrounded{where}"
            )
    return ""


def _step_over_weeks(
    prescribed_g: Decimal, rounding: VialRounding, total_weeks: Decimal, interval: Decimal
) -> tuple[Decimal, str]:
    """Round the total over some weeks to the step, then divide it back into courses.

    Ontario's calculator rounds the total dose to 5 g and gives SCIG as the
    rounded total ÷ the number of weeks [S18]: a weekly 6 g is a 24 g total,
    rounded to 25 g, given as 6.25 g a week.
    """
    scale = total_weeks / interval
    total, note = rounded_dose_g(prescribed_g * scale, (), rounding)
    course = total / scale
    if course == prescribed_g:
        return prescribed_g, note
    return course, (
        f"{note[:-1]}; over {plain_number(total_weeks)} weeks, so "
        f"{plain_number(round_dose_g(course))} g per {plain_number(interval)}-week course "
        "(the rounded total ÷ the weeks)."
    )


def _round_course(
    prescribed_g: Decimal,
    days: int,
    rounding: VialRounding,
    exemption: str,
    vial_sizes_g: tuple[Decimal, ...],
    step_total: tuple[Decimal, Decimal] | None = None,
) -> tuple[tuple[Decimal, ...], bool, str]:
    """The infusion days' doses after the payer's rounding, whether it changed them, and why."""
    exact_days = split_dose_g(prescribed_g, days)
    if rounding.rule is RoundingRule.NONE:
        return exact_days, False, ""
    if exemption:
        return exact_days, False, f"Not rounded: {exemption}."
    if rounding.rule is RoundingRule.NEAREST_STEP:
        # A step rounds the course total (Ontario rounds the total dose to 5 g); a
        # subcutaneous course is a share of a total over several weeks.
        if step_total is not None:
            total, note = _step_over_weeks(prescribed_g, rounding, *step_total)
        else:
            total, note = rounded_dose_g(prescribed_g, vial_sizes_g, rounding)
        if total == prescribed_g:
            return exact_days, False, note
        return split_dose_g(total, days), True, note
    if not vial_sizes_g:
        return exact_days, False, "Not rounded: the product's vial sizes are not known."
    # Vial rounding applies to each infusion, as the policies speak of a dose and a vial.
    rounded_days, notes = [], []
    for day_g in exact_days:
        given, note = rounded_dose_g(day_g, vial_sizes_g, rounding)
        rounded_days.append(given)
        notes.append(note)
    changed = tuple(rounded_days) != exact_days
    return tuple(rounded_days), changed, " ".join(dict.fromkeys(notes))


def _course(
    weight: DosingWeight,
    dose_g_per_kg: Decimal,
    days_per_course: int,
    interval_weeks: Decimal | None,
    rounding: VialRounding,
    exemption: str,
    vial_sizes_g: tuple[Decimal, ...],
    step_total: tuple[Decimal, Decimal] | None,
) -> Dose:
    prescribed = dose_g_per_kg * weight.exact_kg
    days, changed, note = _round_course(
        prescribed, days_per_course, rounding, exemption, vial_sizes_g, step_total
    )
    return Dose(
        dosing_weight=weight,
        dose_g_per_kg=dose_g_per_kg,
        prescribed_g=prescribed,
        per_course_g=sum(days, Decimal(0)),
        per_day_g=days[0],
        day_doses_g=days,
        g_per_kg_per_day=(dose_g_per_kg / days_per_course).quantize(Decimal("0.001")),
        days_per_course=days_per_course,
        interval_weeks=interval_weeks,
        rounding_step_g=rounding.step_g
        if changed and rounding.rule is RoundingRule.NEAREST_STEP
        else None,
        rounded=changed,
        rounding_note=note,
        rounding_rule=rounding.describe() if changed else "",
    )


def course_dose(
    weight: DosingWeight,
    regimen: Regimen,
    rounding: VialRounding = NO_ROUNDING,
    *,
    exemption: str = "",
    vial_sizes_g: tuple[Decimal, ...] = (),
    step_total_weeks: Decimal | None = None,
) -> Dose:
    """Grams per course and per infusion day for a regimen on a dosing weight.

    The payer's rounding moves the dose only within its tolerance and never to
    zero; an exempt patient's dose stays as prescribed (``exemption`` says why).
    ``step_total_weeks`` makes a step rounding apply to the total over that many
    weeks (a subcutaneous course). A loading course is computed the same way.
    """
    interval = regimen.interval_weeks
    step_total = (
        (step_total_weeks, interval)
        if step_total_weeks is not None and interval is not None
        else None
    )
    dose = _course(
        weight,
        regimen.dose_g_per_kg,
        regimen.days_per_course,
        interval,
        rounding,
        exemption,
        vial_sizes_g,
        step_total,
    )
    if regimen.loading is None:
        return dose
    loading = _course(
        weight,
        regimen.loading.dose_g_per_kg,
        regimen.loading.days,
        None,
        rounding,
        exemption,
        vial_sizes_g,
        None,
    )
    return dose.model_copy(update={"loading": loading})
