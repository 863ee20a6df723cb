"""Every patient from 0.5 kg to 250 kg gets a positive dose within the payer's tolerance.

Rounding policies round only within a tolerance of the prescribed dose (MP.001.001;
Priority Health 2022; HOPA 2017: 10 %), never to zero, and never for a patient the
policy exempts (Ontario: small patients, PID and SID) [S18].
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from priorauth.domain.case import Measurements, Regimen, Sex
from priorauth.domain.dosing import (
    DosingWeightPolicy,
    course_dose,
    dosing_weight,
    rounding_exemption,
)
from priorauth.domain.vials import RoundingRule, VialRounding
from priorauth.rules import load_library
from priorauth.rules.library import Library

LIBRARY: Library = load_library()
PRODUCT = LIBRARY.products["privigen"]
SC_PRODUCT = LIBRARY.products["hizentra"]
MEASURED_ON = dt.date(2026, 11, 2)
START = dt.date(2026, 12, 1)
VIAL_POLICY = DosingWeightPolicy(
    rounding=VialRounding(rule=RoundingRule.NEAREST_VIAL, source="MP.001.001"),
    exempt_under_age_years=18,
)
POLICIES = {**{pid: p.dosing_weight for pid, p in LIBRARY.payers.items()}, "vials": VIAL_POLICY}
DOSES_G_PER_KG = (Decimal("0.1"), Decimal("0.4"), Decimal("1"), Decimal("2"))
HEIGHTS_CM = (Decimal("45"), Decimal("110"), Decimal("152.4"), Decimal("170"), Decimal("195"))
INDICATIONS = ("cidp", "pid", "itp_children", "fnait")


def _dose_for(
    policy: DosingWeightPolicy,
    weight_kg: Decimal,
    height_cm: Decimal,
    sex: Sex,
    dose_g_per_kg: Decimal,
    days: int,
    indication_id: str,
    age_years: int,
    subcutaneous: bool = False,
) -> tuple[Decimal, Decimal, tuple[Decimal, ...]]:
    measurements = Measurements(weight=weight_kg, height=height_cm, measured_on=MEASURED_ON)
    product = SC_PRODUCT if subcutaneous else PRODUCT
    regimen = Regimen(
        product_id=product.id,
        dose_g_per_kg=dose_g_per_kg,
        days_per_course=days,
        # A subcutaneous course is one or two weeks; its step rounding is over 4 weeks.
        interval_weeks=Decimal(1 + days % 2) if subcutaneous else Decimal(4),
        courses_requested=1,
        start_date=START,
    )
    weight = dosing_weight(measurements, sex, policy, indication_id)
    exemption = rounding_exemption(policy, measurements, sex, age_years, indication_id)
    dose = course_dose(
        weight,
        regimen,
        policy.rounding,
        exemption=exemption,
        vial_sizes_g=product.vial_sizes_g,
        step_total_weeks=Decimal(4) if subcutaneous else None,
    )
    return dose.prescribed_g, dose.per_course_g, dose.day_doses_g


def _check(
    policy: DosingWeightPolicy, prescribed: Decimal, given: Decimal, days: tuple[Decimal, ...]
) -> None:
    assert given > 0 and all(day > 0 for day in days), (prescribed, given, days)
    assert sum(days) == given
    tolerance = policy.rounding.tolerance_percent / 100
    assert abs(given - prescribed) <= prescribed * tolerance, (prescribed, given)


@pytest.mark.parametrize("subcutaneous", [False, True], ids=["iv", "sc"])
@pytest.mark.parametrize("profile", sorted(POLICIES))
def test_every_weight_from_half_a_kilogram_to_250_kg(profile: str, subcutaneous: bool) -> None:
    policy = POLICIES[profile]
    tenths = range(5, 2501)  # 0.5 kg to 250.0 kg in steps of 0.1 kg
    for index, tenth in enumerate(tenths):
        weight = Decimal(tenth) / 10
        prescribed, given, days = _dose_for(
            policy,
            weight,
            HEIGHTS_CM[index % len(HEIGHTS_CM)],
            (Sex.FEMALE, Sex.MALE)[index % 2],
            DOSES_G_PER_KG[index % len(DOSES_G_PER_KG)],
            1 + index % 5,
            INDICATIONS[index % len(INDICATIONS)],
            (0, 8, 17, 45, 80)[index % 5],
            subcutaneous,
        )
        _check(policy, prescribed, given, days)


@settings(max_examples=400, deadline=None)
@given(
    profile=st.sampled_from(sorted(POLICIES)),
    tenth=st.integers(min_value=5, max_value=2500),
    height_cm=st.decimals(min_value=Decimal("30"), max_value=Decimal("220"), places=1),
    sex=st.sampled_from(list(Sex)),
    dose_g_per_kg=st.decimals(min_value=Decimal("0.05"), max_value=Decimal("2.5"), places=2),
    days=st.integers(min_value=1, max_value=7),
    indication_id=st.sampled_from(INDICATIONS),
    age_years=st.integers(min_value=0, max_value=100),
    subcutaneous=st.booleans(),
)
def test_any_patient_any_regimen(
    profile: str,
    tenth: int,
    height_cm: Decimal,
    sex: Sex,
    dose_g_per_kg: Decimal,
    days: int,
    indication_id: str,
    age_years: int,
    subcutaneous: bool,
) -> None:
    policy = POLICIES[profile]
    prescribed, given, day_doses = _dose_for(
        policy,
        Decimal(tenth) / 10,
        height_cm,
        sex,
        dose_g_per_kg,
        days,
        indication_id,
        age_years,
        subcutaneous,
    )
    _check(policy, prescribed, given, day_doses)


def test_the_infants_of_the_issue() -> None:
    """A 6 kg infant at 0.4 g/kg, a 3.2 kg newborn and a 7 kg infant at 1 g/kg, a 22 kg child."""
    policy = LIBRARY.payers["reference"].dosing_weight

    def given(
        weight: str, dose: str, height: str = "60", indication: str = "itp_children"
    ) -> Decimal:
        return _dose_for(
            policy, Decimal(weight), Decimal(height), Sex.FEMALE, Decimal(dose), 1, indication, 1
        )[1]

    assert given("6", "0.4") == Decimal("2.40")  # not 0 g
    assert given("3.2", "1", "50", "fnait") == Decimal("3.20")  # not 5 g
    assert given("7", "1") == Decimal("7.00")  # not 5 g
    assert given("22", "1", "118") == Decimal("22.0")  # under 152.4 cm: Ontario does not round
    # An adult above the thresholds is rounded to 5 g when that is within 10 %.
    assert (
        _dose_for(policy, Decimal("80"), Decimal("175"), Sex.MALE, Decimal("2"), 4, "cidp", 50)[1]
        == 160
    )


def test_a_weekly_dose_is_a_share_of_the_rounded_four_week_total() -> None:
    """Ontario: the total rounded to 5 g, given as the rounded total ÷ the weeks [S18]."""
    policy = LIBRARY.payers["reference"].dosing_weight
    prescribed, given, _days = _dose_for(
        policy, Decimal("72"), Decimal("170"), Sex.FEMALE, Decimal("0.2"), 1, "cidp", 50, True
    )
    # 0.2 g/kg over 2 weeks (1 day: interval 2) is 14.4 g; 4 weeks 28.8 g → 30 g → 15 g.
    assert prescribed == Decimal("14.4") and given == Decimal(15)
