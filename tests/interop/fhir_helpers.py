"""Helpers for the FHIR tests: what two assessments must share to count as the same."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from priorauth.rules.assessment import Assessment, walk_results

REPO_ROOT = Path(__file__).resolve().parents[2]


def outcome(assessment: Assessment) -> dict[str, Any]:
    """Verdict, every criterion's status, the problems, the dose and billing units, the flags."""
    dose = assessment.dose.dose
    return {
        "verdict": assessment.verdict,
        "criteria": {r.id: r.status for r in walk_results(assessment.criteria)},
        "problems": [p.field for p in assessment.problems],
        "per_course_g": dose.per_course_g if dose else None,
        "day_doses_g": dose.day_doses_g if dose else None,
        "billing_units": assessment.dose.billing_units,
        "findings": [f.message for f in assessment.dose.findings],
        "flags": sorted(flag.id for flag in assessment.safety.flags),
    }


def read_example(path: Path) -> tuple[dict[str, Any], dt.date]:
    """A case file's case and its as_of date (a bare case is judged on 2026-11-20)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data.get("case"), dict):
        return data["case"], dt.date.fromisoformat(data.get("as_of", "2026-11-20"))
    return data, dt.date(2026, 11, 20)
