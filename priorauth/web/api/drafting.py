"""An intake draft started over the API, from part of a case or from a FHIR import.

Shared by the drafts and the FHIR endpoints (blueprints never import each other).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import url_for

from priorauth.domain.case import RequestType
from priorauth.store import drafts
from priorauth.store.models import IntakeDraft

from .. import context
from ..intake import formdata_for_case
from .errors import FieldError, fail
from .schemas import DraftOut, DraftSummary

# Keys of the intake form the request type decides, not the sent case.
_REQUEST_TYPE_FIELDS = ("request_type", "form_request_type")


def draft_summary(draft: IntakeDraft) -> DraftSummary:
    return DraftSummary(
        id=draft.id,
        indication_id=draft.indication_id,
        request_type=draft.request_type,
        continues_case_id=draft.continues_case_id,
        steps_saved=list(draft.steps_saved),
        version=draft.version_id,
        updated_at=draft.updated_at,
    )


def draft_out(draft: IntakeDraft) -> DraftOut:
    return DraftOut(
        **draft_summary(draft).model_dump(),
        formdata=draft.formdata,
        continue_at=url_for("drafts.step", draft_id=draft.id, step="patient"),
    )


def start_draft(
    case_part: Mapping[str, Any],
    *,
    indication_id: Any,
    indication_field: str,
    request_type: RequestType,
    detail: str,
) -> IntakeDraft:
    """Store a new draft filled with what ``case_part`` holds (in the request's transaction).

    422 by field for an unknown indication or a part of the case of the wrong shape.
    """
    if indication_id is not None and (
        not isinstance(indication_id, str) or indication_id not in context.library().indications
    ):
        fail(
            422,
            "",
            [FieldError(field=indication_field, message=f"unknown indication {indication_id!r}")],
        )
    try:
        # The same mapping that fills the edit form from a stored case.
        pairs = list(formdata_for_case(case_part).items(multi=True))
    except (AttributeError, TypeError, ValueError, KeyError):
        fail(422, "", [FieldError(field="case", message="a part of the case has the wrong shape")])
    pairs = [(k, v) for k, v in pairs if k not in _REQUEST_TYPE_FIELDS]
    pairs.append(("request_type", request_type.value))
    who = context.user()
    draft = drafts.create_draft(
        context.db(),
        organization_id=who.organization_id,
        user_id=who.id,
        formdata=pairs,
        indication_id=indication_id,
        request_type=request_type.value,
    )
    context.record("draft.create", "ok", detail=f"draft {draft.id} {detail}")
    return draft
