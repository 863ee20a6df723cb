"""Load the appeal examples in examples/appeal-*.json the way the web layer would."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from priorauth.documents.uploads import CheckedUpload, Upload, check_upload
from priorauth.domain.case import Case
from priorauth.domain.denial import Attachment, Denial, Justification
from priorauth.rules import evaluate
from priorauth.rules.assessment import Assessment
from priorauth.rules.library import Library

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
APPEAL_EXAMPLES = sorted(EXAMPLES_DIR.glob("appeal-*.json"))
TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}


@dataclass(frozen=True)
class Example:
    path: Path
    wrapper: dict[str, Any]
    as_of: dt.date
    case: Case
    assessment: Assessment
    denial: Denial
    justification: Justification | None
    uploads: tuple[Upload, ...]
    checked: tuple[CheckedUpload, ...]

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        return tuple(c.attachment for c in self.checked)


def load_example(path: Path, library: Library) -> Example:
    wrapper = json.loads(path.read_text(encoding="utf-8"))
    as_of = dt.date.fromisoformat(wrapper["as_of"])
    context = {"today": as_of}
    case = Case.model_validate(wrapper["case"], context=context)
    uploads = []
    for item in wrapper.get("attachments", []):
        file = path.parent / item["path"]
        uploads.append(
            Upload(
                filename=file.name,
                declared_type=TYPES[file.suffix],
                data=file.read_bytes(),
                enclosure_id=item.get("enclosure"),
                title=item.get("title", ""),
            )
        )
    justification = wrapper.get("justification")
    return Example(
        path=path,
        wrapper=wrapper,
        as_of=as_of,
        case=case,
        assessment=evaluate(case, library, as_of),
        denial=Denial.model_validate(wrapper["denial"], context=context),
        justification=(
            Justification.model_validate(justification) if justification is not None else None
        ),
        uploads=tuple(uploads),
        checked=tuple(check_upload(u) for u in uploads),
    )
