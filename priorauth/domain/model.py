"""The base every part of a case is built on: frozen models and bounded text.

Every text a person types has a stated limit (200 characters, 4,000 for long
text); the validation date comes from the context so tests and replays can pin it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationInfo

from .identifiers import refuse_bidi_controls

EARLIEST_DATE = dt.date(1900, 1, 1)

# No text holds a direction mark (identifiers.BIDI_CONTROLS), whichever way it came in.
NoBidi = AfterValidator(refuse_bidi_controls)
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NoBidi]
RequiredText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoBidi
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), NoBidi]


def validation_today(info: ValidationInfo) -> dt.date:
    """The validation date: from the context when given (tests, replays), else today."""
    context = info.context or {}
    today = context.get("today")
    return today if isinstance(today, dt.date) else dt.date.today()


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
