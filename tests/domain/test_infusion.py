"""Infusion plans: the worked examples of the reference notes (§6) and ladder properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from priorauth.domain.catalog import RateSchedule, RiskKind, Route, indication_matches
from priorauth.domain.infusion import ladder, plan_infusion, run_ladder, volume_ml
from priorauth.rules.library import load_library

PRODUCTS = load_library().products

ISSUE_PRODUCTS = {
    "privigen",
    "gammagard_liquid",
    "gammagard_sd",
    "gamunex_c",
    "gammaked",
    "octagam_5",
    "octagam_10",
    "panzyga",
    "bivigam",
    "flebogamma_5_dif",
    "flebogamma_10_dif",
    "gammaplex_5",
    "gammaplex_10",
    "asceniv",
    "yimmugo",
    "alyglo",
    "hizentra",
    "cuvitru",
    "xembify",
    "cutaquig",
    "hyqvia",
}


def test_catalog_holds_every_product_issue_4_lists() -> None:
    assert set(PRODUCTS) >= ISSUE_PRODUCTS
    for scig in ("hizentra", "cuvitru", "xembify", "cutaquig", "hyqvia"):
        assert PRODUCTS[scig].route is Route.SC


def test_facts_the_notes_mark_unverified_stay_marked() -> None:
    assert PRODUCTS["privigen"].is_unverified("vial_sizes_g")
    assert PRODUCTS["panzyga"].is_unverified("hcpcs")
    assert PRODUCTS["xembify"].is_unverified("hcpcs")
    assert PRODUCTS["cutaquig"].is_unverified("hcpcs")
    assert PRODUCTS["octagam_10"].is_unverified("vial_sizes_g")
    cidp, _ = PRODUCTS["privigen"].rate_schedule("cidp")
    assert cidp is not None and cidp.is_unverified("max_mg_per_kg_per_min")


@pytest.mark.parametrize(
    ("product_id", "indication", "weight_kg", "dose_g", "expected_minutes", "final_rate"),
    [
        # ivig-products-billing.md §6, "Worked checks".
        ("privigen", "pid", 70, 28, Decimal("141.875"), Decimal(8)),
        ("privigen", "itp", 70, 70, Decimal("313.75"), Decimal(4)),
        ("gammaplex_5", "pid", 70, 28, Decimal("135.625"), Decimal(4)),
        ("gammaplex_10", "pid", 70, 35, Decimal("112.1875"), Decimal(8)),
    ],
)
def test_worked_examples_from_the_notes(
    product_id: str,
    indication: str,
    weight_kg: int,
    dose_g: int,
    expected_minutes: Decimal,
    final_rate: Decimal,
) -> None:
    plan = plan_infusion(PRODUCTS[product_id], indication, Decimal(weight_kg), Decimal(dose_g))
    assert plan.total_minutes == expected_minutes
    assert plan.steps[-1].rate_mg_per_kg_per_min == final_rate


def test_octagam_10_itp_one_gram_per_kg_takes_about_166_minutes() -> None:
    plan = plan_infusion(PRODUCTS["octagam_10"], "itp", Decimal(70), Decimal(70))
    # 1, 2, 4, 8 mg/kg/min for 30 min each deliver 315 mL; 385 mL at 12 mg/kg/min (504 mL/h).
    assert plan.total_minutes_rounded == 166
    assert [s.pump_rate_ml_per_h for s in plan.steps] == [
        Decimal("42.0"),
        Decimal("84.0"),
        Decimal("168.0"),
        Decimal("336.0"),
        Decimal("504.0"),
    ]


def test_gammaplex_5_matches_the_manufacturers_two_hours_fifteen() -> None:
    plan = plan_infusion(PRODUCTS["gammaplex_5"], "pid", Decimal(70), Decimal(28))
    assert plan.volume_ml == Decimal(560)
    assert plan.duration_text() == "2 h 16 min"
    assert plan.unverified  # the 3 mg/kg/min step is the notes' assumption


def test_pump_rates_and_volumes_for_a_60_kg_patient() -> None:
    plan = plan_infusion(PRODUCTS["privigen"], "pid", Decimal(60), Decimal(24))
    assert [s.pump_rate_ml_per_h for s in plan.steps] == [
        Decimal("18.0"),
        Decimal("36.0"),
        Decimal("72.0"),
        Decimal("144.0"),
        Decimal("288.0"),
    ]
    assert [s.volume_ml_rounded for s in plan.steps] == [
        Decimal("9.0"),
        Decimal("18.0"),
        Decimal("36.0"),
        Decimal("72.0"),
        Decimal("105.0"),
    ]
    assert plan.total_minutes_rounded == 142


def test_volume_runs_out_mid_ladder() -> None:
    # 2 g at 70 kg is 20 mL: the first 30 min at 21 mL/h deliver 10.5 mL, the next 9.5 mL.
    plan = plan_infusion(PRODUCTS["privigen"], "pid", Decimal(70), Decimal(2))
    assert len(plan.steps) == 2
    assert plan.steps[-1].is_final
    assert plan.total_minutes == Decimal(30) + Decimal("9.5") / Decimal(42) * 60


def test_at_risk_patient_is_capped_at_the_labels_lower_maximum() -> None:
    plain = plan_infusion(PRODUCTS["octagam_10"], "itp", Decimal(70), Decimal(70))
    capped = plan_infusion(
        PRODUCTS["octagam_10"], "itp", Decimal(70), Decimal(70), [RiskKind.RENAL]
    )
    assert capped.at_risk_cap_applied
    assert max(s.rate_mg_per_kg_per_min for s in capped.steps) == Decimal("3.3")
    # 1 and 2 mg/kg/min for 30 min (63 mL), then 637 mL at 138.6 mL/h.
    assert capped.total_minutes_rounded == 336
    assert capped.total_minutes is not None and plain.total_minutes is not None
    assert capped.total_minutes > plain.total_minutes


def test_risk_the_label_does_not_name_is_noted_not_capped() -> None:
    plan = plan_infusion(PRODUCTS["bivigam"], "pid", Decimal(70), Decimal(28), [RiskKind.RENAL])
    assert not plan.at_risk_cap_applied
    assert any("thrombosis risk only" in note for note in plan.notes)
    capped = plan_infusion(
        PRODUCTS["bivigam"], "pid", Decimal(70), Decimal(28), [RiskKind.THROMBOSIS]
    )
    assert capped.max_rate_mg_per_kg_per_min == Decimal(2)


def test_product_without_an_at_risk_maximum_says_so() -> None:
    plan = plan_infusion(PRODUCTS["privigen"], "pid", Decimal(70), Decimal(28), [RiskKind.RENAL])
    assert not plan.at_risk_cap_applied
    assert any("no lower maximum" in note for note in plan.notes)


def test_bivigam_ladder_adds_0_8_every_20_minutes_after_10() -> None:
    schedule, _ = PRODUCTS["bivigam"].rate_schedule("pid")
    assert schedule is not None
    rungs = ladder(schedule)
    assert [r.rate_mg_per_kg_per_min for r in rungs][:3] == [
        Decimal("0.5"),
        Decimal("1.3"),
        Decimal("2.1"),
    ]
    assert [r.minutes for r in rungs][:3] == [10, 20, 20]
    assert rungs[-1].rate_mg_per_kg_per_min == Decimal(6)
    assert rungs[-1].minutes is None


def test_default_ladder_is_used_and_flagged_for_an_unnamed_indication() -> None:
    plan = plan_infusion(PRODUCTS["privigen"], "mmn", Decimal(70), Decimal(28))
    assert plan.available
    assert plan.schedule_is_default
    assert plan.unverified


def test_indication_family_finds_its_schedule() -> None:
    plan = plan_infusion(PRODUCTS["privigen"], "itp_adult", Decimal(70), Decimal(70))
    assert not plan.schedule_is_default
    assert plan.max_rate_mg_per_kg_per_min == Decimal(4)


def test_no_plan_without_a_ladder_or_per_site_figures() -> None:
    alyglo = plan_infusion(PRODUCTS["alyglo"], "pid", Decimal(70), Decimal(28))
    assert not alyglo.available
    assert alyglo.duration_text() == "not known"
    assert "rate_schedules" in alyglo.unverified_fields
    cuvitru = plan_infusion(PRODUCTS["cuvitru"], "pid", Decimal(70), Decimal(10))
    assert not cuvitru.available
    assert "sc_sites" in cuvitru.unverified_fields
    assert cuvitru.volume_ml == Decimal(50)


def test_gammagard_liquid_under_the_skin_uses_the_labels_sites() -> None:
    # gammagard.com PI SC page: ≥ 40 kg 30 mL per site at 20 mL/h per site, up to 8 sites.
    plan = plan_infusion(
        PRODUCTS["gammagard_liquid"], "pid", Decimal(70), Decimal(10), route=Route.SC
    )
    assert plan.route is Route.SC and plan.sites is not None
    assert plan.volume_ml == Decimal(100)
    assert plan.sites.sites == 4  # 100 mL at 30 mL per site
    assert plan.sites.ml_per_site == Decimal(25)
    assert plan.total_minutes == Decimal(75)  # 25 mL at 20 mL/h
    assert not plan.unverified
    child = plan_infusion(
        PRODUCTS["gammagard_liquid"], "pid", Decimal(20), Decimal(3), route=Route.SC
    )
    assert child.sites is not None
    assert (child.sites.sites, child.sites.ml_per_h_per_site) == (2, Decimal(15))


def test_the_tolerated_rate_caps_the_ladder_below_the_label() -> None:
    plain = plan_infusion(PRODUCTS["privigen"], "pid", Decimal(70), Decimal(28))
    capped = plan_infusion(
        PRODUCTS["privigen"],
        "pid",
        Decimal(70),
        Decimal(28),
        tolerated_rate_mg_per_kg_per_min=Decimal(2),
        premedication="acetaminophen 650 mg",
    )
    assert capped.tolerated_rate_applied and capped.max_rate_mg_per_kg_per_min == 2
    assert capped.total_minutes is not None and plain.total_minutes is not None
    assert capped.total_minutes > plain.total_minutes
    assert capped.premedication == "acetaminophen 650 mg"


def test_every_iv_ladder_has_a_default_and_valid_rates() -> None:
    for product in PRODUCTS.values():
        if not product.rate_schedules:
            continue
        assert any(s.default for s in product.rate_schedules), product.id
        for schedule in product.rate_schedules:
            rates = [r.rate_mg_per_kg_per_min for r in ladder(schedule)]
            assert rates == sorted(rates), product.id
            assert rates[-1] == schedule.max_mg_per_kg_per_min


def test_schedule_rejects_a_ladder_that_does_not_climb() -> None:
    with pytest.raises(ValueError, match="increase"):
        RateSchedule(
            indications=("pid",),
            start_mg_per_kg_per_min=Decimal(1),
            start_minutes=30,
            steps_mg_per_kg_per_min=(Decimal(1), Decimal(4), Decimal(2)),
            step_minutes=30,
            max_mg_per_kg_per_min=Decimal(8),
            source="test",
        )
    with pytest.raises(ValueError, match="steps_mg_per_kg_per_min or increment"):
        RateSchedule(
            indications=("pid",),
            start_mg_per_kg_per_min=Decimal(1),
            start_minutes=30,
            step_minutes=30,
            max_mg_per_kg_per_min=Decimal(8),
            source="test",
        )


rates = st.integers(min_value=1, max_value=160).map(lambda t: Decimal(t) / 10)


@st.composite
def schedules_and_higher_max(draw: st.DrawFn) -> tuple[RateSchedule, Decimal]:
    steps = sorted(set(draw(st.lists(rates, min_size=1, max_size=5))))
    top = steps[-1] + draw(rates)
    higher = top + draw(st.integers(min_value=0, max_value=80).map(lambda t: Decimal(t) / 10))
    schedule = RateSchedule(
        indications=("pid",),
        start_mg_per_kg_per_min=steps[0],
        start_minutes=draw(st.integers(min_value=5, max_value=60)),
        steps_mg_per_kg_per_min=tuple(steps),
        step_minutes=draw(st.integers(min_value=5, max_value=60)),
        max_mg_per_kg_per_min=top,
        source="property test",
    )
    return schedule, higher


@settings(max_examples=200, deadline=None)
@given(
    pair=schedules_and_higher_max(),
    weight_kg=st.integers(min_value=3, max_value=200).map(Decimal),
    dose_g=st.integers(min_value=1, max_value=2000).map(lambda t: Decimal(t) / 10),
    concentration=st.sampled_from([Decimal(50), Decimal(100)]),
)
def test_a_higher_maximum_rate_never_lengthens_the_infusion(
    pair: tuple[RateSchedule, Decimal],
    weight_kg: Decimal,
    dose_g: Decimal,
    concentration: Decimal,
) -> None:
    schedule, higher_max = pair
    faster = schedule.model_copy(update={"max_mg_per_kg_per_min": higher_max})
    volume = volume_ml(dose_g, concentration)
    slow = run_ladder(ladder(schedule), weight_kg, volume, concentration)
    fast = run_ladder(ladder(faster), weight_kg, volume, concentration)
    assert sum(s.minutes for s in fast) <= sum(s.minutes for s in slow)
    # Every plan delivers the whole volume.
    assert sum(s.volume_ml for s in slow) == pytest.approx(volume)
    assert sum(s.volume_ml for s in fast) == pytest.approx(volume)


@settings(max_examples=100, deadline=None)
@given(
    pair=schedules_and_higher_max(),
    cap=rates,
    weight_kg=st.integers(min_value=3, max_value=200).map(Decimal),
    dose_g=st.integers(min_value=1, max_value=2000).map(lambda t: Decimal(t) / 10),
)
def test_an_at_risk_cap_never_shortens_the_infusion(
    pair: tuple[RateSchedule, Decimal], cap: Decimal, weight_kg: Decimal, dose_g: Decimal
) -> None:
    schedule, _ = pair
    volume = volume_ml(dose_g, Decimal(100))
    plain = run_ladder(ladder(schedule), weight_kg, volume, Decimal(100))
    capped = run_ladder(ladder(schedule, cap), weight_kg, volume, Decimal(100))
    assert sum(s.minutes for s in capped) >= sum(s.minutes for s in plain)
    assert all(s.rate_mg_per_kg_per_min <= cap for s in capped)


def test_every_indication_tag_in_the_catalog_names_a_known_indication() -> None:
    known = list(load_library().indications)
    for product in PRODUCTS.values():
        tags = [*product.labeled_indications]
        for schedule in product.rate_schedules:
            tags.extend(schedule.indications)
        for tag in tags:
            assert any(indication_matches(tag, known_id) for known_id in known), (
                product.id,
                tag,
            )
