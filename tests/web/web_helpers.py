"""Helpers for web tests: log in as a demo account, fill the CIDP intake form, read pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from pypdf import PdfWriter
from werkzeug.datastructures import MultiDict

from priorauth.domain.identifiers import is_valid_npi
from priorauth.store import casework, repository
from priorauth.store.models import CaseState, DecisionOutcome, User
from priorauth.store.seed import DEMO_ACCOUNTS
from priorauth.store.signatures import SIGNED_LETTER, record_signature
from priorauth.web.intake import formdata_for_case

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CIDP_EXAMPLE = EXAMPLES / "cidp-initial-qualifies.json"
# The day the web tests live on (the app fixture's PRIORAUTH_TODAY).
TODAY = dt.date(2026, 11, 20)


def demo_account(role: str) -> Any:
    return next(account for account in DEMO_ACCOUNTS if account.role == role)


def log_in(client: FlaskClient, email: str, password: str) -> None:
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.text


def log_in_demo(client: FlaskClient, role: str = "billing") -> None:
    account = demo_account(role)
    log_in(client, account.email, account.password)


def cidp_case_data() -> dict[str, Any]:
    """The synthetic CIDP case that qualifies, as the domain dumps it."""
    data = json.loads(CIDP_EXAMPLE.read_text(encoding="utf-8"))
    return data.get("case", data)  # bare, or wrapped with its description


def cidp_formdata(**changes: str) -> MultiDict[str, str]:
    """The intake form's fields for the example CIDP case, with some fields replaced."""
    formdata = formdata_for_case(cidp_case_data())
    for name, value in changes.items():
        formdata.setlist(name, [value])
    return formdata


def page_text(body: str) -> str:
    """The visible text of a page, tags removed and entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(without_tags)).strip()


def field_error(body: str, field_id: str) -> str:
    """The error message shown beside a field, or '' when there is none."""
    match = re.search(rf'id="{re.escape(field_id)}-error"[^>]*>(.*?)</p>', body, re.S)
    return page_text(match.group(1)).removeprefix("Error: ") if match else ""


def input_value(body: str, field_id: str) -> str | None:
    """The value attribute of an input, as the browser would show it."""
    tag = re.search(rf'<input[^>]*\bid="{re.escape(field_id)}"[^>]*>', body)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else ""


def summary_links(body: str) -> list[str]:
    """The anchors the error summary links to."""
    summary = re.search(r'class="error-summary".*?</div>', body, re.S)
    return re.findall(r'href="#([^"]+)"', summary.group(0)) if summary else []


def create_case(client: FlaskClient, formdata: MultiDict[str, str] | None = None) -> int:
    """Create a case through the form; return its id."""
    response = client.post("/cases/new/cidp", data=formdata or cidp_formdata())
    assert response.status_code == 303, page_text(response.text)[:2000]
    match = re.fullmatch(r"/cases/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


# --- cases in a given workflow state, made directly in the store (no rendering) ------------

WORKFLOW_SETUPS = (
    "draft",
    "draft+document",
    "draft+attachment",
    "ready",
    "signed",
    "submitted",
    "approved",
    "denied",
    "denied+edited",
    "denied+notice",
    "pended",
)

# A recorded denial notice for "denied+notice" (the domain's shape, as JSON).
DENIAL_NOTICE = {
    "date": TODAY.isoformat(),
    "payer_reference": "PA-2026-0001",
    "reasons": [
        {
            "category": "step_therapy_not_met",
            "reviewer_words": "A trial of corticosteroids is required first (synthetic).",
        }
    ],
    "reviewer_words": "Step therapy not met (synthetic).",
    "level": "first_internal",
}


def blank_pdf(pages: int = 1) -> bytes:
    """A small, valid, synthetic PDF of blank US Letter pages."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def another_valid_npi(not_this: str = "1234567893") -> str:
    """A synthetic NPI that passes the check digit and is not the demo physician's."""
    for last in range(10):
        candidate = f"123456780{last}"
        if candidate != not_this and is_valid_npi(candidate):
            return candidate
    raise AssertionError("no valid NPI found")


