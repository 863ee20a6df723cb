"""Every example case survives the trip form → Case → store → form unchanged."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from web_helpers import EXAMPLES, TODAY, cidp_formdata, page_text

from priorauth.domain.case import Case
from priorauth.rules.engine import case_problems, evaluate
from priorauth.store.db import make_engine, session_factory
from priorauth.store.models import CaseRecord
from priorauth.web.intake import formdata_for_case

FORMS = Path(__file__).resolve().parents[2] / "forms" / "indications"


def _one_per_indication() -> list[Path]:
    """Each indication's qualifying example (else its first): every question kind is used."""
    chosen = []
    for folder in sorted(p for p in FORMS.iterdir() if (p / "examples").is_dir()):
        files = sorted((folder / "examples").glob("*.json"))
        preferred = [f for f in files if "qualifies" in f.stem] or files
        chosen.extend(preferred[:1])
    return chosen


EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json")) + _one_per_indication()


def _example(path: Path) -> tuple[dict[str, Any], dt.date]:
    """The case in an example file (bare, or wrapped with its as-of date)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if "case" in data:
        return data["case"], dt.date.fromisoformat(data.get("as_of", TODAY.isoformat()))
    return data, TODAY


@pytest.mark.parametrize(
    "path", EXAMPLE_FILES, ids=[f"{p.parent.parent.name}-{p.stem}" for p in EXAMPLE_FILES]
)
def test_example_case_round_trips_through_the_form(
    app: Flask, logged_in: FlaskClient, path: Path
) -> None:
    raw, as_of = _example(path)
    app.config["PRIORAUTH_TODAY"] = as_of
    try:
        case = Case.model_validate(raw, context={"today": as_of})
    except ValidationError:
        pytest.skip("not a valid case: the CLI's examples of bad input")
    expected = case.model_dump(mode="json")
    accepted = not case_problems(case, app.extensions["priorauth"].library)
    response = logged_in.post(f"/cases/new/{case.indication_id}", data=formdata_for_case(expected))
    if not accepted:
        # The form refuses exactly what the rules call a problem in the case.
        assert response.status_code == 422
        return
    assert response.status_code == 303, page_text(response.text)[:1500]
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    engine = make_engine(app.config["PRIORAUTH_DATABASE_URL"])
    try:
        with session_factory(engine)() as session:
            record = session.get(CaseRecord, case_id)
            assert record is not None
            assert record.data == expected
    finally:
        engine.dispose()
    # The assessment page renders for it, with the verdict the engine gives.
    page = logged_in.get(f"/cases/{case_id}")
    assert page.status_code == 200
    verdict = evaluate(case, app.extensions["priorauth"].library, as_of).verdict_label
    assert verdict in page_text(page.text)


FIELDS = [
    "measurements-weight",
    "measurements-height",
    "measurements-measured_on",
    "prescriber-npi",
    "regimen-days_per_course",
    "regimen-dose_g_per_kg",
    "prior_therapies-0-start",
    "answers-symptom_duration_months",
    "answers-incat_score_baseline-value",
    "icd10_codes",
    "patient-sex",
]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(FIELDS),
    value=st.one_of(
        st.text(max_size=60),
        st.from_regex(r"-?[0-9]{0,30}(\.[0-9]{0,10})?(e[+-]?[0-9]{1,5})?", fullmatch=True),
        st.sampled_from(
            ["NaN", "-inf", "Infinity", "1e309", "٧٠", "0x10", "1_000", " ", "\u202e70"]
        ),
    ),
)
def test_any_typed_value_gets_an_answer_never_a_crash(
    logged_in: FlaskClient, name: str, value: str
) -> None:
    response = logged_in.post("/cases/new/cidp", data=cidp_formdata(**{name: value}))
    assert response.status_code in (303, 422), (name, value)
