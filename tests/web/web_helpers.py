"""Helpers for web tests: log in as a demo account, fill the CIDP intake form, read pages."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from priorauth.store.seed import DEMO_ACCOUNTS
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
