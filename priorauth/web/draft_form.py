# mypy: disallow-subclassing-any=False
"""The intake form as a draft holds it: built from the draft's values, checked, reviewed.

A draft stores the form's values as typed (``intake.form_pairs``); these build
the whole form again, check it as saving would, sort its errors by the step that
shows each field, and list every answer for the review.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from flask import flash, redirect, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import BooleanField, Field, RadioField, SelectField, SelectMultipleField

from priorauth.domain.case import Case, RequestType
from priorauth.domain.facts import SPECIALTIES
from priorauth.rules.schema import IndicationDefinition
from priorauth.store import directory, repository
from priorauth.store.models import IntakeDraft

from . import context, intake, steps
from .fields import ErrorLink, leaves
from .intake import prefill


def definition_of(draft: IntakeDraft) -> IndicationDefinition | None:
    if draft.indication_id is None:
        return None
    return context.library().indications.get(draft.indication_id)


def formdata_of(pairs: Sequence[Sequence[str]]) -> MultiDict[str, str]:
    return MultiDict([(str(n), str(v)) for n, v in pairs if n not in steps.BOOKKEEPING])


def build(draft: IntakeDraft, formdata: MultiDict[str, str]) -> intake.IntakeForm:
    """The whole intake form for the draft's indication, or the first step's alone."""
    definition = definition_of(draft)
    library = context.library()
    if definition is None:
        return intake.patient_step_form(library, formdata)
    default = RequestType(draft.request_type)
    return intake.make_form(definition, library, formdata, default_request_type=default)


def check(form: intake.IntakeForm, draft: IntakeDraft) -> Case | None:
    """Run the domain's and the rules' checks, errors onto fields; the Case when it is one."""
    if definition_of(draft) is None:
        intake.read_patient_step(form, context.today(), context.library())
        return None
    return intake.read_case(form, context.library(), context.today(), new_request=True)


def step_url(draft_id: int, anchor: str = "", key: str | None = None) -> str:
    """Where a field is shown: its step's page, at the field."""
    step = steps.BY_KEY[key] if key else steps.step_of(anchor)
    url = url_for("drafts.step", draft_id=draft_id, step=step.key)
    return f"{url}#{anchor}" if anchor else url


def errors_by_step(form: intake.IntakeForm) -> dict[str, list[ErrorLink]]:
    found: dict[str, list[ErrorLink]] = {}
    for error in intake.error_summary(form):
        key = steps.step_of(error.anchor).key if error.anchor else "review"
        found.setdefault(key, []).append(error)
    return found


def hidden_fields(
    draft: IntakeDraft, step: steps.Step | None, form: intake.IntakeForm
) -> list[Any]:
    """The draft's values this page does not show, carried along as hidden fields."""
    shown_by_form = "form_request_type" in form._fields
    return [
        (name, value)
        for name, value in draft.formdata
        if name not in steps.BOOKKEEPING
        and not (shown_by_form and name == "form_request_type")
        and (step is None or not step.owns(name))
    ]


def closed_redirect(draft: IntakeDraft) -> Response | None:
    """Where a page of a finished or discarded draft leads (Back after saving lands here)."""
    if draft.closed_at is None:
        return None
    if draft.finished_case_id is not None:
        flash(f"This intake was saved as case {draft.finished_case_id}: here it is.", "info")
        return redirect(url_for("cases.assessment", case_id=draft.finished_case_id), code=303)
    flash("This draft was discarded. Start a new case from here.", "info")
    return redirect(url_for("dashboard.index"), code=303)


def problems_message(count: int, title: str) -> str:
    """The one message for a saved step that still has problems."""
    things = f"{count} thing{'s' if count != 1 else ''}"
    return (
        f"Saved. {things} on “{title}” still to fix before the case can be saved: "
        "the step is marked in the steps above."
    )


def next_step_to_show(
    draft: IntakeDraft, step: steps.Step, problems: dict[str, list[ErrorLink]]
) -> steps.Step:
    """The step "Save and continue" goes to: the next one; for a renewal, past the steps
    filled from the case it renews (saved, nothing to fix), so only what is new is asked."""
    following = steps.next_step(step.key) or step
    while (
        draft.continues_case_id is not None
        and following.key != "review"
        and following.key in draft.steps_saved
        and not problems.get(following.key)
    ) or (following.key == "therapies" and not _therapies_asked(draft)):
        following = steps.next_step(following.key) or following
    return following


def _therapies_asked(draft: IntakeDraft) -> bool:
    """Whether the treatments step is on the way: a criterion tests them, or some are entered."""
    definition = definition_of(draft)
    if definition is None:
        return True
    entered = any(
        name.startswith(("prior_therapies-", "never_tried")) and value
        for name, value in draft.formdata
    )
    try:
        request_type = RequestType(draft.request_type or RequestType.INITIAL.value)
    except ValueError:
        request_type = RequestType.INITIAL
    return entered or definition.asks_prior_therapies(request_type)


