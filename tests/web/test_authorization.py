"""Every route × every role × own and another organization's case, against an explicit table.

The table below is the specification: one row per (endpoint, method[, variant]),
one expected status per role, for a case that is

- ``own``: the user's organization's, prescribed by the demo physician (their NPI)
  and assigned to the demo advocate;
- ``unassigned``: the user's organization's, another prescriber, no one assigned;
- ``other``: another organization's (it must look exactly like a case that does not
  exist: 404, or 403 when the role may not use the route at all).

Routes without a case have one expectation per role (``every``). The URL map is
walked, so a new route without a row fails ``test_every_route_has_a_row``. Each
request on a case must also leave an audit event naming that case.
Role order in every answer string: billing, physician, advocate, admin.
"""

from __future__ import annotations

import hashlib
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from web_helpers import (
    TODAY,
    another_valid_npi,
    blank_pdf,
    build_case,
    cidp_formdata,
    demo_account,
    log_in,
)

from priorauth.domain.identifiers import is_valid_npi
from priorauth.paths import forms_dir
from priorauth.store.db import make_engine, session_factory
from priorauth.store.drafts import create_draft
from priorauth.store.models import AuditEvent, CaseRecord, Document, Organization, User
from priorauth.store.passwords import hash_password
from priorauth.store.signatures import SIGNED_LETTER
from priorauth.store.workflow import TRANSITIONS
from priorauth.web.permissions import PUBLIC_ENDPOINTS, endpoint_permission
from priorauth.web.signing_terms import content_digest

ROLES = ("billing", "physician", "advocate", "admin")
KINDS = ("own", "unassigned", "other")
OTHER_ORGANIZATION = "Other Clinic (synthetic)"


@dataclass
class World:
    """What a row's data and URL builders may use."""

    record: CaseRecord
    advocate_id: int
    target_user_id: int  # an account an administrator may switch off (own or other org)
    counter: int
    draft_id: int | None = None  # an intake draft of the same organization as the case
    draft_version: int | None = None


Data = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    variant: str = ""
    setup: str = "draft"
    own: str = ""
    unassigned: str = ""
    other: str = ""
    every: str = ""  # routes without a case
    data: Data | None = None
    args: dict[str, Any] = field(default_factory=dict)
    # For routes about an account, not a case: "own" and "other" name its organization.
    about_user: bool = False
    # For routes about an intake draft: "own" and "other" name its organization.
    about_draft: bool = False

    @property
    def key(self) -> str:
        return f"{self.method} {self.endpoint}{f' [{self.variant}]' if self.variant else ''}"


def _fresh_npi(number: int) -> str:
    """A synthetic NPI that passes the check digit, different for each number."""
    return next(
        candidate
        for last in range(10)
        if is_valid_npi(candidate := f"1{number % 10**7:07d}9{last}") and candidate != "1234567893"
    )


def _directory_prescriber(world: World) -> dict[str, Any]:
    # A fresh NPI each time: the directory holds one prescriber per NPI.
    return {"name": "Pat Prescriber", "npi": _fresh_npi(world.counter), "specialty": "neurology"}


def _directory_payer(world: World) -> dict[str, Any]:
    return {"name": "Plan Example", "plan_type": "commercial", "payer_profile": "reference"}


def _profile_edit(world: World) -> dict[str, Any]:
    shipped = (forms_dir() / "payers" / "reference.toml").read_text(encoding="utf-8")
    return {
        "reason": "A test raises the version",
        "toml_text": shipped.replace('version = "1"', 'version = "1.1"', 1),
    }


def _directory_patient(world: World) -> dict[str, Any]:
    return {"first_name": "Jordan", "last_name": "Sample", "date_of_birth": "1970-01-01"}


def _version(world: World) -> dict[str, Any]:
    return {"version": str(world.record.version_id)}


def _edit(world: World) -> dict[str, Any]:
    formdata = cidp_formdata(version=str(world.record.version_id))
    return {key: formdata.getlist(key) for key in formdata}


