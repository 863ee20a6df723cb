"""Payer profiles vary the reference criteria without code, and say how.

The central case: one patient with secondary hypogammaglobulinemia assessed under
the guideline reference and under the eviCore-managed commercial profile, which
differ in weight basis (adjusted above BMI 30 vs actual), IgG threshold (400 vs
500 mg/dL) and authorization period (the definition's 12 months vs 180 days).
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from priorauth.domain.case import Case
from priorauth.domain.dosing import WeightBasis
from priorauth.rules import evaluate, load_library
from priorauth.rules.assessment import Assessment, CriterionResult, Status, Verdict
from priorauth.rules.library import Library

REPO_ROOT = Path(__file__).resolve().parents[2]
FORMS_DIR = REPO_ROOT / "forms"
AS_OF = dt.date(2026, 11, 20)

WEIGHT_KG = Decimal("110")
DOSE_G_PER_KG = Decimal("0.4")


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(FORMS_DIR)


def _case(**changes: Any) -> dict[str, Any]:
    """A CLL patient with IgG 450 and 470 mg/dL, BMI about 36, asking for replacement IVIG."""
    case: dict[str, Any] = {
        "patient": {
            "first_name": "Avery",
            "last_name": "Testpatient",
            "date_of_birth": "1954-06-21",
            "sex": "male",
        },
        "coverage": {
            "payer_name": "Example Health Plan",
            "payer_profile": "reference",
            "plan_type": "commercial",
            "member_id": "EHP000123",
        },
        "prescriber": {
            "name": "Dana Example",
            "credentials": "MD",
            "npi": "1234567893",
            "specialty": "hematology_oncology",
        },
        "site_of_care": "infusion_center",
        "request_type": "initial",
        "indication_id": "secondary_hypogammaglobulinemia",
        "icd10_codes": ["C91.10", "D80.1"],
        "measurements": {"weight": str(WEIGHT_KG), "height": 175, "measured_on": "2026-11-02"},
        "answers": {
            "secondary_hypogam_cause": "cll",
            "igg_mg_dl": [
                {"value": 450, "date": "2026-09-10"},
                {"value": 470, "date": "2026-10-15"},
            ],
            "recurrent_bacterial_infections": True,
            "pneumococcal_vaccine_response": "impaired",
        },
        "regimen": {
            "product_id": "privigen",
            "dose_g_per_kg": str(DOSE_G_PER_KG),
            "days_per_course": 1,
            "interval_weeks": 4,
            "months_requested": 12,
            "start_date": "2026-12-01",
        },
    }
    for key, value in changes.items():
        case[key] = value
    return case


def _assess(library: Library, data: dict[str, Any], payer: str) -> Assessment:
    data = copy.deepcopy(data)
    data["coverage"]["payer_profile"] = payer
    case = Case.model_validate(data, context={"today": AS_OF})
    return evaluate(case, library, AS_OF)


def _criterion(assessment: Assessment, criterion_id: str) -> CriterionResult:
    return next(r for r in assessment.criteria if r.id == criterion_id)


def test_the_two_profiles_really_differ_in_what_the_test_relies_on(library: Library) -> None:
    reference, commercial = library.payers["reference"], library.payers["commercial"]
    assert reference.dosing_weight.basis is WeightBasis.ADJUSTED
    assert commercial.dosing_weight.basis is WeightBasis.ACTUAL
    assert commercial.dosing_weight_unverified, "the commercial weight basis is unverified"
    assert commercial.authorization_initial_months == 6
    assert reference.authorization_initial_months is None


def test_same_case_two_profiles_two_explained_results(library: Library) -> None:
    data = _case()
    ref = _assess(library, data, "reference")
    com = _assess(library, data, "commercial")

    # IgG threshold: 400 mg/dL in the reference, 500 under eviCore.
    ref_igg, com_igg = (
        _criterion(ref, "igg_below_threshold"),
        _criterion(com, "igg_below_threshold"),
    )
    assert ref_igg.status is Status.NOT_MET
    assert "400" in ref_igg.reason and ref_igg.payer_change == ""
    assert com_igg.status is Status.MET
    assert "500" in com_igg.reason and "500" in com_igg.title
    assert "eviCore" in com_igg.payer_change and "as of" in com_igg.payer_change
    # The evidence is the same two results either way: only the rule changed.
    assert ref_igg.evidence == com_igg.evidence

    assert ref.verdict is Verdict.NOT_READY
    assert any("IgG below 400 mg/dL" in reason for reason in ref.verdict_reasons)
    assert com.verdict is Verdict.READY

    # Weight basis: Ontario titrates secondary-immunodeficiency doses to IgG, so the
    # reference profile keeps actual weight and does not round, despite BMI above 30;
    # the commercial profile doses on actual weight as its (unverified) placeholder.
    assert ref.dose.dose is not None and com.dose.dose is not None
    ref_weight, com_weight = ref.dose.dose.dosing_weight, com.dose.dose.dosing_weight
    assert ref_weight.bmi is not None and ref_weight.bmi > 30
    assert ref_weight.basis is WeightBasis.ACTUAL
    assert "titrated to IgG" in ref_weight.reason
    assert not ref.dose.dose.rounded and "titrated to IgG" in ref.dose.dose.rounding_note
    assert com_weight.basis is WeightBasis.ACTUAL
    assert com_weight.weight_kg == WEIGHT_KG
    assert com.dose.dose.per_course_g == DOSE_G_PER_KG * WEIGHT_KG
    assert com.dose.unverified and not ref.dose.unverified

    # Authorization: the definition's 12 months vs eviCore's 180 days.
    assert ref.authorization_months == 12
    assert "Blue Cross NC" in ref.authorization_note
    assert com.authorization_months == 6
    assert "180 days" in com.authorization_note

    assert ref.payer_id == "reference" and com.payer_id == "commercial"
    assert ref.definition_versions["payer:reference"] != com.definition_versions["payer:commercial"]


def test_clearly_low_igg_qualifies_under_both(library: Library) -> None:
    data = _case()
    data["answers"]["igg_mg_dl"] = [{"value": 320, "date": "2026-10-15"}]
    for payer in ("reference", "commercial"):
        result = _criterion(_assess(library, data, payer), "igg_below_threshold")
        assert result.status is Status.MET, payer


def test_igg_at_the_commercial_threshold_is_not_below_it(library: Library) -> None:
    data = _case()
    data["answers"]["igg_mg_dl"] = [{"value": 500, "date": "2026-10-15"}]
    result = _criterion(_assess(library, data, "commercial"), "igg_below_threshold")
    assert result.status is Status.NOT_MET


def test_commercial_requires_a_steroid_trial_for_acute_itp(library: Library) -> None:
    data = _case(
        indication_id="itp_adult_acute",
        icd10_codes=["D69.3"],
        answers={
            "platelets_10e9_l": [{"value": 8, "date": "2026-11-19"}],
            "bleeding_severity": "severe",
        },
        regimen={
            "product_id": "gamunex_c",
            "dose_g_per_kg": 1,
            "days_per_course": 1,
            "interval_weeks": 1,
            "courses_requested": 1,
            "start_date": "2026-11-21",
        },
    )
    ref = _assess(library, data, "reference")
    com = _assess(library, data, "commercial")
    assert _criterion(ref, "steroids_first").status is Status.MISSING
    assert not _criterion(ref, "steroids_first").required
    assert ref.verdict is Verdict.READY_WITH_WARNINGS
    assert _criterion(com, "steroids_first").required
    assert "eviCore" in _criterion(com, "steroids_first").payer_change
    assert com.verdict is Verdict.NOT_READY


def _pemphigus(short_term: bool) -> dict[str, Any]:
    return _case(
        indication_id="pemphigus_pemphigoid",
        icd10_codes=["L10.0"],
        prescriber={
            "name": "Dana Example",
            "credentials": "MD",
            "npi": "1234567893",
            "specialty": "dermatology",
        },
        answers={
            "blistering_disease_biopsy_proven": True,
            "given_with_other_immunotherapy": True,
            "ivig_short_term_until_conventional_effect": short_term,
        },
        prior_therapies=[
            {
                "agent": "Prednisone",
                "therapy_class": "corticosteroid",
                "start": "2026-03-01",
                "outcome": "inadequate_response",
            }
        ],
        regimen={
            "product_id": "privigen",
            "dose_g_per_kg": 2,
            "days_per_course": 4,
            "interval_weeks": 4,
            "months_requested": 6,
            "start_date": "2026-12-01",
        },
    )


def test_medicare_covers_blistering_diseases_short_term_only(library: Library) -> None:
    maintenance = _pemphigus(short_term=False)
    ref = _assess(library, maintenance, "reference")
    med = _assess(library, maintenance, "medicare")
    assert _criterion(ref, "short_term").status is Status.NOT_MET
    assert ref.verdict is Verdict.READY_WITH_WARNINGS
    assert _criterion(med, "short_term").required
    assert "NCD 250.3" in _criterion(med, "short_term").payer_change
    assert med.verdict is Verdict.NOT_READY

    short = _assess(library, _pemphigus(short_term=True), "medicare")
    assert short.verdict is Verdict.READY


def test_medicare_home_infusion_only_for_the_pid_list(library: Library) -> None:
    medicare = library.payers["medicare"]
    assert "D83.9" in medicare.home_infusion_codes
    assert "D80.1" not in medicare.home_infusion_codes
    assert "§50.6" in medicare.home_infusion_source

    at_home = _case(site_of_care="home")
    med = _assess(library, at_home, "medicare")
    home = [r for r in med.verdict_reasons if "home-infusion list" in r]
    assert home and "§50.6" in home[0]
    assert med.verdict is Verdict.NOT_READY
    # The reference profile sets no home list: the same case raises no home problem.
    ref = _assess(library, at_home, "reference")
    assert not [r for r in ref.verdict_reasons if "home-infusion list" in r]

    pid_at_home = _case(site_of_care="home", indication_id="pid", icd10_codes=["D83.9"], answers={})
    pid = _assess(library, pid_at_home, "medicare")
    assert not [r for r in pid.verdict_reasons if "home-infusion list" in r]


def test_uhc_excludes_panzyga(library: Library) -> None:
    data = _case()
    data["answers"]["igg_mg_dl"] = [{"value": 320, "date": "2026-10-15"}]
    data["regimen"]["product_id"] = "panzyga"
    uhc = _assess(library, data, "uhc")
    assert any("does not cover Panzyga" in r for r in uhc.verdict_reasons)
    assert uhc.verdict is Verdict.NOT_READY
    ref = _assess(library, data, "reference")
    assert not any("Panzyga" in r for r in ref.verdict_reasons)


def test_bcbs_nc_warns_on_a_non_preferred_product(library: Library) -> None:
    data = _case()
    data["answers"]["igg_mg_dl"] = [{"value": 320, "date": "2026-10-15"}]
    data["regimen"]["product_id"] = "bivigam"
    bivigam = _assess(library, data, "bcbs_nc")
    assert any("not a preferred product" in r for r in bivigam.verdict_reasons)
    assert bivigam.verdict is Verdict.READY_WITH_WARNINGS
    data["regimen"]["product_id"] = "privigen"
    privigen = _assess(library, data, "bcbs_nc")
    assert not any("preferred" in r for r in privigen.verdict_reasons)


@pytest.mark.parametrize("payer_id", ["medicare", "commercial", "uhc", "bcbs_nc", "aetna"])
def test_profile_facts_carry_source_and_date(library: Library, payer_id: str) -> None:
    profile = library.payers[payer_id]
    assert profile.description and profile.sources
    assert profile.dosing_weight_source
    # No US payer's weight basis was readable in the reference notes.
    assert profile.dosing_weight_unverified
    for override in profile.overrides:
        assert override.source and override.as_of
    for note in profile.notes:
        assert note.source and note.as_of
    if profile.preferred_products or profile.excluded_products:
        assert profile.products_source
    if profile.authorization_initial_months or profile.authorization_continuation_months:
        assert profile.authorization_source
