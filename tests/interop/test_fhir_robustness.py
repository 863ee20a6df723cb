"""Whatever comes in, the import answers with a draft or a field-level error, never a crash.

Hypothesis mutates the example Bundle and a prefilled QuestionnaireResponse
(a value replaced anywhere by text, a number, null, a list or an object) and
checks that each is either read or refused with FhirInputError. Bounded: a
few dozen examples each.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fhir_helpers import REPO_ROOT, read_example
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from priorauth.domain.case import Case
from priorauth.interop import FhirInputError, import_bundle
from priorauth.interop.response import prefill_response, read_response
from priorauth.rules import load_library

LIBRARY = load_library()
BUNDLE = json.loads((REPO_ROOT / "examples/fhir/cidp-initial-record.json").read_text("utf-8"))
_data, _as_of = read_example(REPO_ROOT / "examples" / "pid-initial-qualifies.json")
RESPONSE = prefill_response(LIBRARY, Case.model_validate(_data, context={"today": _as_of}))

JUNK = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
    st.booleans(),
    st.just([]),
    st.just({}),
    st.just({"reference": "Patient/someone-else"}),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    node: Any = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


BUNDLE_PATHS = _paths(BUNDLE)
RESPONSE_PATHS = _paths(RESPONSE)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(BUNDLE_PATHS), JUNK)
def test_a_mutated_bundle_is_read_or_refused(path: tuple[Any, ...], value: Any) -> None:
    try:
        result = import_bundle(_mutate(BUNDLE, path, value), LIBRARY)
    except FhirInputError as error:
        assert error.message
        return
    json.dumps(result.as_json())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(RESPONSE_PATHS), JUNK)
def test_a_mutated_response_is_read_or_refused(path: tuple[Any, ...], value: Any) -> None:
    try:
        result = read_response(LIBRARY, _mutate(RESPONSE, path, value))
    except FhirInputError as error:
        assert error.message
        return
    json.dumps(result.as_json())


def test_transaction_references_by_full_url_and_another_patient() -> None:
    bundle = copy.deepcopy(BUNDLE)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource.get("subject") == {"reference": "Patient/cidp-avery"}:
            resource["subject"] = {"reference": "urn:uuid:cidp-avery"}
    stranger = {
        "resourceType": "Observation",
        "id": "someone-elses-weight",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": "Patient/someone-else"},
        "effectiveDateTime": "2026-11-01",
        "valueQuantity": {"value": 50, "system": "http://unitsofmeasure.org", "code": "kg"},
    }
    bundle["entry"].append({"resource": stranger})
    result = import_bundle(bundle, LIBRARY)
    assert result.draft["answers"]["demyelination_on_electrodiagnostics"] is True
    assert result.draft["measurements"]["weight_unit"] == "lb"
    ignored = {item.item: item.reason for item in result.ignored}
    assert "another patient" in ignored["Observation/someone-elses-weight"]