def _create(_world: World) -> dict[str, Any]:
    formdata = cidp_formdata()
    return {key: formdata.getlist(key) for key in formdata}


def _sign(world: World) -> dict[str, Any]:
    return {
        "password": demo_account("physician").password,
        "read_it": "y",
        "content_version": str(world.record.content_version),
        # What the signing page would carry for this case today (no denial, no upload).
        "content_digest": content_digest(world.record, kind=SIGNED_LETTER, document_date=TODAY),
    }


def _exception_reason(world: World) -> dict[str, Any]:
    return {"exception_reason": "A reason (synthetic).", "version": str(world.record.version_id)}


# The required enclosures the cases here lack, confirmed as sent separately.
SEND_SEPARATELY = {"confirm_missing": "y", "reason": "Faxed by the lab (synthetic)."}


def _submission(world: World) -> dict[str, Any]:
    return {
        **_version(world),
        "submitted_on": "2026-11-19",
        "method": "fax",
        "payer_reference": "R1",
    }


def _approval(world: World) -> dict[str, Any]:
    return {
        **_version(world),
        "decided_on": "2026-11-20",
        "authorization_number": "A-1",
        "approved_units": "120",
        "start_date": "2026-11-20",
        "end_date": "2027-05-19",
    }


def _denial(world: World) -> dict[str, Any]:
    return {
        **_version(world),
        "decided_on": "2026-11-20",
        "reason": "Synthetic denial reason.",
        "respond_by": "2027-01-19",
    }


def _pend(world: World) -> dict[str, Any]:
    return {**_version(world), "decided_on": "2026-11-20", "reason": "Synthetic request."}


def _narrative(world: World) -> dict[str, Any]:
    return {**_version(world), "opening": "A rewritten opening, synthetic."}


def _new_account(world: World) -> dict[str, Any]:
    return {
        "name": "New Person",
        "email": f"new{world.counter}@demo.example",
        "role": "billing",
        "password": "a long enough password",
    }


def _assign(world: World) -> dict[str, Any]:
    return {"user_id": str(world.advocate_id)}


def _usage(_world: World) -> dict[str, Any]:
    return {"used_on": "2026-11-20", "units": "10"}


def _search(_world: World) -> dict[str, Any]:
    return {"q": "Testpatient", "state": "", "payer": ""}


def _readiness(_world: World) -> dict[str, Any]:
    formdata = cidp_formdata()
    return {key: formdata.getlist(key) for key in formdata}


def _first_step(_world: World) -> dict[str, Any]:
    return {
        "patient-first_name": "Jordan",
        "patient-last_name": "Sample",
        "coverage-payer_profile": "reference",
        "action": "later",
    }


def _draft_step(world: World) -> dict[str, Any]:
    return {
        **_first_step(world),
        "draft_id": str(world.draft_id),
        "draft_version": str(world.draft_version),
    }


def _denial_notice(world: World) -> dict[str, Any]:
    return {
        **_version(world),
        "date": "2026-11-18",
        "payer_reference": "PA-2026-0002",
        "reasons": ["step_therapy_not_met"],
        "reviewer_words": "A corticosteroid trial is required first (synthetic).",
        "level": "first_internal",
    }


def _upload(_world: World) -> dict[str, Any]:
    return {
        "file": (io.BytesIO(blank_pdf()), "ncs-report.pdf", "application/pdf"),
        "enclosure": "ncs_report",
        "title": "",
    }


def _verify_sha(world: World) -> dict[str, Any]:
    return {"sha256": world.record.documents[-1].sha256}


