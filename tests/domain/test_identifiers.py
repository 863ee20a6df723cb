"""NPI check digits and ICD-10-CM code format."""

from __future__ import annotations

import pytest

from priorauth.domain.identifiers import (
    is_icd10_cm,
    is_valid_npi,
    normalise_icd10,
    npi_check_digit,
)


def test_npi_check_digit_by_hand() -> None:
    # CMS example: Luhn over 80840123456789 gives check digit 3.
    assert npi_check_digit("123456789") == 3


@pytest.mark.parametrize("npi", ["1234567893"])
def test_valid_npi(npi: str) -> None:
    assert is_valid_npi(npi)


@pytest.mark.parametrize(
    "npi",
    [
        "1234567890",  # wrong check digit
        "1234567894",
        "2234567893",  # one digit changed in the base
        "123456789",  # too short
        "12345678933",  # too long
        "12345678a3",
        "",
    ],
)
def test_invalid_npi(npi: str) -> None:
    assert not is_valid_npi(npi)


def test_every_single_digit_slip_is_caught() -> None:
    valid = "1234567893"
    for position in range(10):
        for digit in "0123456789":
            if digit == valid[position]:
                continue
            slipped = valid[:position] + digit + valid[position + 1 :]
            assert not is_valid_npi(slipped), slipped


@pytest.mark.parametrize("code", ["G61.81", "D83.9", "D80.0", "D81.89", "G11.3", "M33.10", "A41"])
def test_well_formed_icd10_cm(code: str) -> None:
    assert is_icd10_cm(code)


@pytest.mark.parametrize(
    "code",
    ["U07.1", "61.81", "G6", "G61.", "G61.81234", "G6181", "GG1.81", "g61.81", "", "G61 81"],
)
def test_malformed_icd10_cm(code: str) -> None:
    assert not is_icd10_cm(code)


@pytest.mark.parametrize(
    ("typed", "normal"),
    [("g61.81", "G61.81"), ("G6181", "G61.81"), (" d839 ", "D83.9"), ("A41", "A41")],
)
def test_normalise_icd10(typed: str, normal: str) -> None:
    assert normalise_icd10(typed) == normal
