"""The prescriber's phone and fax are numbers a payer can dial; the letter never points
to an office it gives no number for."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from web_helpers import cidp_case_data, cidp_formdata, field_error

from priorauth.documents import build_letter_context
from priorauth.documents.wording import office_contact
from priorauth.domain.case import Case
from priorauth.domain.identifiers import is_phone_number
from priorauth.rules import load_library
from priorauth.rules.engine import evaluate

TODAY = dt.date(2026, 11, 20)


@pytest.mark.parametrize("field", ["prescriber-phone", "prescriber-fax"])
def test_a_phone_that_is_not_a_number_gets_a_field_message_and_is_kept(
    logged_in: FlaskClient, field: str
) -> None:
    response = logged_in.post("/cases/new/cidp", data=cidp_formdata(**{field: "abc"}))
    assert response.status_code == 422
    assert "phone number a payer can dial" in field_error(response.text, field)
    assert 'value="abc"' in response.text  # the input is kept


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("555-0100", True),
        ("(555) 010-0100", True),
        ("+1 555 010 0100 ext 12", True),
        ("abc", False),
        ("12", False),
        ("1-800-FLOWERS", False),
        ("+1 555 010 0100 0000 0000", False),
    ],
)
def test_phone_numbers(text: str, ok: bool) -> None:
    assert is_phone_number(text) is ok


def test_office_contact_never_dangles() -> None:
    assert office_contact("", "") == ""
    assert office_contact("555-0100", "") == "; my office can be reached at 555-0100"
    assert office_contact("", "555-0101") == "; my office can be reached by fax at 555-0101"


def test_a_letter_without_phone_or_fax_does_not_say_the_office_can_be_reached() -> None:
    library = load_library()
    data = cidp_case_data()
    data["prescriber"]["phone"] = ""
    data["prescriber"]["fax"] = ""
    case = Case.model_validate(data, context={"today": TODAY})
    letter = build_letter_context(case, evaluate(case, library, TODAY), library, letter_date=TODAY)
    closing = " ".join(letter.closing)
    assert "can be reached" not in closing
    assert closing.rstrip().endswith("discuss this patient's care.")