# Answers, role order: billing physician advocate admin.
READ = {"own": "200 200 200 403", "unassigned": "200 403 403 403", "other": "404 404 404 403"}
BILLING_POST = {
    "own": "303 403 403 403",
    "unassigned": "303 403 403 403",
    "other": "404 403 403 403",
}
BILLING_GET = {
    "own": "200 403 403 403",
    "unassigned": "200 403 403 403",
    "other": "404 403 403 403",
}
PHYSICIAN_POST = {
    "own": "403 303 403 403",
    "unassigned": "403 403 403 403",
    "other": "403 404 403 403",
}
PHYSICIAN_GET = {
    "own": "403 200 403 403",
    "unassigned": "403 403 403 403",
    "other": "403 404 403 403",
}


def _transition(name: str, setup: str, get: dict[str, str], post: dict[str, str], data: Data):
    return [
        Row("workflow.transition", "GET", name, setup, args={"name": name}, **get),
        Row("workflow.transition", "POST", name, setup, args={"name": name}, data=data, **post),
    ]


def _only(role_answer: str, kinds: tuple[str, ...] = KINDS) -> dict[str, str]:
    return dict.fromkeys(kinds, role_answer)


# The workflow transitions: (name, the state a case must be in, GET answers, POST answers).
BILLING_TRANSITION_GET = {
    "own": "200 403 403 403",
    "unassigned": "200 403 403 403",
    "other": "404 404 404 403",
}
BILLING_TRANSITION_POST = {
    "own": "303 403 403 403",
    "unassigned": "303 403 403 403",
    "other": "404 404 404 403",
}
BILLING_AND_ADVOCATE_GET = {
    "own": "200 403 200 403",
    "unassigned": "200 403 403 403",
    "other": "404 404 404 403",
}
BILLING_AND_ADVOCATE_POST = {
    "own": "303 403 303 403",
    "unassigned": "303 403 403 403",
    "other": "404 404 404 403",
}

# Routes with a permission of billing and advocates only (no workflow table involved):
# a physician or an administrator is refused before the case is looked up.
BILLING_AND_ADVOCATE_CASE_GET = {
    "own": "200 403 200 403",
    "unassigned": "200 403 403 403",
    "other": "404 403 404 403",
}
BILLING_AND_ADVOCATE_CASE_POST = {
    "own": "303 403 303 403",
    "unassigned": "303 403 403 403",
    "other": "404 403 404 403",
}
# The appeal letter and the peer-to-peer sheet: the physician prepares them too.
APPEAL_DOCUMENT_POST = {
    "own": "303 303 303 403",
    "unassigned": "303 403 403 403",
    "other": "404 404 404 403",
}

TABLE: list[Row] = [
    # --- public, and pages of every logged-in person ---
    Row("static", "GET", every="200 200 200 200", args={"filename": "app.css"}),
    Row("auth.login", "GET", every="302 302 302 302"),
    Row("auth.login", "POST", every="302 302 302 302", data=lambda _w: {}),
    Row("auth.logout", "POST", every="302 302 302 302", data=lambda _w: {}),
    Row("health.check", "GET", every="200 200 200 200"),
    Row("auth.change_password", "GET", every="200 200 200 200"),
    # Nothing typed: the form is shown again with its messages, to everyone.
    Row("auth.change_password", "POST", every="422 422 422 422", data=lambda _w: {}),
    Row("dashboard.index", "GET", every="200 200 200 200"),
    # The search is posted (no patient name in a URL); it lists only what each person reaches.
    Row("dashboard.index", "POST", every="200 200 200 200", data=_search),
    Row("reference.index", "GET", every="200 200 200 200"),
    Row("reference.show", "GET", every="200 200 200 200", args={"indication_id": "cidp"}),
    Row("reference.compare", "GET", every="200 200 200 200", args={"indication_id": "cidp"}),
    Row("reference.payer", "GET", every="200 200 200 200", args={"payer_id": "aetna"}),
    Row("reference.products", "GET", every="200 200 200 200"),
    Row("reference.product", "GET", every="200 200 200 200", args={"product_id": "privigen"}),
    Row("signing.verify", "GET", every="200 200 200 200"),
    # Verifying finds the organization's own signed letters only (checked in the text).
    Row(
        "signing.verify",
        "POST",
        setup="signed",
        own="200 200 200 200",
        other="200 200 200 200",
        data=_verify_sha,
        about_user=True,
    ),
    # --- starting a case: billing staff ---
    Row("cases.choose", "GET", every="200 403 403 403"),
    Row("cases.create", "GET", every="200 403 403 403", args={"indication_id": "cidp"}),
    Row(
        "cases.create",
        "POST",
        every="303 403 403 403",
        args={"indication_id": "cidp"},
        data=_create,
    ),
    # The live readiness check reads the posted form only: no stored case is involved.
    Row(
        "cases.readiness",
        "POST",
        every="200 403 403 403",
        args={"indication_id": "cidp"},
        data=_readiness,
    ),
    # --- the guided intake: drafts of new cases (billing staff) ---
    Row("drafts.start", "GET", every="200 403 403 403"),
    Row("drafts.begin", "POST", every="303 403 403 403", data=_first_step),
    Row(
        "drafts.step",
        "GET",
        own="200 403 403 403",
        other="404 403 403 403",
        args={"step": "patient"},
        about_draft=True,
    ),
    Row(
        "drafts.save_step",
        "POST",
        own="303 403 403 403",
        other="404 403 403 403",
        args={"step": "patient"},
        data=_draft_step,
        about_draft=True,
    ),
    Row(
        "drafts.discard",
        "POST",
        own="303 403 403 403",
        other="404 403 403 403",
        data=lambda _w: {},
        about_draft=True,
    ),
    # --- a case: reading ---
    Row("cases.assessment", "GET", **READ),
    Row("letters.show", "GET", **READ),
    Row("letters.preview", "GET", **READ),
    Row("letters.review_sheet", "GET", **READ),
    Row("documents.download", "GET", setup="draft+document", **READ),
    Row("costs.summary", "GET", **READ),
    Row("costs.preview", "GET", **READ),
    Row("costs.pdf", "GET", **READ),
    Row("costs.patient_sheet_pdf", "GET", **READ),
    Row("documents.view", "GET", setup="draft+document", **READ),
    Row("appeals.appeal", "GET", setup="denied+notice", **READ),
    Row("appeals.appeal_preview", "GET", setup="denied+notice", **READ),
    Row("appeals.appeal_review_sheet", "GET", setup="denied+notice", **READ),
    Row("attachments.index", "GET", **READ),
    Row("attachments.download", "GET", setup="draft+attachment", **READ),
    # --- a case: changing it ---
    Row("cases.edit", "GET", **BILLING_GET),
    Row("cases.edit", "POST", data=_edit, **BILLING_POST),
    Row(
        "letters.pdf",
        "POST",
        data=lambda _w: {},
        own="303 303 403 403",
        unassigned="303 403 403 403",
        other="404 404 403 403",
    ),
    Row("letters.narrative", "GET", **PHYSICIAN_GET),
    Row("letters.narrative", "POST", data=_narrative, **PHYSICIAN_POST),
    Row("signing.sign", "GET", setup="ready", **PHYSICIAN_GET),
    Row("signing.sign", "POST", setup="ready", data=_sign, **PHYSICIAN_POST),
    Row("exception_request.preview", "GET", setup="ready", **READ),
    Row(
        "exception_request.reason", "POST", setup="ready", data=_exception_reason, **PHYSICIAN_POST
    ),
    Row("workflow.assign", "POST", data=_assign, **BILLING_POST),
    # Renewal: a continuation draft from the case (billing staff start cases).
    Row("cases.continuation", "POST", setup="approved", data=lambda _w: {}, **BILLING_POST),
    # A re-check after a policy change is recorded by billing staff (who edit cases).
    Row("cases.recheck", "POST", data=lambda _w: {}, **BILLING_POST),
    # --- denials, appeals, attachments, packets: billing and advocates; the appeal's
    # documents physicians too ---
    Row("denials.notice", "GET", setup="denied", **BILLING_AND_ADVOCATE_CASE_GET),
    Row(
        "denials.notice",
        "POST",
        setup="denied",
        data=_denial_notice,
        **BILLING_AND_ADVOCATE_CASE_POST,
    ),
    Row(
        "appeals.appeal_pdf",
        "POST",
        setup="denied+notice",
        data=lambda _w: {},
        **APPEAL_DOCUMENT_POST,
    ),
    Row(
        "appeals.peer_to_peer_pdf",
        "POST",
        setup="denied+notice",
        data=lambda _w: {},
        **APPEAL_DOCUMENT_POST,
    ),
    Row("packet.pdf", "POST", data=lambda _w: SEND_SEPARATELY, **BILLING_AND_ADVOCATE_CASE_POST),
    Row("attachments.upload", "POST", data=_upload, **BILLING_AND_ADVOCATE_CASE_POST),
    Row(
        "attachments.remove",
        "POST",
        setup="draft+attachment",
        data=lambda _w: {},
        **BILLING_AND_ADVOCATE_CASE_POST,
    ),
    Row(
        "workflow.unassign",
        "POST",
        data=lambda _w: {},
        # "unassigned": the advocate is not assigned there, so there is nothing to remove.
        own="303 403 403 403",
        unassigned="404 403 403 403",
        other="404 403 403 403",
    ),
    Row("workflow.usage", "POST", setup="approved", data=_usage, **BILLING_POST),
    Row(
        "workflow.usage_remove", "POST", setup="approved+usage", data=lambda _w: {}, **BILLING_POST
    ),
    # --- the workflow: each transition, its state, and the roles it belongs to ---
    *_transition(
        "send_for_signature", "draft", BILLING_TRANSITION_GET, BILLING_TRANSITION_POST, _version
    ),
    *_transition(
        "return_to_draft",
        "ready",
        {"own": "200 200 403 403", "unassigned": "200 403 403 403", "other": "404 404 404 403"},
        {"own": "303 303 403 403", "unassigned": "303 403 403 403", "other": "404 404 404 403"},
        _version,
    ),
    # "sign" is a transition whose page is the signing page: the physician is sent there.
    *_transition(
        "sign",
        "ready",
        {"own": "403 303 403 403", "unassigned": "403 403 403 403", "other": "404 404 404 403"},
        {"own": "403 303 403 403", "unassigned": "403 403 403 403", "other": "404 404 404 403"},
        _version,
    ),
    *_transition("submit", "signed", BILLING_TRANSITION_GET, BILLING_TRANSITION_POST, _submission),
    *_transition(
        "approve", "submitted", BILLING_TRANSITION_GET, BILLING_TRANSITION_POST, _approval
    ),
    *_transition("deny", "submitted", BILLING_AND_ADVOCATE_GET, BILLING_AND_ADVOCATE_POST, _denial),
    *_transition("pend", "submitted", BILLING_TRANSITION_GET, BILLING_TRANSITION_POST, _pend),
    # An appeal needs the letter changed to answer the denial first ("denied+edited").
    *_transition(
        "appeal", "denied+edited", BILLING_AND_ADVOCATE_GET, BILLING_AND_ADVOCATE_POST, _version
    ),
    *_transition("close", "draft", BILLING_TRANSITION_GET, BILLING_TRANSITION_POST, _version),
    *_transition(
        "close_without_appeal",
        "denied",
        BILLING_AND_ADVOCATE_GET,
        BILLING_AND_ADVOCATE_POST,
        _version,
    ),
    *_transition(
        "no_such_transition",
        "draft",
        {"own": "404 404 404 403", "unassigned": "404 403 403 403", "other": "404 404 404 403"},
        {"own": "404 404 404 403", "unassigned": "404 403 403 403", "other": "404 404 404 403"},
        _version,
    ),
    # --- administration ---
    Row("admin.users", "GET", every="403 403 403 200"),
    Row("admin.new_user", "GET", every="403 403 403 200"),
    Row("admin.new_user", "POST", every="403 403 403 303", data=_new_account),
    Row(
        "admin.set_active",
        "POST",
        own="403 403 403 303",
        other="403 403 403 404",
        data=lambda _w: {"active": "0"},
        about_user=True,
    ),
    Row(
        "admin.sign_out",
        "POST",
        own="403 403 403 303",
        other="403 403 403 404",
        data=lambda _w: {},
        about_user=True,
    ),
    Row("admin.audit", "GET", every="403 403 403 200"),
    Row("admin.payers", "GET", every="403 403 403 200"),
    # The organization's own versions of payer profiles: administrators only.
    Row("payer_profiles.edit", "GET", every="403 403 403 200", args={"profile_id": "reference"}),
    Row(
        "payer_profiles.edit",
        "POST",
        every="403 403 403 303",
        args={"profile_id": "reference"},
        data=_profile_edit,
    ),
    Row("payer_profiles.history", "GET", every="403 403 403 200", args={"profile_id": "reference"}),
    Row(
        "payer_profiles.restore",
        "POST",
        every="403 403 403 404",
        args={"profile_id": "reference", "number": 999},
        data=lambda _w: {},
    ),
    Row("tokens.index", "GET", every="200 200 200 200"),
    Row(
        "tokens.create",
        "POST",
        every="201 201 201 201",
        data=lambda _w: {"name": "EHR interface", "lifetime": "30"},
    ),
    Row("tokens.revoke", "POST", every="404 404 404 404", args={"token_id": 999_999}),
    # --- the clinic's directory: billing staff and administrators; patients billing only ---
    Row("directory.index", "GET", every="200 403 403 200"),
    Row("directory.letterhead", "POST", every="303 403 403 303", data=lambda _w: {}),
    Row("directory.prescriber", "GET", every="200 403 403 200"),
    Row("directory.prescriber", "POST", every="303 403 403 303", data=_directory_prescriber),
    Row("directory.payer", "GET", every="200 403 403 200"),
    Row("directory.payer", "POST", every="303 403 403 303", data=_directory_payer),
    Row("directory.patients", "GET", every="200 403 403 403"),
    Row("directory.patient", "GET", every="200 403 403 403"),
    Row("directory.patient", "POST", every="303 403 403 403", data=_directory_patient),
]


