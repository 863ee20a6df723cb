"""Checks for identifiers people type: NPI and ICD-10-CM codes, direction marks."""

from __future__ import annotations

import re

# Invisible characters that reorder or re-direct the text around them: a member
# ID typed as "EHP" U+202E "321000" shows as EHP000123 (the "Trojan Source"
# trick). The embeddings and overrides U+202A-202E, the isolates U+2066-2069 and
# the marks U+200E/U+200F (Unicode Standard Annex #9); no identifier or name
# needs them.
BIDI_CONTROLS = frozenset(
    chr(code) for code in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
)
BIDI_MESSAGE = (
    "Remove the invisible direction marks (pasted from another program?): they make the "
    "text read differently on screen and on paper."
)


def has_bidi_controls(text: str) -> bool:
    return any(ch in BIDI_CONTROLS for ch in text)


def refuse_bidi_controls(text: str) -> str:
    """The text unchanged, or ValueError when it holds a direction mark (a field validator)."""
    if has_bidi_controls(text):
        raise ValueError(BIDI_MESSAGE)
    return text


# ICD-10-CM: a letter, two characters (digit, digit or letter), then optionally a
# dot and one to four characters. The letter U is reserved for special use.
ICD10_CM_PATTERN = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")

# The NPI check digit is Luhn computed over "80840" + the first nine digits
# (CMS, NPI check-digit standard): the 80840 prefix adds a constant 24.
_NPI_PREFIX_SUM = 24


def normalise_icd10(code: str) -> str:
    """Upper-case a code and insert the dot after the third character if missing."""
    code = code.strip().upper()
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


def is_icd10_cm(code: str) -> bool:
    return bool(ICD10_CM_PATTERN.match(code))


def npi_check_digit(first_nine: str) -> int:
    total = _NPI_PREFIX_SUM
    # Luhn: double every second digit from the right of the payload, i.e. the
    # digits in positions 0, 2, 4, 6, 8 of the nine-digit base.
    for index, char in enumerate(first_nine):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(npi: str) -> bool:
    return len(npi) == 10 and npi.isdigit() and npi_check_digit(npi[:9]) == int(npi[9])


# A phone or fax number as people type it: digits with spaces, dots, dashes or
# brackets, an optional leading + and country code, an optional extension.
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ().\-]+((\s*(ext\.?|x)\s*)[0-9]{1,6})?$", re.IGNORECASE)
# A local number without its area code still reaches the office (the examples'
# 555-01xx numbers are the fictional range); fewer digits cannot be dialled.
PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15  # ITU-T E.164's longest number
PHONE_MESSAGE = (
    "enter a phone number a payer can dial: 7 to 15 digits, e.g. 555-010-0100 "
    "(or + and the country code), with an extension after 'ext' if any"
)


def is_phone_number(text: str) -> bool:
    """A number a payer can dial or fax: 7 to 15 digits, in the usual separators."""
    value = text.strip()
    if not _PHONE_CHARACTERS.match(value):
        return False
    main = re.split(r"(?i)\s*(?:ext\.?|x)\s*", value)[0]
    digits = sum(ch.isdigit() for ch in main)
    return PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS
