"""Costs: administration coding, price tables, the patient's share, and two worked examples."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from priorauth.domain.case import Measurements, PlanType, Regimen, Sex, SiteOfCare
from priorauth.domain.catalog import Route
from priorauth.domain.costs import (
    CostInputs,
    DrugPrice,
    LineKind,
    PatientPlan,
    PriceKind,
    PriceTable,
    ServicePrice,
    administration_codes,
    allowed_products,
    compare_products,
    compare_sites,
    courses_between,
    estimate_out_of_pocket,
    iv_infusion_codes,
    medicare_part_b_plan,
    quarter_dates,
    sc_infusion_codes,
    select_price_table,
    summarize_costs,
)
from priorauth.domain.dates import add_months
from priorauth.domain.dosing import (
    Dose,
    DosingWeightPolicy,
    WeightBasis,
    WeightTrigger,
    course_dose,
    dosing_weight,
)
from priorauth.rules.library import load_library
from priorauth.rules.prices import load_price_tables

PRODUCTS = load_library().products
DEMO = load_price_tables()["illustrative_demo"]
START = dt.date(2026, 12, 1)


def _codes(minutes: int | None) -> list[tuple[str, int]]:
    return [(c.code, c.units) for c in iv_infusion_codes(minutes)]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (60, [("96365", 1)]),
        (90, [("96365", 1)]),
        (91, [("96365", 1), ("96366", 1)]),
        (150, [("96365", 1), ("96366", 1)]),
        (151, [("96365", 1), ("96366", 2)]),
        (210, [("96365", 1), ("96366", 2)]),
        (211, [("96365", 1), ("96366", 3)]),
    ],
)
def test_96366_units_follow_the_thirty_minute_rule(
    minutes: int, expected: list[tuple[str, int]]
) -> None:
    # Notes §6: 91–150 min → one 96366; 151–210 → two.
    assert _codes(minutes) == expected


def test_unknown_or_very_short_infusion_is_flagged() -> None:
    (unknown,) = iv_infusion_codes(None)
    assert unknown.unverified
    (short,) = iv_infusion_codes(10)
    assert short.unverified


def test_subcutaneous_codes() -> None:
    codes = sc_infusion_codes(100, extra_pump_setups=1)
    assert [(c.code, c.units) for c in codes] == [("96369", 1), ("96370", 1), ("96371", 1)]


def test_home_codes_for_commercial_plans() -> None:
    codes, notes = administration_codes(Route.IV, SiteOfCare.HOME, PlanType.COMMERCIAL, 185)
    assert [(c.code, c.units) for c in codes] == [("99601", 1), ("99602", 2), ("S9338", 1)]
    assert notes == ()
    assert not codes[-1].unverified


def test_medicare_home_ivig_only_for_primary_immunodeficiency() -> None:
    codes, _ = administration_codes(
        Route.IV, SiteOfCare.HOME, PlanType.MEDICARE, 120, medicare_home_benefit=True
    )
    assert [c.code for c in codes] == ["Q2052"]
    none, notes = administration_codes(Route.IV, SiteOfCare.HOME, PlanType.MEDICARE, 120)
    assert none == ()
    assert "Part D" in notes[0]


def test_clinic_site_uses_the_route_codes() -> None:
    iv, _ = administration_codes(Route.IV, SiteOfCare.PHYSICIAN_OFFICE, PlanType.MEDICARE, 95)
    assert [c.code for c in iv] == ["96365", "96366"]
    sc, _ = administration_codes(Route.SC, SiteOfCare.INFUSION_CENTER, PlanType.COMMERCIAL, 60)
    assert [c.code for c in sc] == ["96369"]


def test_out_of_pocket_deductible_then_coinsurance_then_cap() -> None:
    plan = PatientPlan(
        deductible_remaining=Decimal(500),
        coinsurance_percent=Decimal(20),
        out_of_pocket_max_remaining=Decimal(3000),
    )
    small = estimate_out_of_pocket(Decimal(400), plan)
    assert (small.deductible, small.coinsurance, small.patient_pays) == (
        Decimal("400.00"),
        Decimal("0.00"),
        Decimal("400.00"),
    )
    mid = estimate_out_of_pocket(Decimal(2500), plan)
    assert mid.patient_pays == Decimal(500) + Decimal(2000) * Decimal("0.2")
    assert mid.plan_pays == Decimal(2500) - mid.patient_pays
    big = estimate_out_of_pocket(Decimal(50000), plan)
    assert big.capped
    assert big.patient_pays == Decimal("3000.00")
    assert big.deductible + big.coinsurance == big.patient_pays


def test_medicare_part_b_default_is_marked_unverified() -> None:
    plan = medicare_part_b_plan(Decimal(0))
    assert plan.coinsurance_percent == Decimal(20)
    assert plan.unverified


def test_calendar_helpers() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)
    # 26 Jan → 26 Jul is 181 days: courses on days 0, 21, … 168 → 9.
    assert courses_between(dt.date(2026, 1, 26), 6, Decimal(3)) == 9
    # 28 weeks exactly: the course on day 28 × 7 falls outside the period.
    assert courses_between(dt.date(2026, 2, 1), 1, Decimal(4)) == 1
    assert quarter_dates("2026Q1") == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert quarter_dates("2024Q4") == (dt.date(2024, 10, 1), dt.date(2024, 12, 31))


def _table(**changes: object) -> PriceTable:
    data: dict[str, object] = {
        "id": "t",
        "name": "T",
        "kind": PriceKind.ASP_PAYMENT_LIMIT,
        "source": "test",
        "source_date": "2026-01-01",
        "effective_quarter": "2026Q1",
        "effective_from": dt.date(2026, 1, 1),
        "effective_to": dt.date(2026, 3, 31),
        "drugs": (DrugPrice(hcpcs="J1459", billing_unit_mg=500, price_per_unit=Decimal(40)),),
    }
    data.update(changes)
    return PriceTable.model_validate(data)


def test_price_table_checks_its_dates_and_marks() -> None:
    with pytest.raises(ValueError, match="first day"):
        _table(effective_from=dt.date(2026, 1, 2))
    with pytest.raises(ValueError, match="illustrative = true"):
        _table(kind=PriceKind.ILLUSTRATIVE)
    with pytest.raises(ValueError, match="twice"):
        _table(
            drugs=(
                DrugPrice(hcpcs="J1459", price_per_unit=Decimal(1)),
                DrugPrice(hcpcs="J1459", price_per_unit=Decimal(2)),
            )
        )


def test_select_price_table_prefers_the_contract_then_asp_then_the_demo() -> None:
    asp = _table()
    contract = _table(
        id="clinic",
        kind=PriceKind.CONTRACTED,
        payer_profile="acme",
        effective_quarter="",
        effective_to=None,
    )
    on = dt.date(2026, 2, 1)
    assert select_price_table([DEMO, asp, contract], on, "acme") is contract
    assert select_price_table([DEMO, asp, contract], on, "other") is asp
    assert select_price_table([DEMO, asp, contract], dt.date(2026, 5, 1), "other") is DEMO


def test_site_specific_service_price_wins() -> None:
    table = _table(
        services=(
            ServicePrice(code="96365", price_per_unit=Decimal(100)),
            ServicePrice(
                code="96365",
                price_per_unit=Decimal(300),
                sites=(SiteOfCare.HOSPITAL_OUTPATIENT,),
            ),
        )
    )
    assert table.service("96365", SiteOfCare.HOSPITAL_OUTPATIENT).price_per_unit == 300
    assert table.service("96365", SiteOfCare.PHYSICIAN_OFFICE).price_per_unit == 100


# --- worked examples, by hand ------------------------------------------------------------------


def _dose(
    weight_kg: str, height_cm: str, sex: Sex, g_per_kg: str, days: int, policy: DosingWeightPolicy
) -> Dose:
    measurements = Measurements(
        weight=Decimal(weight_kg), height=Decimal(height_cm), measured_on=dt.date(2026, 11, 1)
    )
    regimen = Regimen(
        product_id="gamunex_c",
        dose_g_per_kg=Decimal(g_per_kg),
        days_per_course=days,
        interval_weeks=Decimal(3),
        courses_requested=1,
        start_date=START,
    )
    weight = dosing_weight(measurements, sex, policy)
    return course_dose(weight, regimen, policy.rounding)


def test_worked_example_2_g_per_kg_for_a_100_kg_170_cm_man_on_adjusted_weight() -> None:
    policy = DosingWeightPolicy(
        basis=WeightBasis.ADJUSTED, trigger=WeightTrigger.BMI_ABOVE, bmi_threshold=Decimal(30)
    )
    dose = _dose("100", "170", Sex.MALE, "2", 2, policy)
    # 170 cm = 66.93 in; IBW = 50 + 2.3 × 6.93 = 65.94 kg; AdjBW = 65.94 + 0.4 × 34.06
    # = 79.56 kg, unrounded; 2 g/kg = 159.1 g, 79.55 g a day.
    assert dose.dosing_weight.ideal_kg == Decimal("65.9")
    assert dose.dosing_weight.weight_kg == Decimal("79.6")
    assert dose.per_course_g == Decimal("159.1")

    inputs = CostInputs(
        indication_id="cidp",
        plan_type=PlanType.COMMERCIAL,
        dose=dose,
        rate_weight_kg=dose.dosing_weight.weight_kg,
        start_date=START,
        courses_in_period=1,
    )
    summary = summarize_costs(PRODUCTS["gamunex_c"], SiteOfCare.INFUSION_CENTER, DEMO, inputs)
    first, second = summary.days
    # 159.1 g in tenths over two days: 79.6 g, then 79.5 g.
    assert [d.vials.dose_g for d in summary.days] == [Decimal("79.6"), Decimal("79.5")]
    # Day 1: 2 × 40 g leaves 0.4 g, less than one 500 mg unit: 160 units, none discarded.
    assert first.vials.vial_count == 2 and first.vials.waste_g == Decimal("0.4")
    assert (first.vials.units_administered, first.vials.units_discarded) == (160, 0)
    # Day 2: 40 + 20 + 10 + 5 + 2.5 + 1 + 1, nothing left over: 159 units.
    assert second.vials.vial_count == 7 and second.vials.waste_g == 0
    assert second.vials.units_administered == 159
    # Gamunex-C CIDP at 79.56 kg: 2 and 4 mg/kg/min for 30 min (95.5 and 190.9 mL/h →
    # 143.2 mL), then the rest at 8 mg/kg/min (381.9 mL/h): 796 mL → 162.6 min → 163;
    # 795 mL → 162.4 min → 162.
    assert (first.infusion_minutes, second.infusion_minutes) == (163, 162)
    by_code = {(line.code, line.modifier): line.units for line in summary.course_lines}
    assert by_code == {("J1561", "JZ"): 319, ("96365", ""): 2, ("96366", ""): 4}
    # Illustrative: $50 per unit, $150 for 96365, $40 per 96366.
    assert summary.per_course.total == 319 * 50 + 2 * 150 + 4 * 40
    assert summary.illustrative


def test_worked_example_0_4_g_per_kg_for_a_60_kg_woman_on_actual_weight() -> None:
    dose = _dose("60", "165", Sex.FEMALE, "0.4", 1, DosingWeightPolicy())
    assert dose.dosing_weight.basis is WeightBasis.ACTUAL
    assert dose.per_course_g == Decimal("24.0")

    inputs = CostInputs(
        indication_id="pid",
        plan_type=PlanType.MEDICARE,
        dose=dose,
        rate_weight_kg=dose.dosing_weight.weight_kg,
        start_date=START,
        period_months=12,
        patient_plan=medicare_part_b_plan(Decimal(0)),
    )
    summary = summarize_costs(PRODUCTS["privigen"], SiteOfCare.PHYSICIAN_OFFICE, DEMO, inputs)
    (day,) = summary.days
    # Privigen 5/10/20/40 g: 20 + 5 g opened, 1 g discarded; 48 units given, 2 units JW.
    assert day.vials.describe() == "1 × 20 g + 1 × 5 g"
    assert (day.vials.units_administered, day.vials.units_discarded) == (48, 2)
    # 0.5, 1, 2, 4 mg/kg/min × 30 min (135 mL), then 105 mL at 288 mL/h: 141.9 → 142 min.
    assert day.infusion_minutes == 142
    lines = {(line.code, line.modifier): line for line in summary.course_lines}
    assert lines[("J1459", "")].units == 48
    assert lines[("J1459", "JW")].units == 2
    assert lines[("J1459", "JW")].kind is LineKind.WASTE
    assert lines[("96366", "")].units == 1
    assert summary.waste_total == Decimal(100)
    assert summary.per_course.total == 48 * 50 + 2 * 50 + 150 + 40
    # Every 3 weeks from 1 Dec 2026 for 12 months: 365 days / 21 → 18 courses.
    assert summary.per_year.courses == 18
    assert summary.per_year.total == summary.per_course.total * 18
    share = summary.per_course.out_of_pocket
    assert share is not None
    assert share.patient_pays == summary.per_course.total * Decimal("0.2")


def test_unpriced_codes_are_listed_not_guessed() -> None:
    dose = _dose("60", "165", Sex.FEMALE, "0.4", 1, DosingWeightPolicy())
    inputs = CostInputs(
        indication_id="pid",
        plan_type=PlanType.COMMERCIAL,
        dose=dose,
        rate_weight_kg=Decimal(60),
        start_date=START,
    )
    bare = _table(effective_quarter="", effective_to=None)  # prices only J1459
    summary = summarize_costs(PRODUCTS["gamunex_c"], SiteOfCare.INFUSION_CENTER, bare, inputs)
    assert summary.missing_prices == ("96365", "96366", "J1561")
    assert summary.per_course.total == 0


def test_product_and_site_comparisons() -> None:
    dose = _dose("60", "165", Sex.FEMALE, "0.4", 1, DosingWeightPolicy())
    inputs = CostInputs(
        indication_id="pid",
        plan_type=PlanType.COMMERCIAL,
        dose=dose,
        rate_weight_kg=Decimal(60),
        start_date=START,
    )
    products, _ = allowed_products(
        PRODUCTS.values(), "pid", Route.IV, preferred=("gamunex_c",), excluded=("asceniv",)
    )
    ids = [p.id for p in products]
    assert ids[0] == "gamunex_c"
    assert "asceniv" not in ids
    assert "hizentra" not in ids  # other route
    options = compare_products(
        products, PRODUCTS["privigen"], SiteOfCare.INFUSION_CENTER, DEMO, inputs, ("gamunex_c",)
    )
    by_id = {o.product_id: o for o in options}
    assert by_id["privigen"].chosen
    assert by_id["privigen"].discarded_units_per_course == 2
    assert by_id["gamunex_c"].discarded_units_per_course == 0  # 20 + 2.5 + 1 + … exact
    assert by_id["gamunex_c"].course_total < by_id["privigen"].course_total

    sites = {o.site: o for o in compare_sites(PRODUCTS["privigen"], SiteOfCare.HOME, DEMO, inputs)}
    assert sites[SiteOfCare.HOME].chosen
    assert "S9338" in sites[SiteOfCare.HOME].codes
    assert sites[SiteOfCare.HOSPITAL_OUTPATIENT].preferred_note == "non-preferred site"

    medicare = inputs.model_copy(update={"plan_type": PlanType.MEDICARE})
    sites = {
        o.site: o
        for o in compare_sites(PRODUCTS["privigen"], SiteOfCare.PHYSICIAN_OFFICE, DEMO, medicare)
    }
    assert not sites[SiteOfCare.HOME].available


def test_subcutaneous_product_in_clinic_is_coded_96369_and_flagged() -> None:
    dose = _dose("70", "175", Sex.MALE, "0.1", 1, DosingWeightPolicy())
    inputs = CostInputs(
        indication_id="pid",
        plan_type=PlanType.COMMERCIAL,
        dose=dose,
        rate_weight_kg=Decimal(70),
        start_date=START,
    )
    summary = summarize_costs(PRODUCTS["hizentra"], SiteOfCare.INFUSION_CENTER, DEMO, inputs)
    lines = {line.code: line for line in summary.course_lines}
    # 7 g of Hizentra: 70 units of 100 mg at the illustrative $10.
    assert lines["J1559"].units == 70
    assert lines["J1559"].amount == Decimal(700)
    # The time comes from Hizentra's per-site placeholders: shown, and marked unverified.
    assert lines["96369"].unverified
    infusion = summary.days[0].infusion
    assert infusion.available and infusion.sites is not None
    assert "sc_sites" in infusion.unverified_fields