def build_case(
    session: Any,
    *,
    organization_id: int,
    creator_id: int,
    signer: Any,
    setup: str = "draft",
    prescriber_npi: str | None = None,
    assign_ids: tuple[int, ...] = (),
) -> Any:
    """A case of an organization in the workflow state ``setup``, committed.

    Signed states carry a signature with a small synthetic PDF (unique bytes), so
    no rendering is needed.
    """
    data = cidp_case_data()
    if prescriber_npi is not None:
        data["prescriber"]["npi"] = prescriber_npi
    record = repository.create_case(
        session, organization_id=organization_id, user_id=creator_id, data=data, assessment=None
    )
    for user_id in assign_ids:
        person = session.get(User, user_id)
        casework.assign(session, record, person, assigned_by_id=creator_id)
    if setup == "draft+document":
        repository.add_document(
            session,
            record,
            kind="letter",
            pdf=f"%PDF-1.7 synthetic draft of case {record.id}".encode(),
            letter_date=TODAY,
            definition_versions={"indication:cidp": "test"},
            assessment={},
            case_snapshot=data,
            user_id=creator_id,
        )
    decided = ("approved", "approved+usage", "denied", "denied+edited", "denied+notice", "pended")
    if setup == "draft+attachment":
        data_pdf = blank_pdf()
        casework.add_attachment(
            session,
            record,
            casework.AttachmentDetails(
                filename="ncs-report.pdf",
                media_type="application/pdf",
                size_bytes=len(data_pdf),
                sha256=hashlib.sha256(data_pdf).hexdigest(),
                pages=1,
                enclosure_id="ncs_report",
                title="",
                data=data_pdf,
            ),
            user_id=creator_id,
        )
    if setup in ("ready", "signed", "submitted", *decided):
        repository.change_state(session, record, CaseState.READY_FOR_SIGNATURE, user_id=creator_id)
    if setup in ("signed", "submitted", *decided):
        document = repository.add_document(
            session,
            record,
            kind=SIGNED_LETTER,
            pdf=f"%PDF-1.7 synthetic signed letter of case {record.id}".encode(),
            letter_date=TODAY,
            definition_versions={"indication:cidp": "test"},
            assessment={},
            case_snapshot=data,
            user_id=signer.id,
        )
        record_signature(
            session,
            record,
            document=document,
            signer_id=signer.id,
            signer_name=signer.name,
            signer_credentials=signer.credentials or "MD",
            signer_npi=signer.npi or "1234567893",
        )
    if setup in ("submitted", *decided):
        casework.record_submission(
            session,
            record,
            casework.SubmissionDetails(submitted_on=TODAY - dt.timedelta(days=3), method="fax"),
            user_id=creator_id,
        )
    approved = setup.startswith("approved")
    if setup in decided:
        outcome = DecisionOutcome(setup.split("+")[0])
        casework.record_decision(
            session,
            record,
            casework.DecisionDetails(
                outcome=outcome,
                decided_on=TODAY,
                authorization_number="AUTH-1" if approved else None,
                approved_units=100 if approved else None,
                start_date=TODAY if approved else None,
                end_date=TODAY + dt.timedelta(days=180) if approved else None,
                reason="" if approved else "Synthetic reason.",
                respond_by=TODAY + dt.timedelta(days=30) if not approved else None,
            ),
            user_id=creator_id,
        )
    if setup == "approved+usage":
        casework.record_usage(session, record, used_on=TODAY, units=40, user_id=creator_id)
    if setup == "denied+notice":
        repository.record_denial(
            session,
            record,
            expected_version=record.version_id,
            user_id=creator_id,
            data=DENIAL_NOTICE,
            decision_id=record.decisions[-1].id,
        )
    if setup == "denied+edited":
        # Rewritten to answer the denial: the signature is superseded, ready to appeal.
        repository.update_narrative(
            session,
            record,
            expected_version=record.version_id,
            user_id=signer.id,
            narrative={"justification": "Rewritten to answer the denial (synthetic)."},
        )
    session.commit()
    return record


def signing_fields(body: str) -> dict[str, str]:
    """The hidden fields of a signing page (its content version and digest), to post back."""
    fields = {}
    for name in ("content_version", "content_digest"):
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', body)
        assert found, f"{name} is not on the signing page"
        fields[name] = found.group(1)
    return fields
