"""The signed copy: the signer in the letter's own signature block, the PAdES field on
its signature line; and the exception request a not-ready case is signed as."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdf
import pytest

from priorauth.documents import LETTER_TEMPLATE, Rendered
from priorauth.documents.exception import (
    EXCEPTION_REASON,
    REASON_HEADING,
    NoExceptionNeeded,
    draft_exception,
)
from priorauth.documents.pades import FIELD_NAME, check_pdf
from priorauth.documents.parts import SignedBy
from priorauth.documents.signed import SIGN_LINE_ID, sign_document
from priorauth.domain.case import Case
from priorauth.rules import evaluate
from priorauth.rules.library import Library
from priorauth.store.signing_cert import installation_certificate, signing_identity

TODAY = dt.date(2026, 11, 20)
SIGNER = SignedBy(
    name="Dana Example",
    credentials="MD",
    npi="1234567893",
    signed_on="November 20, 2026",
    signed_at="2026-11-20 15:04 UTC",
    attestation="I have read this letter in full (synthetic attestation).",
)


def test_the_signed_copy_is_the_letter_signed_on_its_own_line(
    render: Callable[..., Rendered[Any]], example_data: dict[str, Any], tmp_path: Path
) -> None:
    letter = render(example_data)
    assert SIGN_LINE_ID in letter.anchors  # the renderer reports where the line landed
    keys = signing_identity(tmp_path, "Demo Clinic (synthetic)")
    assert keys.self_signed
    assert (tmp_path / "signing" / "signing-key.pem").stat().st_mode & 0o077 == 0
    again = signing_identity(tmp_path, "Demo Clinic (synthetic)")
    assert again.cert_pem == keys.cert_pem  # made once per installation

    signed = sign_document(
        letter,
        LETTER_TEMPLATE,
        SIGNER,
        title=letter.context.pdf_title,
        key_pem=keys.key_pem,
        cert_pem=keys.cert_pem,
    )
    assert signed.on_signature_line
    assert signed.page_count == letter.page_count  # no page added
    reader = pypdf.PdfReader(io.BytesIO(signed.pdf))
    page_index = letter.anchors[SIGN_LINE_ID][0]
    page = reader.pages[page_index]
    text = " ".join(page.extract_text().split())
    assert "Signature (electronic): Dana Example, MD" in text
    assert "Date: November 20, 2026" in text
    assert "synthetic attestation" in text
    (widget,) = [
        a.get_object() for a in page.get("/Annots", []) if a.get_object().get("/T") == FIELD_NAME
    ]
    check = check_pdf(signed.pdf, trusted_pem=installation_certificate(tmp_path))
    assert check.valid and check.trusted
    assert check.signer == "Dana Example, MD"
    # Another installation's certificate: still intact, but not trusted here.
    other = tmp_path / "other"
    signing_identity(other, "Other Clinic (synthetic)")
    elsewhere = check_pdf(signed.pdf, trusted_pem=installation_certificate(other))
    assert elsewhere.valid and not elsewhere.trusted
    assert widget["/Rect"]


def test_an_unsigned_pdf_has_no_digital_signature(
    render: Callable[..., Rendered[Any]], example_data: dict[str, Any]
) -> None:
    check = check_pdf(render(example_data).pdf)
    assert not check.signed and not check.valid
    assert not check_pdf(b"not a pdf").signed


def test_a_not_ready_case_is_argued_as_an_exception_with_the_physicians_reason(
    library: Library, make_case: Callable[[dict[str, Any]], Case], example_data: dict[str, Any]
) -> None:
    example_data["prescriber"]["specialty"] = "internal_medicine"
    case = make_case(example_data)
    assessment = evaluate(case, library, TODAY)
    assert assessment.verdict.value == "not_ready"
    with pytest.raises(NoExceptionNeeded):
        draft_exception(case, assessment, library, letter_date=TODAY)
    reason = "No neurologist practises within reach of this patient (synthetic)."
    drafted = draft_exception(
        case, assessment, library, letter_date=TODAY, narrative={EXCEPTION_REASON: reason}
    )
    context = drafted.context
    assert REASON_HEADING in context.topics
    (section,) = [s for s in context.sections if s.key == EXCEPTION_REASON]
    assert section.narrative == (reason,)
    assert "Diagnosed and managed by a neurologist" in section.listed
