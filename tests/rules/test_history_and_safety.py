"""Negative history ("never tried") and the patient's safety facts, as the rules read them."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from priorauth.domain.case import Case
from priorauth.rules import evaluate, load_library
from priorauth.rules.assessment import Status

REPO = Path(__file__).resolve().parents[2]
LIBRARY = load_library()
AS_OF = dt.date(2026, 11, 20)
ITP = REPO / "forms/indications/itp_adult_chronic/examples/refractory-qualifies.json"
CIDP = REPO / "examples/cidp-initial-qualifies.json"


def _data(path: Path) -> dict[str, Any]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return copy.deepcopy(raw.get("case", raw))


def _assess(data: dict[str, Any]) -> Any:
    return evaluate(Case.model_validate(data, context={"today": AS_OF}), LIBRARY, AS_OF)


def _without_class(data: dict[str, Any], therapy_class: str) -> dict[str, Any]:
    data["prior_therapies"] = [
        t for t in data["prior_therapies"] if t["therapy_class"] != therapy_class
    ]
    return data


def test_a_corticosteroid_never_tried_reads_not_met_with_the_reason() -> None:
    data = _without_class(_data(ITP), "corticosteroid")
    assert _assess(data).result("steroids_first").status is Status.MISSING
    data["never_tried"] = [{"therapy_class": "corticosteroid", "reason": "declined"}]
    result = _assess(data).result("steroids_first")
    assert result.status is Status.NOT_MET
    assert "never tried (declined by the patient)" in result.reason
    assert any("never given" in line for line in result.evidence)


def test_a_contraindicated_class_never_given_counts_without_dates() -> None:
    data = _without_class(_data(ITP), "corticosteroid")
    data["never_tried"] = [
        {"therapy_class": "corticosteroid", "reason": "contraindicated", "note": "Brittle diabetes"}
    ]
    result = _assess(data).result("steroids_first")
    assert result.status is Status.MET
    assert any("contraindicated" in line and "Brittle" in line for line in result.evidence)


def test_a_class_cannot_be_both_tried_and_never_tried() -> None:
    data = _data(ITP)
    data["never_tried"] = [{"therapy_class": "corticosteroid", "reason": "declined"}]
    with pytest.raises(ValidationError, match="both as tried and as never tried"):
        Case.model_validate(data, context={"today": AS_OF})


def test_safety_facts_are_recorded_and_flagged_with_alternatives() -> None:
    data = _data(CIDP)
    data["regimen"]["product_id"] = "octagam_10"
    data["safety"] = {
        "anti_iga_antibodies": True,
        "iga_deficient": True,
        "egfr": {"value": 25, "date": "2026-11-01"},
        "diabetes": True,
    }
    assessment = _assess(data)
    flags = {flag.id: flag for flag in assessment.safety.flags}
    assert {"anti_iga", "renal_risk", "sugar_renal", "maltose_glucose_meter"} <= set(flags)
    assert "eGFR 25" in flags["renal_risk"].message
    # Products that avoid what this product raises are named; Privigen has less IgA.
    assert any("Privigen" in name for name in assessment.safety.alternatives["anti_iga"])
    assert assessment.safety.alternatives["maltose_glucose_meter"]
    assert all("Octagam" not in n for n in assessment.safety.alternatives["sugar_renal"])


def test_an_egfr_is_no_longer_refused_as_an_unasked_answer() -> None:
    data = _data(CIDP)
    data["safety"] = {"egfr": {"value": 45, "date": "2026-11-01"}}
    assessment = _assess(data)
    assert not assessment.problems
    assert any(flag.id == "renal_risk" for flag in assessment.safety.flags)


@pytest.mark.parametrize("start", ["3000-01-01", "1900-01-01"])
def test_a_start_date_typed_wrong_gives_no_age_and_no_crash(start: str) -> None:
    """The live readiness check evaluates what is being typed: a start date in the year 3000
    (or before the birth) must give an assessment, not a server error (the intake refuses
    the date beside its field)."""
    data = _data(CIDP)
    data["regimen"]["start_date"] = start
    result = _assess(data)
    assert not any("age" in flag.title.lower() for flag in result.safety.flags)
