"""A bounded property-based run of the OpenAPI document against the live app: no 5xx.

Schemathesis generates requests from /api/v1/openapi.json (valid and invalid
bodies, parameters and paths) and sends them over real HTTP to the app served by
werkzeug in a thread, with a billing token (the role that reaches every
operation). Every answer must be below 500.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from api_helpers import ApiWorld
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from web_helpers import cidp_case_data
from werkzeug.serving import make_server

from priorauth.web.api.fhir import interop_available

# Bounded: examples per operation, valid and invalid mixed; raise it locally for a longer hunt.
MAX_EXAMPLES = 40


@pytest.fixture
def live_url(api: ApiWorld) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, api.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_no_operation_answers_5xx(api: ApiWorld, live_url: str) -> None:
    # Something to find: a case with a document, and a draft.
    created = api.call("billing", "POST", "/api/v1/cases", json=cidp_case_data())
    assert created.status_code == 201
    api.call("billing", "POST", f"/api/v1/cases/{created.get_json()['id']}/documents", json={})
    api.draft("own")

    document = api.client.get("/api/v1/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(document)
    headers = api.headers("billing")
    failures: list[str] = []
    calls = 0

    skipped = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/drafts/fhir" and not interop_available():
            # Answers its documented 501 until priorauth.interop is merged (issue 13's
            # FHIR half); test_api_cases.py checks that answer.
            skipped.append(operation.path)
            continue

        # Valid requests and invalid ones (wrong types, missing fields, bad paths).
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=strategy)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            nonlocal calls
            response = case.call(base_url=live_url, headers=headers, timeout=60)
            calls += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]}"
                )

        run()

    print(
        f"schemathesis: {calls} requests, {len(failures)} with a 5xx answer; "
        f"skipped: {skipped or 'none'}"
    )
    assert calls > 0
    assert failures == [], "\n".join(failures[:20])
