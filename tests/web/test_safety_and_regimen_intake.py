"""Safety facts, classes never given and the regimens people order, through the intake form."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from web_helpers import cidp_formdata, create_case, field_error, input_value, page_text

SAFETY = {
    "safety-iga_deficient": "yes",
    "safety-anti_iga_antibodies": "yes",
    "safety-egfr-value": "25",
    "safety-egfr-date": "2026-11-01",
    "safety-diabetes": "yes",
    "safety-thrombosis_risk_factors": "Prior DVT (2019)\nEstrogen therapy",
    "regimen-product_id": "octagam_10",
}


def _selected(body: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', body, re.S)
    assert select, name
    for option in re.findall(r"<option[^>]*>", select.group(1)):
        if re.search(r"\bselected\b", option):
            value = re.search(r'value="([^"]*)"', option)
            return value.group(1) if value else ""
    return ""


def test_safety_facts_go_in_and_every_flag_shows_on_the_case_page(
    logged_in: FlaskClient,
) -> None:
    formdata = cidp_formdata(**SAFETY)
    formdata["never_tried-0-therapy_class"] = "immunosuppressant"
    formdata["never_tried-0-reason"] = "contraindicated"
    formdata["never_tried-0-note"] = "Active hepatitis B"
    case_id = create_case(logged_in, formdata)

    text = page_text(logged_in.get(f"/cases/{case_id}").text)
    for title in (
        "Antibodies against IgA with IgA deficiency",
        "Renal impairment",
        "Octagam 10% contains sugar (maltose) and the patient has renal risk",
        "Octagam 10% contains maltose and the patient has diabetes",
        "Thrombosis risk factors",
    ):
        assert title in text, title
    assert "eGFR 25 mL/min/1.73 m²" in text
    assert "Prior DVT (2019); Estrogen therapy" in text
    assert "Products that avoid it:" in text

    # The edit form shows every fact as it was saved: nothing typed is lost.
    edit = logged_in.get(f"/cases/{case_id}/edit").text
    assert _selected(edit, "safety-anti_iga_antibodies") == "yes"
    assert _selected(edit, "safety-renal_impairment") == ""
    assert input_value(edit, "safety-egfr-value") == "25"
    assert "Estrogen therapy" in edit
    assert _selected(edit, "never_tried-0-reason") == "contraindicated"


def test_a_wrong_safety_value_is_placed_on_its_field_and_kept(logged_in: FlaskClient) -> None:
    response = logged_in.post(
        "/cases/new/cidp",
        data=cidp_formdata(**{"safety-egfr-value": "abc", "safety-egfr-date": "2026-11-01"}),
    )
    assert response.status_code == 422
    assert field_error(response.text, "safety-egfr-value")
    assert input_value(response.text, "safety-egfr-value") == "abc"
    too_high = logged_in.post(
        "/cases/new/cidp",
        data=cidp_formdata(**{"safety-egfr-value": "500", "safety-egfr-date": "2026-11-01"}),
    )
    assert too_high.status_code == 422
    assert "above 200" in field_error(too_high.text, "safety-egfr-value")


def test_a_class_never_given_needs_no_dates(logged_in: FlaskClient) -> None:
    formdata = cidp_formdata()
    for key in [k for k in formdata if k.startswith("prior_therapies-0-")]:
        formdata.poplist(key)
    formdata["never_tried-0-therapy_class"] = "corticosteroid"
    formdata["never_tried-0-reason"] = "declined"
    case_id = create_case(logged_in, formdata)
    edit = logged_in.get(f"/cases/{case_id}/edit").text
    assert _selected(edit, "never_tried-0-therapy_class") == "corticosteroid"
    assert _selected(edit, "never_tried-0-reason") == "declined"


def test_one_course_needs_no_interval_and_a_series_does(logged_in: FlaskClient) -> None:
    one = cidp_formdata(**{"regimen-interval_weeks": "", "regimen-courses_requested": "1"})
    case_id = create_case(logged_in, one)
    assert "One course, not repeated" in page_text(logged_in.get(f"/cases/{case_id}").text)

    series = cidp_formdata(**{"regimen-interval_weeks": "", "regimen-courses_requested": "3"})
    response = logged_in.post("/cases/new/cidp", data=series)
    assert response.status_code == 422
    assert "request one course" in field_error(response.text, "regimen-interval_weeks")


def test_a_subcutaneous_product_for_an_iv_induction_is_refused_on_the_product(
    logged_in: FlaskClient,
) -> None:
    response = logged_in.post(
        "/cases/new/cidp", data=cidp_formdata(**{"regimen-product_id": "hizentra"})
    )
    assert response.status_code == 422
    message = field_error(response.text, "regimen-product_id")
    assert "Hizentra is given under the skin" in message
    assert "intravenous" in message


def test_loading_course_premedication_and_tolerated_rate_are_kept(
    logged_in: FlaskClient,
) -> None:
    formdata = cidp_formdata(
        **{
            "regimen-phase": "maintenance",
            "regimen-dose_g_per_kg": "1",
            "regimen-days_per_course": "2",
            "regimen-loading-dose_g_per_kg": "2",
            "regimen-loading-days": "4",
            "regimen-premedication": "Acetaminophen 650 mg",
            "regimen-tolerated_rate_mg_per_kg_per_min": "4",
        }
    )
    case_id = create_case(logged_in, formdata)
    text = page_text(logged_in.get(f"/cases/{case_id}").text)
    assert "Loading course first: 2 g/kg" in text
    edit = logged_in.get(f"/cases/{case_id}/edit").text
    assert input_value(edit, "regimen-loading-days") == "4"
    assert input_value(edit, "regimen-premedication") == "Acetaminophen 650 mg"
    assert input_value(edit, "regimen-tolerated_rate_mg_per_kg_per_min") == "4"


def test_pregnancy_is_asked_of_female_patients_only(logged_in: FlaskClient) -> None:
    # The example patient is male: a pregnancy ticked in a hidden field does not count.
    formdata = cidp_formdata(**{"measurements-pregnant": "y"})
    formdata["measurements-pre_pregnancy_weight"] = "80"
    case_id = create_case(logged_in, formdata)
    edit = logged_in.get(f"/cases/{case_id}/edit").text
    group = re.search(r"<div[^>]*data-pregnancy-fields[^>]*>", edit)
    assert group and "hidden" in group.group(0)
    assert input_value(edit, "measurements-pre_pregnancy_weight") == ""
    female = logged_in.get("/cases/new/cidp?request_type=initial").text
    group = re.search(r"<div[^>]*data-pregnancy-fields[^>]*>", female)
    assert group and "hidden" not in group.group(0)  # the sex is not chosen yet
