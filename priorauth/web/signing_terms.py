"""What a signature may be, and what it covers: read from the stored verdict and the case.

The rules decide readiness (the stored ``Assessment``); this module only reads
it. A case judged not ready is never signed as a standard request: the
physician may sign it as a medical-exception request, with a reason of their
own. A case ready with warnings is signed only after the warnings (and the
serious safety flags) are acknowledged on the signing page.

A signature covers exactly what the signing page showed: ``content_digest``
hashes the content version, the document's date and kind, the recorded denial,
and every enclosure the document names (each upload's id and SHA-256). The page
carries the digest; a POST whose digest no longer matches signs nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from priorauth.documents.exception import EXCEPTION_REASON
from priorauth.domain.case import Case
from priorauth.rules.assessment import Assessment, Verdict
from priorauth.store import casework
from priorauth.store.models import CaseRecord, CaseState
from priorauth.store.signatures import SIGNED_EXCEPTION, current_signature

NOT_READY_SEND = (
    "The rules judge this case not ready, so it cannot go for signature as a standard "
    "request. Complete what is missing, or send it for signature as a medical-exception "
    "request: the physician then records the reason for the exception and signs that."
)
NOT_READY_SIGN = (
    "This case is not ready, so it cannot be signed as a standard request. To sign it, "
    "record your reason for a medical exception: the request then says so and argues it."
)
ACKNOWLEDGE = "Confirm that you have read the warnings and safety flags above."
FOR_PRESCRIBER = (
    "Confirm that you sign for the prescribing physician named above: the letter will say so."
)


@dataclass(frozen=True)
class SigningTerms:
    """How the stored verdict lets this case be signed."""

    verdict: Verdict
    # Not ready: only as a medical-exception request, with the physician's reason.
    exception_only: bool
    # What the signer must acknowledge: the verdict's reasons and the serious safety flags.
    warnings: tuple[str, ...]

    @property
    def needs_acknowledgement(self) -> bool:
        return bool(self.warnings)


def signing_terms(assessment: Assessment, *, appeal: bool = False) -> SigningTerms:
    """The terms of signing under this assessment; an appeal argues its own case."""
    not_ready = assessment.verdict is Verdict.NOT_READY
    flags = tuple(f"{flag.title}: {flag.message}" for flag in assessment.safety.serious())
    reasons = assessment.verdict_reasons if assessment.verdict is not Verdict.READY else ()
    return SigningTerms(
        verdict=assessment.verdict,
        exception_only=not_ready and not appeal,
        warnings=tuple(dict.fromkeys((*reasons, *flags))),
    )


def signs_for_prescriber(case: Case, signer_name: str, signer_npi: str | None) -> str:
    """The prescriber the signer signs for, named as the letter names them, when the
    case's prescriber is another physician (by NPI); "" when the signer is the prescriber."""
    prescriber = case.prescriber
    if signer_npi and signer_npi == prescriber.npi:
        return ""
    if not signer_npi and signer_name.strip().casefold() == prescriber.name.strip().casefold():
        return ""
    return f"{prescriber.name}, {prescriber.credentials} (NPI {prescriber.npi})"


def stored_reason(record: CaseRecord) -> str:
    """The physician's reason for a medical exception, as saved with the case ("" if none)."""
    return str((record.narrative or {}).get(EXCEPTION_REASON, ""))


def content_digest(record: CaseRecord, *, kind: str, document_date: dt.date) -> str:
    """The SHA-256 of everything the signing page shows and the signed PDF will carry."""
    denial = casework.current_denial(record)
    covered = {
        "case_id": record.id,
        "content_version": record.content_version,
        "kind": kind,
        "document_date": document_date.isoformat(),
        "denial_id": denial.id if denial is not None else None,
        "enclosures": [
            [a.id, a.sha256, a.enclosure_id or "", a.title]
            for a in casework.active_attachments(record)
        ],
    }
    text = json.dumps(covered, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ready_to_submit(record: CaseRecord, verdict: Verdict | None) -> bool:
    """Signed with a current signature the verdict allows: a not-ready case only as an
    exception request (a standard letter signed before the verdict changed is not)."""
    signature = current_signature(record)
    if record.state != CaseState.SIGNED or signature is None:
        return False
    return verdict is not Verdict.NOT_READY or signature.document.kind == SIGNED_EXCEPTION


def needs_resigning(record: CaseRecord) -> bool:
    """A signature was superseded and the current content carries none."""
    return current_signature(record) is None and any(
        s.superseded_at is not None for s in record.signatures
    )
