"""The PAdES signature of a signed document (pyHanko): make it, and check it.

The signature field sits on the letter's own signature line (the box the
renderer reports for it), so a reader shows the signature where a reviewer
looks for it. Checking needs no network: the chain is built only from the
certificates given (the installation's), and no revocation data is fetched.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from dataclasses import dataclass
from io import BytesIO

with warnings.catch_warnings():
    # pyHanko imports cryptography's DSA support, which cryptography deprecates.
    warnings.simplefilter("ignore")
    from asn1crypto.x509 import Certificate
    from pyhanko import stamp
    from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.registry import SimpleCertificateStore

# pyHanko logs a certificate it cannot chain (another clinic's, or a self-signed one not
# given as trusted) as a warning with a traceback; check_pdf reports it as "not trusted
# here" instead, so the server's log stays readable.
logging.getLogger("pyhanko.sign.validation.generic_cms").setLevel(logging.ERROR)

FIELD_NAME = "PhysicianSignature"
# What the reader shows in the field, over the signature line.
STAMP_TEXT = "Digitally signed by %(signer)s\n%(ts)s"
STAMP_TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class SignatureBox:
    """Where the visible signature goes: a page (from 0) and a rectangle in PDF points."""

    page: int
    left: float
    bottom: float
    right: float
    top: float


@dataclass(frozen=True)
class PadesCheck:
    """What the embedded signature says about a PDF."""

    signed: bool
    # The signed bytes are unchanged and the signature verifies against its certificate.
    intact: bool = False
    # The signature covers the whole file: nothing was appended after signing.
    whole_file: bool = False
    # The signer's certificate is one of those trusted here (the installation's).
    trusted: bool = False
    signer: str = ""
    signed_at: dt.datetime | None = None
    problem: str = ""

    @property
    def valid(self) -> bool:
        return self.signed and self.intact and self.whole_file


def _certificates(pem: bytes) -> list[Certificate]:
    return list(load_certs_from_pemder_data(pem))


def sign_pdf(
    pdf: bytes,
    *,
    key_pem: bytes,
    cert_pem: bytes,
    box: SignatureBox | None,
    signer_name: str,
    reason: str,
) -> bytes:
    """Add a PAdES signature (baseline B, SHA-256) over the whole PDF, visible in ``box``."""
    certificates = _certificates(cert_pem)
    signer = signers.SimpleSigner(
        signing_cert=certificates[0],
        signing_key=load_private_key_from_pemder_data(key_pem, None),
        cert_registry=SimpleCertificateStore.from_certs(certificates),  # type: ignore[no-untyped-call]
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    spec = fields.SigFieldSpec(
        sig_field_name=FIELD_NAME,
        on_page=box.page if box else 0,
        box=(round(box.left), round(box.bottom), round(box.right), round(box.top)) if box else None,
    )
    fields.append_signature_field(writer, spec)
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        name=signer_name,
    )
    style = stamp.TextStampStyle(
        stamp_text=STAMP_TEXT, timestamp_format=STAMP_TIME_FORMAT, border_width=0
    )
    out = BytesIO()
    signers.PdfSigner(metadata, signer=signer, stamp_style=style).sign_pdf(writer, output=out)
    return out.getvalue()


def check_pdf(pdf: bytes, *, trusted_pem: bytes | None = None) -> PadesCheck:
    """Check the PDF's last embedded signature, offline, against ``trusted_pem``."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as error:
        return PadesCheck(signed=False, problem=f"not a readable PDF ({type(error).__name__})")
    if not embedded:
        return PadesCheck(signed=False, problem="the PDF carries no digital signature")
    signature = embedded[-1]
    roots = _certificates(trusted_pem) if trusted_pem else []
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            status = validate_pdf_signature(signature, context)
    except (SigningError, ValueError) as error:
        return PadesCheck(signed=True, problem=f"the signature cannot be checked: {error}")
    signer = status.signing_cert.subject.human_friendly if status.signing_cert else ""
    name = signature.sig_object.get("/Name")
    whole = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    return PadesCheck(
        signed=True,
        intact=bool(status.intact and status.valid),
        whole_file=whole,
        trusted=bool(status.trusted),
        signer=str(name) if name else signer,
        signed_at=status.signer_reported_dt,
        problem=""
        if status.intact and status.valid
        else "the PDF was changed after it was signed, or the signature does not match",
    )
