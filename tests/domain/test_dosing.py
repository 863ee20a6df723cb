"""Dosing: worked examples computed by hand, and properties that hold for every patient."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from priorauth.domain.case import HeightUnit, Measurements, Regimen, Sex, WeightUnit
from priorauth.domain.dosing import (
    DosingWeightPolicy,
    MissingDosingInput,
    WeightBasis,
    WeightTrigger,
    adjusted_body_weight_kg,
    bmi,
    course_dose,
    dosing_weight,
    ideal_body_weight_kg,
)
from priorauth.domain.quantities import in_to_cm, lb_to_kg, round_dose_g
from priorauth.domain.vials import NO_ROUNDING, RoundingRule, VialRounding

MEASURED_ON = dt.date(2026, 11, 2)
STEP_5 = VialRounding(rule=RoundingRule.NEAREST_STEP, step_g=Decimal("5"))
ADJUSTED_ALWAYS = DosingWeightPolicy(basis=WeightBasis.ADJUSTED, trigger=WeightTrigger.ALWAYS)
ADJUSTED_ABOVE_BMI_30 = DosingWeightPolicy(
    basis=WeightBasis.ADJUSTED, trigger=WeightTrigger.BMI_ABOVE, bmi_threshold=Decimal("30")
)


def measured(weight_kg: str | Decimal, height_cm: str | Decimal | None = None) -> Measurements:
    return Measurements(
        weight=Decimal(weight_kg),
        height=None if height_cm is None else Decimal(height_cm),
        measured_on=MEASURED_ON,
    )


def regimen(dose_g_per_kg: str, days_per_course: int = 1) -> Regimen:
    return Regimen(
        product_id="privigen",
        dose_g_per_kg=Decimal(dose_g_per_kg),
        days_per_course=days_per_course,
        interval_weeks=Decimal("3"),
        courses_requested=1,
        start_date=dt.date(2026, 12, 1),
    )


# Worked examples -------------------------------------------------------------


def test_man_100_kg_170_cm_on_adjusted_weight() -> None:
    # By hand: 170 cm = 66.929 in; IBW = 50 + 2.3 × 6.929 = 65.937 kg, unrounded;
    # AdjBW = 65.937 + 0.4 × (100 − 65.937) = 79.562 kg (shown 79.6: rounding IBW
    # first would give 79.5); 2 g/kg × 79.562 = 159.12 g.
    weight = dosing_weight(measured("100", "170"), Sex.MALE, ADJUSTED_ALWAYS)
    assert weight.ideal_kg == Decimal("65.9")
    assert weight.adjusted_kg == weight.weight_kg == Decimal("79.6")
    assert abs(weight.exact_kg - Decimal("79.5622")) < Decimal("0.0001")
    assert weight.basis is WeightBasis.ADJUSTED
    assert weight.bmi == Decimal("34.6")
    assert "79.6" in weight.reason and "65.9" in weight.reason

    dose = course_dose(weight, regimen("2", days_per_course=4))
    assert abs(dose.prescribed_g - Decimal("159.1244")) < Decimal("0.0001")
    assert dose.per_course_g == Decimal("159.1")
    # 159.1 g over 4 days in tenths of a gram: the first three days take the extra tenth.
    assert dose.day_doses_g == (Decimal("39.8"), Decimal("39.8"), Decimal("39.8"), Decimal("39.7"))
    assert dose.g_per_kg_per_day == Decimal("0.500")


def test_payer_rounding_to_5_g_comes_after_the_dose() -> None:
    weight = dosing_weight(measured("100", "170"), Sex.MALE, ADJUSTED_ALWAYS)
    dose = course_dose(weight, regimen("2"), STEP_5)
    assert dose.per_course_g == Decimal("160")  # 159.1 g to the nearest 5 g, +0.6 %
    assert dose.rounded and "nearest 5 g" in dose.rounding_note


def test_bmi_trigger_uses_adjusted_weight_above_the_threshold() -> None:
    weight = dosing_weight(measured("100", "170"), Sex.MALE, ADJUSTED_ABOVE_BMI_30)
    assert weight.weight_kg == Decimal("79.6")
    assert "BMI 34.6 is above 30" in weight.reason


def test_bmi_trigger_keeps_actual_weight_at_or_below_the_threshold() -> None:
    # 80 kg at 175 cm: BMI 26.1.
    weight = dosing_weight(measured("80", "175"), Sex.MALE, ADJUSTED_ABOVE_BMI_30)
    assert weight.basis is WeightBasis.ACTUAL
    assert weight.weight_kg == Decimal("80.0")


def test_woman_60_kg_on_actual_weight_at_0_4_g_per_kg() -> None:
    weight = dosing_weight(measured("60"), Sex.FEMALE, DosingWeightPolicy())
    dose = course_dose(weight, regimen("0.4"))
    assert weight.basis is WeightBasis.ACTUAL
    assert dose.per_course_g == Decimal("24.0")


def test_pounds_and_inches_convert_exactly() -> None:
    assert lb_to_kg(Decimal("220")) == Decimal("99.79032140")
    assert in_to_cm(Decimal("67")) == Decimal("170.18")
    both = Measurements(
        weight=Decimal("220"),
        weight_unit=WeightUnit.LB,
        height=Decimal("67"),
        height_unit=HeightUnit.IN,
        measured_on=MEASURED_ON,
    )
    weight = dosing_weight(both, Sex.MALE, ADJUSTED_ALWAYS)
    assert weight.actual_kg == Decimal("99.8")
    # 67 in: IBW = 50 + 2.3 × 7 = 66.1 kg; AdjBW = 66.1 + 0.4 × (99.790 − 66.1) = 79.576.
    assert weight.ideal_kg == Decimal("66.1")
    assert weight.adjusted_kg == Decimal("79.6")
    assert abs(weight.exact_kg - Decimal("79.5761")) < Decimal("0.0001")


def test_devine_ideal_weight_for_a_woman() -> None:
    # 5 ft 5 in = 165.1 cm: 45.5 + 2.3 × 5 = 57.0 kg.
    assert ideal_body_weight_kg(Sex.FEMALE, Decimal("165.1")) == Decimal("57.0")


def test_bmi_by_hand() -> None:
    assert bmi(Decimal("62"), Decimal("165")) == Decimal("22.8")


def test_actual_weight_below_ideal_is_used_as_is() -> None:
    # 55 kg man at 180 cm: IBW 75.0 kg, so adjusted would exceed actual.
    weight = dosing_weight(measured("55", "180"), Sex.MALE, ADJUSTED_ALWAYS)
    assert weight.basis is WeightBasis.ACTUAL
    assert weight.weight_kg == Decimal("55.0")
    assert "not above ideal" in weight.reason


def test_below_152_4_cm_devine_does_not_apply() -> None:
    weight = dosing_weight(measured("70", "150"), Sex.FEMALE, ADJUSTED_ALWAYS)
    assert weight.basis is WeightBasis.ACTUAL
    assert weight.ideal_kg is None
    assert "152.4 cm" in weight.reason


def test_missing_height_names_the_field_when_the_policy_needs_it() -> None:
    with pytest.raises(MissingDosingInput) as caught:
        dosing_weight(measured("90"), Sex.MALE, ADJUSTED_ABOVE_BMI_30)
    assert caught.value.field == "measurements.height"


def test_missing_height_is_fine_on_actual_weight() -> None:
    weight = dosing_weight(measured("90"), Sex.MALE, DosingWeightPolicy())
    assert weight.weight_kg == Decimal("90.0")


def test_pregnancy_uses_pre_pregnancy_weight_when_the_payer_says_so() -> None:
    policy = DosingWeightPolicy(use_pre_pregnancy_weight=True)
    pregnant = Measurements(
        weight=Decimal("78"),
        pre_pregnancy_weight=Decimal("66"),
        pregnant=True,
        measured_on=MEASURED_ON,
    )
    assert dosing_weight(pregnant, Sex.FEMALE, policy).weight_kg == Decimal("66.0")
    without = pregnant.model_copy(update={"pre_pregnancy_weight": None})
    with pytest.raises(MissingDosingInput) as caught:
        dosing_weight(without, Sex.FEMALE, policy)
    assert caught.value.field == "measurements.pre_pregnancy_weight"


@pytest.mark.parametrize(
    ("dose_g", "step_g", "expected_g"),
    [
        ("159", None, "159.0"),
        ("159.25", None, "159.3"),  # half up, never cut below the prescription
        ("157.5", "5", "160.0"),
        ("157.49", "5", "155.0"),
        ("24", "5", "25.0"),
    ],
)
def test_round_dose_g(dose_g: str, step_g: str | None, expected_g: str) -> None:
    step = None if step_g is None else Decimal(step_g)
    assert round_dose_g(Decimal(dose_g), step) == Decimal(expected_g)


# Properties --------------------------------------------------------------------

weights_kg = st.decimals(min_value=Decimal("3"), max_value=Decimal("300"), places=1)
heights_cm = st.decimals(min_value=Decimal("100"), max_value=Decimal("220"), places=1)
sexes = st.sampled_from(list(Sex))
policies = st.sampled_from(
    [
        DosingWeightPolicy(),
        ADJUSTED_ALWAYS,
        ADJUSTED_ABOVE_BMI_30,
        DosingWeightPolicy(basis=WeightBasis.IDEAL, trigger=WeightTrigger.ALWAYS),
        DosingWeightPolicy(
            basis=WeightBasis.ADJUSTED,
            trigger=WeightTrigger.PERCENT_ABOVE_IDEAL,
            percent_above_ideal=Decimal("20"),
        ),
    ]
)


@settings(deadline=None, max_examples=300)
@given(weight=weights_kg, height=heights_cm, sex=sexes, policy=policies)
def test_dosing_weight_never_exceeds_actual(
    weight: Decimal, height: Decimal, sex: Sex, policy: DosingWeightPolicy
) -> None:
    chosen = dosing_weight(measured(weight, height), sex, policy)
    assert chosen.weight_kg <= chosen.actual_kg
    ideal, adjusted = chosen.ideal_kg, chosen.adjusted_kg
    if ideal is not None and adjusted is not None and chosen.actual_kg >= ideal:
        assert ideal <= adjusted <= chosen.actual_kg


@settings(deadline=None, max_examples=300)
@given(
    actual=st.decimals(min_value=Decimal("1"), max_value=Decimal("400"), places=2),
    ideal=st.decimals(min_value=Decimal("1"), max_value=Decimal("400"), places=2),
    factor=st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=2),
)
def test_adjusted_formula_lies_between_ideal_and_actual(
    actual: Decimal, ideal: Decimal, factor: Decimal
) -> None:
    adjusted = adjusted_body_weight_kg(actual, ideal, factor)
    assert min(actual, ideal) <= adjusted <= max(actual, ideal)


# Policies with a BMI or percent threshold switch weight at the threshold, so a
# patient just above it can get less than one just below: monotonicity is a
# property only of the policies that apply one rule to everyone.
continuous_policies = st.sampled_from(
    [
        DosingWeightPolicy(),
        ADJUSTED_ALWAYS,
        DosingWeightPolicy(basis=WeightBasis.IDEAL, trigger=WeightTrigger.ALWAYS),
    ]
)


@settings(deadline=None, max_examples=300)
@given(
    lighter=weights_kg,
    extra=st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=1),
    height=heights_cm,
    sex=sexes,
    policy=continuous_policies,
    step=st.sampled_from([NO_ROUNDING, STEP_5]),
    dose_g_per_kg=st.sampled_from(["0.4", "1", "2"]),
)
def test_dose_is_monotonic_in_weight(
    lighter: Decimal,
    extra: Decimal,
    height: Decimal,
    sex: Sex,
    policy: DosingWeightPolicy,
    step: VialRounding,
    dose_g_per_kg: str,
) -> None:
    heavier = min(lighter + extra, Decimal("400"))
    plan = regimen(dose_g_per_kg)
    light_dose = course_dose(dosing_weight(measured(lighter, height), sex, policy), plan, step)
    heavy_dose = course_dose(dosing_weight(measured(heavier, height), sex, policy), plan, step)
    assert light_dose.per_course_g <= heavy_dose.per_course_g


def test_feet_and_inches_become_inches() -> None:
    from decimal import Decimal

    from priorauth.domain.quantities import feet_inches_to_in

    assert feet_inches_to_in(Decimal(5), Decimal(7)) == Decimal(67)
    assert feet_inches_to_in(Decimal(5), Decimal("7.5")) == Decimal("67.5")
    assert feet_inches_to_in(Decimal(6), None) == Decimal(72)
    assert feet_inches_to_in(None, Decimal(30)) == Decimal(30)