def _answers(spec: str) -> dict[str, int]:
    codes = [int(code) for code in spec.split()]
    assert len(codes) == len(ROLES), spec
    return dict(zip(ROLES, codes, strict=True))


def _is_case_row(row: Row) -> bool:
    return not row.every and not row.about_user and not row.about_draft


def test_every_route_has_a_row(app: Flask) -> None:
    # The JSON API authenticates by token, not by session: its own table is
    # tests/web/api/test_api_roles.py.
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if not rule.endpoint.startswith("api")
    }
    rows = {(row.endpoint, row.method) for row in TABLE}
    assert routes - rows == set(), "routes without an expected answer"
    assert rows - routes == set(), "rows for routes that do not exist"
    # Each transition of the workflow table has its rows, GET and POST.
    covered = {row.variant for row in TABLE if row.endpoint == "workflow.transition"}
    assert set(TRANSITIONS) <= covered


def test_every_endpoint_declares_its_permission(app: Flask) -> None:
    for endpoint in app.view_functions:
        if endpoint not in PUBLIC_ENDPOINTS:
            assert endpoint_permission(app, endpoint) is not None, endpoint


class _Fixture:
    """The two organizations, their people, a logged-in client per role."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.engine = make_engine(app.config["PRIORAUTH_DATABASE_URL"])
        self.sessions = session_factory(self.engine)
        with self.sessions() as session:
            self.users = {
                role: session.scalars(
                    select(User).where(User.email == demo_account(role).email)
                ).one()
                for role in ROLES
            }
            self.demo_org = self.users["billing"].organization_id
            other = Organization(name=OTHER_ORGANIZATION)
            session.add(other)
            session.flush()
            self.other_billing = User(
                organization_id=other.id,
                email="billing@other.example",
                name="Other Billing",
                role="billing",
                password_hash=hash_password("other-clinic-pass"),
                credentials="MD",
                npi="1234567893",
            )
            session.add(self.other_billing)
            session.commit()
            self.other_org = other.id
        self.clients: dict[str, FlaskClient] = {}
        for role in ROLES:
            client = app.test_client()
            log_in(client, demo_account(role).email, demo_account(role).password)
            self.clients[role] = client
        self.counter = itertools.count(1)
        self.unassigned_npi = another_valid_npi()

    def close(self) -> None:
        self.engine.dispose()

    def world(self, row: Row, kind: str) -> World:
        with self.sessions() as session:
            if kind == "other":
                org, creator, signer, assign = (
                    self.other_org,
                    self.other_billing,
                    self.other_billing,
                    (),
                )
            else:
                org, creator, signer = self.demo_org, self.users["billing"], self.users["physician"]
                assign = (self.users["advocate"].id,) if kind == "own" else ()
            record = build_case(
                session,
                organization_id=org,
                creator_id=creator.id,
                signer=signer,
                setup=row.setup,
                prescriber_npi=self.unassigned_npi if kind == "unassigned" else None,
                assign_ids=assign,
            )
            list(record.documents)
            list(record.attachments)
            list(record.usage)
            list(record.denials)
            list(record.decisions)
            number = next(self.counter)
            target = User(
                organization_id=self.other_org if kind == "other" else self.demo_org,
                email=f"target{number}@example.org",
                name="Target Person",
                role="billing",
                password_hash="not-a-hash",
            )
            session.add(target)
            draft_id = draft_version = None
            if row.about_draft:
                draft = create_draft(
                    session,
                    organization_id=org,
                    user_id=creator.id,
                    formdata=[("patient-first_name", "Jordan"), ("patient-last_name", "Sample")],
                    steps_saved=["patient"],
                )
                draft_id, draft_version = draft.id, draft.version_id
            session.commit()
            return World(
                record, self.users["advocate"].id, target.id, number, draft_id, draft_version
            )

    def url(self, row: Row, world: World | None) -> str:
        values = dict(row.args)
        if world is not None:
            values.setdefault("case_id", world.record.id)
            if row.endpoint in ("documents.download", "documents.view"):
                values["document_id"] = world.record.documents[-1].id
            if row.endpoint == "workflow.unassign":
                values["user_id"] = world.advocate_id
            if row.endpoint in ("admin.set_active", "admin.sign_out"):
                values = {"user_id": world.target_user_id}
            if row.endpoint == "signing.verify":
                values = {}
            if row.endpoint == "workflow.usage_remove":
                values["usage_id"] = world.record.usage[-1].id
            if row.endpoint in ("attachments.download", "attachments.remove"):
                values["attachment_id"] = world.record.attachments[-1].id
            if row.about_draft:
                values.pop("case_id", None)
                values["draft_id"] = world.draft_id
        adapter = self.app.url_map.bind("localhost")
        return adapter.build(row.endpoint, values, method=row.method)

    def events_for(self, case_id: int) -> int:
        with self.sessions() as session:
            return session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id)
            )


def _client_for(fixture: _Fixture, row: Row, role: str) -> FlaskClient:
    if row.endpoint != "auth.logout":
        return fixture.clients[role]
    client = fixture.app.test_client()  # logging out must not end the shared sessions
    log_in(client, demo_account(role).email, demo_account(role).password)
    return client


def test_each_route_answers_each_role_as_the_table_says(app: Flask) -> None:
    fixture = _Fixture(app)
    mismatches: list[str] = []
    try:
        for row in TABLE:
            kinds = (
                [("", row.every)]
                if row.every
                else [(kind, getattr(row, kind)) for kind in KINDS if getattr(row, kind)]
            )
            for kind, spec in kinds:
                for role, expected in _answers(spec).items():
                    needs_world = bool(kind) or row.data is not None
                    world = fixture.world(row, kind or "own") if needs_world else None
                    client = _client_for(fixture, row, role)
                    url = fixture.url(row, world if kind else None)
                    data = row.data(world) if row.data and world else None
                    response = client.open(url, method=row.method, data=data)
                    where = f"{row.key} as {role}{f' on {kind} case' if kind else ''}"
                    if response.status_code != expected:
                        mismatches.append(f"{where}: {response.status_code}, expected {expected}")
                        continue
                    audited = world is None or fixture.events_for(world.record.id) > 0
                    if _is_case_row(row) and not audited:
                        mismatches.append(f"{where}: no audit event for the case")
                    if row.endpoint == "signing.verify" and row.method == "POST":
                        found = 'id="result-title">A signed document of record' in response.text
                        if found != (kind == "own"):
                            mismatches.append(f"{where}: verification crossed organizations")
    finally:
        fixture.close()
    assert not mismatches, "\n".join(mismatches)


def test_a_pdf_link_fails_after_logout(app: Flask, client: FlaskClient) -> None:
    fixture = _Fixture(app)
    try:
        world = fixture.world(Row("documents.download", "GET", setup="draft+document"), "own")
        url = fixture.url(Row("documents.download", "GET"), world)
        billing = fixture.clients["billing"]
        assert billing.get(url).status_code == 200
        billing.post("/logout")
        again = billing.get(url)
        assert again.status_code == 302
        assert "/login" in again.headers["Location"]
        # A guessed document id of the same case, or of another case, is not found.
        log_in(billing, demo_account("billing").email, demo_account("billing").password)
        other = fixture.world(Row("documents.download", "GET", setup="draft+document"), "other")
        guessed = url.rsplit("/", 1)[0] + f"/{other.record.documents[-1].id}"
        assert billing.get(guessed).status_code == 404
    finally:
        fixture.close()


def test_other_organizations_audit_entries_are_not_shown(app: Flask) -> None:
    fixture = _Fixture(app)
    try:
        world = fixture.world(Row("cases.assessment", "GET"), "other")
        # The other clinic's billing opens its case: an event of the other organization.
        other = app.test_client()
        log_in(other, "billing@other.example", "other-clinic-pass")
        assert other.get(f"/cases/{world.record.id}").status_code == 200
        page = fixture.clients["admin"].get("/admin/audit", query_string={"case": world.record.id})
        assert page.status_code == 200
        assert "No events." in page.text
    finally:
        fixture.close()


def test_document_sha_is_what_was_stored(app: Flask) -> None:
    """The document route serves the stored bytes; the ETag is their SHA-256."""
    fixture = _Fixture(app)
    try:
        world = fixture.world(Row("documents.download", "GET", setup="draft+document"), "own")
        url = fixture.url(Row("documents.download", "GET"), world)
        response = fixture.clients["advocate"].get(url)
        with fixture.sessions() as session:
            stored = session.get(Document, world.record.documents[-1].id)
            assert stored is not None
            assert response.data == stored.pdf
            assert hashlib.sha256(response.data).hexdigest() == stored.sha256
    finally:
        fixture.close()


def test_setups_reach_their_states(app: Flask) -> None:
    """The table's setups put a case in the state they name (guards the table itself)."""
    fixture = _Fixture(app)
    try:
        for setup, state in (
            ("draft", "draft"),
            ("ready", "ready_for_signature"),
            ("signed", "signed"),
            ("submitted", "submitted"),
            ("approved", "approved"),
            ("denied", "denied"),
            ("pended", "pended"),
        ):
            world = fixture.world(Row("cases.assessment", "GET", setup=setup), "own")
            assert world.record.state == state, setup
    finally:
        fixture.close()
