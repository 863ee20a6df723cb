"""The intake form: built fresh from an indication's definition, read back into a Case.

WTForms checks only the shape of what arrives (``priorauth.web.fields``). Whether
a weight is plausible, an NPI valid or a code right for the indication is the
domain's and the rules' answer: ``reading`` carries those answers back to the
field they are about, so each error stands beside its field and in the summary
at the top, and nothing typed is lost.

- ``sections``: the fixed sections (patient, coverage, prescriber, measurements,
  therapies);
- ``building``: the whole form for an indication and request type, its
  questions made by one adapter per kind of fact (``fields.ADAPTERS``);
- ``reading``: the form read back into a Case, errors placed by their location;
- ``formdata``: the form's values as pairs (a stored case, a draft, a renewal)
  and the buttons that add and remove rows.
"""

from .building import (
    MAX_CODES,
    MAX_THERAPY_ROWS,
    IntakeForm,
    QuestionView,
    build_form_class,
    make_form,
    matching_indications,
    patient_step_form,
)
from .formdata import (
    ACTION_SAVE,
    apply_row_action,
    continuation_formdata,
    form_pairs,
    formdata_for_case,
    new_formdata,
)
from .reading import (
    error_summary,
    feet_and_inches,
    field_at,
    has_errors,
    read_case,
    read_patient_step,
)
from .sections import FEET_AND_INCHES, HEIGHT_UNIT_LABELS, REQUEST_TYPE_LABELS, SEX_LABELS

__all__ = [
    "ACTION_SAVE",
    "FEET_AND_INCHES",
    "HEIGHT_UNIT_LABELS",
    "MAX_CODES",
    "MAX_THERAPY_ROWS",
    "REQUEST_TYPE_LABELS",
    "SEX_LABELS",
    "IntakeForm",
    "QuestionView",
    "apply_row_action",
    "build_form_class",
    "continuation_formdata",
    "error_summary",
    "feet_and_inches",
    "field_at",
    "form_pairs",
    "formdata_for_case",
    "has_errors",
    "make_form",
    "matching_indications",
    "new_formdata",
    "patient_step_form",
    "read_case",
    "read_patient_step",
]
