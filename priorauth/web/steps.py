"""The guided intake's steps, and which of the form's fields each one shows.

One table: the step pages, the step indicator, the error links and the draft
all read it. A field belongs to the step whose prefix its name starts with
("patient-first_name" → patient); names the table does not mention (the hidden
bookkeeping fields) belong to none.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    hint: str
    # Field names this step shows: an exact name, or a prefix ending in "-".
    fields: tuple[str, ...]

    def owns(self, name: str) -> bool:
        for owned in self.fields:
            if owned.endswith("-"):
                if name.startswith(owned):
                    return True
            elif name == owned or name.startswith(f"{owned}-"):
                return True
        return False


STEPS: tuple[Step, ...] = (
    Step(
        "patient",
        "Patient and coverage",
        "Who the request is for, their insurance, and the prescriber.",
        ("patient-", "coverage-", "prescriber-"),
    ),
    Step(
        "indication",
        "Indication",
        "The condition IVIG is requested for, found by name or ICD-10-CM code.",
        ("request_type",),
    ),
    Step(
        "questions",
        "Diagnosis and questions",
        "The diagnosis codes and what the payer asks about this indication.",
        ("icd10_codes", "icd10_code_typed", "answers-"),
    ),
    Step(
        "therapies",
        "Prior therapies",
        "Treatments tried before, with dates and why they stopped, and those never given.",
        ("prior_therapies-", "never_tried-"),
    ),
    Step(
        "measurements",
        "Measurements, safety and regimen",
        "The measurements the dose is computed from, the safety facts that change the "
        "product or the rate, the product and the schedule.",
        ("measurements-", "safety-", "regimen-", "site_of_care"),
    ),
    Step(
        "review",
        "Review and save",
        "Everything on one page, the clinical summary, and the checklist.",
        ("clinical_summary",),
    ),
)
STEP_KEYS = tuple(step.key for step in STEPS)
BY_KEY = {step.key: step for step in STEPS}
# Fields every step page carries as they are, outside any step.
BOOKKEEPING = frozenset(
    {"csrf_token", "action", "draft_id", "draft_version", "version", "readiness_step"}
)


def step_of(name: str) -> Step:
    """The step that shows a field (by its name or id); the review step for anything else."""
    return next((step for step in STEPS if step.owns(name)), STEPS[-1])


def next_step(key: str) -> Step | None:
    index = STEP_KEYS.index(key)
    return STEPS[index + 1] if index + 1 < len(STEPS) else None


def previous_step(key: str) -> Step | None:
    index = STEP_KEYS.index(key)
    return STEPS[index - 1] if index > 0 else None
