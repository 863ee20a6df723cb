"""Vials, billing units and the dose that feeds them: exact search checked by brute force."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import product as cartesian

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from priorauth.domain.case import Measurements, Regimen, Sex
from priorauth.domain.catalog import Product, Route
from priorauth.domain.dosing import (
    DosingWeightPolicy,
    WeightBasis,
    WeightTrigger,
    course_dose,
    dosing_weight,
)
from priorauth.domain.vials import (
    Modifier,
    RoundingRule,
    VialRounding,
    billed_lines,
    least_waste_vials,
    plan_vials,
)
from priorauth.rules.library import load_library

LIBRARY = load_library()
PRODUCTS = LIBRARY.products
TENTH = Decimal("0.1")


def _product(sizes: tuple[Decimal, ...], unit_mg: int = 500) -> Product:
    return Product(
        id="test_product",
        name="Test product",
        manufacturer="Synthetic",
        route=Route.IV,
        concentration_percent=Decimal(10),
        vial_sizes_g=sizes,
        hcpcs="J9999",
        billing_unit_mg=unit_mg,
    )


def _brute_force(dose_g: Decimal, sizes: tuple[Decimal, ...]) -> tuple[Decimal, int]:
    """Least total that covers the dose, and the fewest vials making that total, by enumeration."""
    largest = max(sizes)
    # A least-waste cover never exceeds the dose by a whole largest vial.
    bounds = [int((dose_g + largest) / size) + 1 for size in sizes]
    best: tuple[Decimal, int] | None = None
    for counts in cartesian(*(range(b + 1) for b in bounds)):
        total = sum((size * count for size, count in zip(sizes, counts, strict=True)), Decimal(0))
        if total < dose_g:
            continue
        candidate = (total, sum(counts))
        if best is None or candidate < best:
            best = candidate
    assert best is not None
    return best


doses = st.integers(min_value=1, max_value=150).map(lambda tenths: Decimal(tenths) * TENTH)
size_sets = st.lists(
    st.sampled_from([Decimal(s) for s in ("0.5", "1", "2", "2.5", "3", "5", "10", "20")]),
    min_size=1,
    max_size=4,
    unique=True,
).map(lambda sizes: tuple(sorted(sizes)))


@settings(max_examples=150, deadline=None)
@given(dose_g=doses, sizes=size_sets)
def test_chosen_vials_cover_the_dose_with_least_waste_then_fewest_vials(
    dose_g: Decimal, sizes: tuple[Decimal, ...]
) -> None:
    vials = least_waste_vials(dose_g, sizes)
    total = sum((v.size_g * v.count for v in vials), Decimal(0))
    count = sum(v.count for v in vials)
    assert total >= dose_g
    assert all(v.size_g in sizes and v.count > 0 for v in vials)
    assert (total, count) == _brute_force(dose_g, sizes)


catalog_ids = sorted(p.id for p in PRODUCTS.values() if min(p.vial_sizes_g) >= 1)


@settings(max_examples=60, deadline=None)
@given(
    product_id=st.sampled_from(catalog_ids),
    dose_g=st.integers(min_value=1, max_value=120).map(lambda t: Decimal(t) * TENTH),
)
def test_catalog_products_never_waste_more_than_brute_force(
    product_id: str, dose_g: Decimal
) -> None:
    product = PRODUCTS[product_id]
    plan = plan_vials(dose_g, product)
    assert plan.opened_g >= dose_g
    assert (plan.opened_g, plan.vial_count) == _brute_force(dose_g, product.vial_sizes_g)


@settings(max_examples=200, deadline=None)
@given(
    product_id=st.sampled_from(sorted(PRODUCTS)),
    dose_g=st.integers(min_value=1, max_value=2000).map(lambda t: Decimal(t) * TENTH),
)
def test_billed_units_cover_the_dose_and_never_exceed_what_was_opened(
    product_id: str, dose_g: Decimal
) -> None:
    product = PRODUCTS[product_id]
    plan = plan_vials(dose_g, product)
    unit_g = Decimal(product.billing_unit_mg) / 1000
    assert plan.units_administered * unit_g >= dose_g
    assert (plan.units_administered - 1) * unit_g < dose_g
    assert plan.units_billed * unit_g <= plan.opened_g
    assert plan.units_discarded * unit_g <= plan.waste_g
    assert plan.waste_g == plan.opened_g - plan.dose_g


def test_medicare_example_two_one_gram_vials_not_one_of_two_and_a_half() -> None:
    # Noridian JD DME (2011): 1.5 g of Gammagard Liquid is two 1 g vials.
    plan = plan_vials(Decimal("1.5"), PRODUCTS["gammagard_liquid"])
    assert [(v.size_g, v.count) for v in plan.vials] == [(Decimal(1), 2)]
    assert plan.units_administered == 3
    assert plan.units_discarded == 1


def test_exact_combination_beats_fewer_vials_with_waste() -> None:
    # 79.5 g of Gamunex-C: seven vials with nothing left beat two 40 g vials that waste 0.5 g.
    plan = plan_vials(Decimal("79.5"), PRODUCTS["gamunex_c"])
    assert plan.opened_g == Decimal("79.5")
    assert plan.vial_count == 7
    assert plan.describe() == "1 × 40 g + 1 × 20 g + 1 × 10 g + 1 × 5 g + 1 × 2.5 g + 2 × 1 g"


def test_fewest_vials_among_equal_waste() -> None:
    plan = plan_vials(Decimal(40), PRODUCTS["privigen"])
    assert [(v.size_g, v.count) for v in plan.vials] == [(Decimal(40), 1)]


def test_jw_line_carries_discarded_units_and_jz_marks_none() -> None:
    wasteful = plan_vials(Decimal(24), PRODUCTS["privigen"])  # 20 + 5 g opened
    lines = billed_lines(wasteful, "J1459")
    assert [(line.modifier, line.units, line.discarded) for line in lines] == [
        (None, 48, False),
        (Modifier.JW, 2, True),
    ]
    exact = plan_vials(Decimal(25), PRODUCTS["privigen"])
    assert [(line.modifier, line.units) for line in billed_lines(exact, "J1459")] == [
        (Modifier.JZ, 50)
    ]


def test_waste_below_one_unit_is_not_billed_and_is_flagged() -> None:
    # 24.8 g: 50 units given (rounded up), 0.2 g left, under one 500 mg unit.
    plan = plan_vials(Decimal("24.8"), PRODUCTS["privigen"])
    assert plan.units_administered == 50
    assert plan.units_discarded == 0
    (line,) = billed_lines(plan, "J1459")
    assert line.modifier is Modifier.JZ
    assert line.unverified


def test_hundred_milligram_units_for_scig() -> None:
    plan = plan_vials(Decimal("7.3"), PRODUCTS["hizentra"])
    assert plan.units_administered == 73
    assert plan.opened_g == Decimal(8)  # 4 + 4 or 4 + 2 + 2: eight grams either way
    assert plan.units_discarded == 7


def test_nearest_vial_within_tolerance_rounds_down_or_up() -> None:
    ten_percent = VialRounding(
        rule=RoundingRule.NEAREST_VIAL, tolerance_percent=Decimal(10), source="MP.001.001"
    )
    down = plan_vials(Decimal(21), PRODUCTS["privigen"], ten_percent)
    assert down.dose_g == Decimal(20)
    assert down.waste_g == 0
    assert "MP.001.001" in down.rounding_note
    up = plan_vials(Decimal(24), PRODUCTS["privigen"], ten_percent)
    assert up.dose_g == Decimal(25)
    only_down = ten_percent.model_copy(update={"down_only": True})
    kept = plan_vials(Decimal(24), PRODUCTS["privigen"], only_down)
    assert kept.dose_g == Decimal(24)
    assert kept.units_discarded == 2


def test_no_rounding_outside_the_tolerance() -> None:
    five_percent = VialRounding(rule=RoundingRule.NEAREST_VIAL, tolerance_percent=Decimal(5))
    plan = plan_vials(Decimal(27), PRODUCTS["privigen"], five_percent)  # 25 and 30 are > 5 % off
    assert plan.dose_g == Decimal(27)
    assert "not rounded" in plan.rounding_note


def test_nearest_step_rounding() -> None:
    five_grams = VialRounding(rule=RoundingRule.NEAREST_STEP, step_g=Decimal(5))
    assert plan_vials(Decimal("157.4"), PRODUCTS["privigen"], five_grams).dose_g == Decimal(155)
    assert plan_vials(Decimal("157.5"), PRODUCTS["privigen"], five_grams).dose_g == Decimal(160)


def test_rounding_policy_needs_its_parameter() -> None:
    # Every rule rounds within 10 % unless the policy says otherwise.
    assert VialRounding(rule=RoundingRule.NEAREST_VIAL).tolerance_percent == 10
    with pytest.raises(ValueError, match="step_g"):
        VialRounding(rule=RoundingRule.NEAREST_STEP)


@settings(max_examples=100, deadline=None)
@given(
    dose_g=doses,
    sizes=size_sets,
    tolerance=st.integers(min_value=1, max_value=20).map(Decimal),
)
def test_rounded_dose_stays_within_tolerance(
    dose_g: Decimal, sizes: tuple[Decimal, ...], tolerance: Decimal
) -> None:
    rounding = VialRounding(rule=RoundingRule.NEAREST_VIAL, tolerance_percent=tolerance)
    plan = plan_vials(dose_g, _product(sizes), rounding)
    assert abs(plan.dose_g - dose_g) <= dose_g * tolerance / 100
    assert plan.opened_g >= plan.dose_g


# --- the dose that feeds the vials (dosing.py) -----------------------------------------------

MEASURED_ON = dt.date(2026, 1, 5)
heights_cm = st.integers(min_value=1400, max_value=2100).map(lambda t: Decimal(t) * TENTH)
weights_kg = st.integers(min_value=300, max_value=2500).map(lambda t: Decimal(t) * TENTH)
sexes = st.sampled_from(list(Sex))


def _measurements(weight_kg: Decimal, height_cm: Decimal) -> Measurements:
    return Measurements(weight=weight_kg, height=height_cm, measured_on=MEASURED_ON)


@settings(max_examples=200, deadline=None)
@given(
    weight=weights_kg,
    height=heights_cm,
    sex=sexes,
    factor=st.integers(min_value=0, max_value=10).map(lambda t: Decimal(t) / 10),
    trigger=st.sampled_from(list(WeightTrigger)),
)
def test_adjusted_dosing_weight_never_exceeds_actual(
    weight: Decimal, height: Decimal, sex: Sex, factor: Decimal, trigger: WeightTrigger
) -> None:
    policy = DosingWeightPolicy(
        basis=WeightBasis.ADJUSTED,
        trigger=trigger,
        bmi_threshold=Decimal(30),
        percent_above_ideal=Decimal(20),
        adjustment_factor=factor,
    )
    chosen = dosing_weight(_measurements(weight, height), sex, policy)
    assert chosen.weight_kg <= chosen.actual_kg


monotonic_policies = [
    DosingWeightPolicy(basis=WeightBasis.ACTUAL),
    DosingWeightPolicy(basis=WeightBasis.ADJUSTED, trigger=WeightTrigger.ALWAYS),
    DosingWeightPolicy(basis=WeightBasis.IDEAL, trigger=WeightTrigger.ALWAYS),
    DosingWeightPolicy(
        basis=WeightBasis.ADJUSTED,
        trigger=WeightTrigger.ALWAYS,
        rounding=VialRounding(rule=RoundingRule.NEAREST_STEP, step_g=Decimal(5)),
    ),
]


@settings(max_examples=200, deadline=None)
@given(
    light=weights_kg,
    extra=st.integers(min_value=0, max_value=800).map(lambda t: Decimal(t) * TENTH),
    height=heights_cm,
    sex=sexes,
    policy_index=st.integers(min_value=0, max_value=len(monotonic_policies) - 1),
    g_per_kg=st.sampled_from([Decimal("0.4"), Decimal(1), Decimal(2)]),
)
def test_dose_is_monotonic_in_weight(
    light: Decimal,
    extra: Decimal,
    height: Decimal,
    sex: Sex,
    policy_index: int,
    g_per_kg: Decimal,
) -> None:
    # Threshold triggers (BMI above 30, % above ideal) switch basis at the threshold and
    # so drop the dose there: monotonicity holds for a policy that applies to everyone.
    policy = monotonic_policies[policy_index]
    regimen = Regimen(
        product_id="privigen",
        dose_g_per_kg=g_per_kg,
        days_per_course=2,
        interval_weeks=Decimal(3),
        courses_requested=1,
        start_date=MEASURED_ON,
    )
    heavy = light + extra
    doses_g = [
        course_dose(
            dosing_weight(_measurements(w, height), sex, policy), regimen, policy.rounding
        ).per_course_g
        for w in (light, heavy)
    ]
    assert doses_g[0] <= doses_g[1]


def test_bmi_trigger_lowers_the_dose_at_the_threshold() -> None:
    """Document the discontinuity: just over BMI 30, adjusted weight gives a smaller dose."""
    policy = DosingWeightPolicy(
        basis=WeightBasis.ADJUSTED, trigger=WeightTrigger.BMI_ABOVE, bmi_threshold=Decimal(30)
    )
    below = dosing_weight(_measurements(Decimal("86.7"), Decimal(170)), Sex.MALE, policy)
    above = dosing_weight(_measurements(Decimal(87), Decimal(170)), Sex.MALE, policy)
    assert below.basis is WeightBasis.ACTUAL
    assert above.basis is WeightBasis.ADJUSTED
    assert above.weight_kg < below.weight_kg