def summary_notice(draft: IntakeDraft, form: intake.IntakeForm) -> str:
    """A renewal whose clinical summary is still the renewed case's word for word: say so."""
    if draft.continues_case_id is None or "clinical_summary" not in form._fields:
        return ""
    previous = repository.get_case(
        context.db(), context.user().organization_id, draft.continues_case_id
    )
    old = str((previous.data if previous else {}).get("clinical_summary") or "").strip()
    if not old or (form.clinical_summary.data or "").strip() != old:
        return ""
    return (
        f"The clinical summary is case {draft.continues_case_id}'s, word for word: update it "
        "with the course since (response, current measures, dose changes) before saving."
    )


# --- the review: every answer on one page -------------------------------------------------


def _shown_value(item: Field) -> str:
    """A field's value as the person chose it (the option's label, not its code)."""
    data = item.data
    if isinstance(item, BooleanField):
        return "Yes" if data else ""
    if isinstance(item, SelectMultipleField):
        labels = {str(c[0]): str(c[1]) for c in _choices(item)}
        return ", ".join(labels.get(str(v), str(v)) for v in data or ())
    if isinstance(item, (SelectField, RadioField)):
        labels = {str(c[0]): str(c[1]) for c in _choices(item)}
        text = labels.get(str(data), "" if data is None else str(data))
        return "" if text in ("Choose…", "Not answered", "Usual for this request type") else text
    return "" if data is None else str(data).strip()


def _choices(item: Field) -> Iterator[tuple[Any, Any]]:
    for choice in item.iter_choices():
        # WTForms 3.3 yields (value, label, selected, render_kw); older versions three items.
        yield choice[0], choice[1]


# Shown as part of another field's value (the weight with its unit, the height in
# whichever unit it was typed).
_SHOWN_WITH_ANOTHER = frozenset(
    {
        "clinical_summary",
        "measurements-weight_unit",
        "measurements-height_unit",
        "measurements-height_feet",
        "measurements-height_inches",
    }
)


def _measures_with_units(form: intake.IntakeForm) -> dict[str, str]:
    """The weight and height as typed, each with its unit."""
    if "measurements" not in form._fields:
        return {}
    sub = form.measurements.form
    shown: dict[str, str] = {}
    weight = (sub.weight.data or "").strip()
    if weight:
        shown["measurements-weight"] = f"{weight} {sub.weight_unit.data}"
    if sub.height_unit.data == intake.FEET_AND_INCHES:
        feet = (sub.height_feet.data or "").strip()
        inches = (sub.height_inches.data or "").strip()
        if feet or inches:
            shown["measurements-height"] = f"{feet or 0} ft {inches or 0} in"
        else:
            shown["measurements-height"] = ""
    elif (sub.height.data or "").strip():
        shown["measurements-height"] = f"{sub.height.data.strip()} {sub.height_unit.data}"
    return shown


def review_sections(form: intake.IntakeForm) -> list[dict[str, Any]]:
    """Each step's answers as (label, value) rows, empty ones left out."""
    rows: dict[str, list[tuple[str, str]]] = {step.key: [] for step in steps.STEPS}
    with_units = _measures_with_units(form)
    for item, label in leaves(form):
        value = with_units.get(item.name, _shown_value(item))
        if not value or item.name in _SHOWN_WITH_ANOTHER:
            continue
        rows[steps.step_of(item.name).key].append((label, value))
    return [
        {"key": step.key, "title": step.title, "rows": rows[step.key]}
        for step in steps.STEPS
        if step.key not in ("indication", "review")
    ]


def first_regimen(draft: IntakeDraft, values: MultiDict[str, str]) -> MultiDict[str, str]:
    """The regimen step's first showing: the clinic's usual choices and the only phase."""
    definition = definition_of(draft)
    if definition is None:
        return values
    kept = directory.letterhead(context.db(), draft.organization_id)
    return prefill.regimen_defaults(
        values,
        definition,
        context.library().products,
        request_type=draft.request_type or RequestType.INITIAL.value,
        usual_site=kept.usual_site_of_care if kept is not None else "",
        usual_product=kept.usual_product_id if kept is not None else "",
    )


SPECIALTY_LABELS = dict(SPECIALTIES)
IndicationChoices = list[dict[str, str]]


def indication_choice(d: IndicationDefinition) -> dict[str, str]:
    """One indication as a choice on a page: its name, codes, summary and coverage."""
    return {
        "id": d.id,
        "name": d.name,
        "summary": d.summary.strip(),
        "codes": ", ".join(c.code for c in d.codes[:6]) + ("…" if len(d.codes) > 6 else ""),
        "coverage": d.coverage.value,
        # What filtering as you type matches (the page's script; the Search button without).
        "search": " ".join([d.name, d.short_name, d.id, *(c.code for c in d.codes)]).lower(),
    }


def indication_groups(query: str, specialty: str) -> list[tuple[str, IndicationChoices]]:
    """The indication step's choices: those matching the search, the prescriber's own field
    first (one click, no search), then the rest, every one choosable."""
    library = context.library()
    choices = [indication_choice(d) for d in intake.matching_indications(library, query)]
    wanted = "" if query else specialty
    suited = [c for c in choices if library.indications[c["id"]].suits_specialty(wanted)]
    others = [c for c in choices if c not in suited]
    return [
        (f"For the prescriber's specialty: {SPECIALTY_LABELS.get(wanted, wanted)}", suited),
        ("Other indications" if suited else "Indications", others),
    ]
