"""Safety flags: patient risks, and product contraindications taken from the catalog."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from priorauth.domain.case import Case
from priorauth.domain.catalog import RiskKind
from priorauth.domain.infusion import plan_infusion
from priorauth.domain.safety import (
    SafetyInputs,
    Severity,
    assess_safety,
    patient_risks,
    safety_inputs_from_case,
)
from priorauth.rules.library import load_library

PRODUCTS = load_library().products


def _ids(inputs: SafetyInputs, product_id: str) -> set[str]:
    return {flag.id for flag in assess_safety(inputs, PRODUCTS[product_id]).flags}


def test_a_patient_with_nothing_recorded_only_gets_the_anti_iga_question() -> None:
    assert _ids(SafetyInputs(), "gamunex_c") == {"anti_iga_unknown"}


def test_iga_deficiency_with_antibodies_is_a_contraindication_showing_iga_content() -> None:
    report = assess_safety(
        SafetyInputs(iga_deficient=True, anti_iga_antibodies=True), PRODUCTS["gammagard_liquid"]
    )
    (flag,) = report.by_severity(Severity.CONTRAINDICATION)
    assert flag.id == "anti_iga"
    assert "37 mcg/mL" in flag.message
    assert report.contraindicated


def test_unknown_iga_content_is_marked_unverified() -> None:
    report = assess_safety(
        SafetyInputs(iga_deficient=True, anti_iga_antibodies=True), PRODUCTS["alyglo"]
    )
    assert report.flags[0].unverified


def test_low_egfr_is_renal_risk_and_its_threshold_is_unverified() -> None:
    inputs = SafetyInputs(egfr_ml_min=Decimal(45), anti_iga_antibodies=False)
    assert patient_risks(inputs) == (RiskKind.RENAL,)
    report = assess_safety(inputs, PRODUCTS["gamunex_c"])
    (flag,) = report.flags
    assert flag.id == "renal_risk"
    assert flag.unverified
    assert "45" in flag.message
    assert patient_risks(SafetyInputs(egfr_ml_min=Decimal(60))) == ()


def test_sugar_containing_product_in_renal_risk() -> None:
    inputs = SafetyInputs(renal_impairment=True, anti_iga_antibodies=False)
    maltose = {f.id: f for f in assess_safety(inputs, PRODUCTS["octagam_10"]).flags}
    assert "sugar_renal" in maltose
    # The payer check names sucrose; for maltose the link is not confirmed.
    assert maltose["sugar_renal"].unverified
    assert "sugar_renal" not in _ids(inputs, "privigen")


def test_thrombosis_risk_factors_are_listed() -> None:
    inputs = SafetyInputs(thrombosis_risk_factors=("prior DVT", "estrogen therapy"))
    assert patient_risks(inputs) == (RiskKind.THROMBOSIS,)
    flags = {f.id: f for f in assess_safety(inputs, PRODUCTS["bivigam"]).flags}
    assert "prior DVT; estrogen therapy" in flags["thrombosis_risk"].message


def test_age_65_or_over() -> None:
    assert "age_65" not in _ids(SafetyInputs(age_years=64), "privigen")
    assert "age_65" in _ids(SafetyInputs(age_years=65), "privigen")


def test_product_specific_contraindications_come_from_the_catalog() -> None:
    proline = SafetyInputs(hyperprolinemia=True, anti_iga_antibodies=False)
    assert "product_hyperprolinemia" in _ids(proline, "privigen")
    assert "product_hyperprolinemia" in _ids(proline, "hizentra")
    assert "product_hyperprolinemia" not in _ids(proline, "gamunex_c")

    fructose = SafetyInputs(hereditary_fructose_intolerance=True, anti_iga_antibodies=False)
    gammaplex = {f.id: f for f in assess_safety(fructose, PRODUCTS["gammaplex_10"]).flags}
    assert not gammaplex["product_hereditary_fructose_intolerance"].unverified
    flebogamma = {f.id: f for f in assess_safety(fructose, PRODUCTS["flebogamma_10_dif"]).flags}
    # Sorbitol and fructose intolerance: general knowledge, unverified in the notes.
    assert flebogamma["product_hereditary_fructose_intolerance"].unverified
    assert "product_hereditary_fructose_intolerance" not in _ids(fructose, "privigen")

    hyaluronidase = SafetyInputs(hyaluronidase_hypersensitivity=True, anti_iga_antibodies=False)
    assert "product_hyaluronidase_hypersensitivity" in _ids(hyaluronidase, "hyqvia")


def test_risks_feed_the_infusion_cap() -> None:
    inputs = SafetyInputs(egfr_ml_min=Decimal(30))
    plan = plan_infusion(
        PRODUCTS["panzyga"], "cidp", Decimal(70), Decimal(70), patient_risks(inputs)
    )
    assert plan.at_risk_cap_applied
    assert plan.max_rate_mg_per_kg_per_min == Decimal("3.3")


def test_inputs_from_a_case_take_age_at_start_and_the_latest_egfr() -> None:
    case = Case.model_validate(
        {
            "patient": {
                "first_name": "Synthetic",
                "last_name": "Patient",
                "date_of_birth": "1960-06-15",
                "sex": "female",
            },
            "coverage": {
                "payer_name": "Example Plan",
                "plan_type": "commercial",
                "member_id": "X1",
            },
            "prescriber": {
                "name": "Dana Example",
                "credentials": "MD",
                "npi": "1234567893",
                "specialty": "neurology",
            },
            "site_of_care": "infusion_center",
            "request_type": "initial",
            "indication_id": "cidp",
            "icd10_codes": ["G61.81"],
            "measurements": {"weight": 60, "measured_on": "2026-01-05"},
            "answers": {
                "egfr_ml_min": [
                    {"value": 40, "date": "2025-01-10"},
                    {"value": 72, "date": "2026-05-02"},
                ]
            },
            "regimen": {
                "product_id": "privigen",
                "dose_g_per_kg": 2,
                "days_per_course": 2,
                "interval_weeks": 3,
                "courses_requested": 1,
                "start_date": "2026-06-20",
            },
        },
        context={"today": dt.date(2026, 6, 1)},
    )
    inputs = safety_inputs_from_case(case, anti_iga_antibodies=False)
    assert inputs.age_years == 66
    assert inputs.egfr_ml_min == Decimal(72)
    assert patient_risks(inputs) == ()
    assert "age_65" in {f.id for f in assess_safety(inputs, PRODUCTS["privigen"]).flags}
