"""The case's answer to each question a reviewer asks: are the criteria met? were the
prior treatments tried? is the dose within the regimen? why this site, this product?

Each function reads an ``Evidence`` and returns a ``Part``: plain values, and
whether they answer the question. A criterion not met is named as unsupported,
never written up as met. The wording around the evidence comes from
forms/appeals.toml, through the documents that place these parts.
"""

from __future__ import annotations

from collections.abc import Sequence

from priorauth.domain.case import SITE_LABELS
from priorauth.domain.denial import (
    DOSE_GROUND_LABELS,
    MEDIA_TYPE_LABELS,
    PRODUCT_GROUND_LABELS,
    SITE_GROUND_LABELS,
    Attachment,
    DenialReason,
    DeniedReason,
)
from priorauth.domain.treatment_history import OUTCOME_LABELS
from priorauth.rules.assessment import Status
from priorauth.rules.schema import (
    AnyOfCriterion,
    CoverageStatus,
    CriterionBase,
    StepTherapyCriterion,
)

from .doubts import Doubt, DoubtKind, Marked, unverified
from .evidence import DENIAL_NOTICE_ENCLOSURE, Evidence, EvidenceItem, Part
from .parts import Row, therapy_rows
from .response import dose_reduction_text
from .treatment import CATALOG, treatment
from .wording import format_short_date, paragraphs, plural, without_source_tags

DOSE_ROW_LABELS = ("Dose per course", "Dose per infusion day", "Dosing weight", "Interval")


def _contains(criterion: CriterionBase, kind: type[CriterionBase]) -> bool:
    if isinstance(criterion, kind):
        return True
    if isinstance(criterion, AnyOfCriterion):
        return any(_contains(child, kind) for child in criterion.criteria)
    return False


def _files(attachments: Sequence[Attachment]) -> str:
    return "; ".join(
        f"{a.label} ({MEDIA_TYPE_LABELS[a.media_type]}, {plural(a.pages, 'page')})"
        for a in attachments
    )


def _choice(
    rows: list[Marked[Row]],
    items: list[Marked[EvidenceItem]],
    narrative: tuple[str, ...],
    *,
    grounds: bool,
    preferred: bool,
    missing: str,
) -> Part:
    """A site or product choice: argued on the physician's grounds, or needing none.

    A preferred choice needs no argument, unless the physician gives grounds anyway.
    """
    needs_none = preferred and not grounds
    return Part(
        rows=tuple(rows),
        items=tuple(items),
        narrative=narrative,
        supported=grounds or needs_none,
        unsupported=() if grounds or needs_none else (missing,),
        alternative=needs_none,
    )


def medical_necessity(ev: Evidence) -> Part:
    items = list(ev.met_items(ev.assessment.criteria))
    within = ev.dose_within_item()
    if within is not None:
        items.append(within)
    unmet = ev.unmet_required()
    return Part(
        items=tuple(items),
        measures=ev.measures(),
        note=dose_reduction_text(ev.case),
        supported=not unmet,
        unsupported=unmet,
    )


def criteria(ev: Evidence, criterion_ids: Sequence[str]) -> Part:
    items, unsupported = [], []
    for criterion_id in criterion_ids:
        result = ev.result(criterion_id)
        if result is None:
            criterion = next(c for c in ev.definition.all_criteria() if c.id == criterion_id)
            applies = " and ".join(t.value for t in criterion.applies_to)
            items.append(
                Marked(
                    EvidenceItem(
                        criterion.title,
                        f"Under the criteria applied, this applies to {applies} requests only; "
                        f"this is a {ev.case.request_type.value} request.",
                        ev.cite(criterion.citations),
                    ),
                    unverified(criterion.unverified, criterion.note),
                )
            )
        elif result.status is Status.MET:
            items.append(ev.met_item(result))
        else:
            unsupported.append(result.title)
    return Part(items=tuple(items), supported=not unsupported, unsupported=tuple(unsupported))


def step_therapy(ev: Evidence) -> Part:
    request = ev.case.request_type
    tops = [
        c
        for c in ev.definition.criteria
        if request in c.applies_to and _contains(c, StepTherapyCriterion)
    ]
    therapies = therapy_rows(ev.case)
    if not tops:
        return Part(therapies=therapies, alternative=True)
    results = [r for r in (ev.result(c.id) for c in tops) if r is not None]
    unmet = tuple(r.title for r in results if r.required and r.status is not Status.MET)
    return Part(
        items=ev.met_items(results),
        therapies=therapies,
        supported=not unmet,
        unsupported=unmet,
    )


def dose(ev: Evidence) -> Part:
    block = treatment(ev.case, ev.assessment, ev.library, ev.definition, ev.refs)
    dose_rows = tuple(r for r in block.rows if r.item.label in DOSE_ROW_LABELS)
    check = ev.assessment.dose
    if check.dose is None:
        reason = "; ".join(f.message for f in check.findings) or "the dose cannot be computed"
        return Part(rows=dose_rows, supported=False, unsupported=(reason,))
    excess = check.excess
    issues = (
        tuple(f"Requested: {text}." for text in excess)
        if excess
        else tuple(f.message for f in check.findings)
    )
    if not issues:
        return Part(
            rows=dose_rows,
            paragraphs=block.dosing,
            paragraph_refs=block.dosing_refs,
            measures=ev.measures(),
            note=dose_reduction_text(ev.case),
        )
    items = [Marked(EvidenceItem(DOSE_GROUND_LABELS[g])) for g in ev.justification.dose]
    if check.limit_text:
        items.append(ev.limit_item(f"The {check.limit_label.lower()} regimen for {ev.indication}"))
    narrative = paragraphs(ev.justification.dose_details)
    grounds = bool(ev.justification.dose or narrative)
    return Part(
        rows=dose_rows,
        paragraphs=block.dosing,
        listed=issues,
        items=tuple(items),
        measures=ev.measures(),
        note=dose_reduction_text(ev.case),
        narrative=narrative,
        supported=grounds,
        unsupported=() if grounds else tuple(excess or issues),
        alternative=True,
    )


def indication(ev: Evidence) -> Part:
    items: list[Marked[EvidenceItem]] = []
    if ev.assessment.coverage is CoverageStatus.STANDARD:
        used = [cid for c in ev.definition.all_criteria() for cid in c.citations]
        used += [cid for limit in ev.definition.dosing for cid in limit.citations]
        numbers = ev.cite(dict.fromkeys(used))
        if numbers:
            items.append(
                Marked(
                    EvidenceItem(
                        f"Published guidelines and coverage criteria for immune globulin in "
                        f"{ev.indication}",
                        f"{plural(len(numbers), 'source')}, listed under References.",
                        numbers,
                    )
                )
            )
        found = ev.assessment.product
        if found is not None and found.labeled:
            items.append(
                Marked(
                    EvidenceItem(f"{found.name}'s label lists {ev.indication}"),
                    unverified(found.labeled_unverified, CATALOG),
                )
            )
        items.extend(ev.met_items(ev.assessment.criteria))
        return Part(items=tuple(items))
    unmet = ev.unmet_required()
    return Part(
        listed=ev.assessment.exception_needs,
        items=ev.met_items(ev.assessment.criteria),
        narrative=paragraphs(ev.justification.indication_details),
        supported=not unmet,
        unsupported=unmet,
        alternative=True,
    )


def site(ev: Evidence) -> Part:
    found = ev.assessment.site
    rows = [Marked(Row("Site of care requested", SITE_LABELS[ev.case.site_of_care]))]
    preference = found.preference if found is not None else ""
    if found is not None and preference:
        rows.append(
            Marked(
                Row("Site-of-care programs", preference.capitalize()),
                (
                    Doubt(
                        "What site-of-care programs say, as the reference notes read "
                        "them; this payer's own program may differ.",
                        found.preference_source,
                        DoubtKind.NOTE,
                    ),
                ),
            )
        )
    for payer_note in found.payer_notes if found is not None else ():
        rows.append(
            Marked(
                Row(
                    f"{ev.assessment.payer_name} policy",
                    payer_note.text,
                    note=f"{without_source_tags(payer_note.source)}, {payer_note.as_of}",
                ),
                unverified(payer_note.unverified, payer_note.source),
            )
        )
    items = [Marked(EvidenceItem(SITE_GROUND_LABELS[g])) for g in ev.justification.site_of_care]
    items += ev.safety_items()
    narrative = paragraphs(ev.justification.site_of_care_details)
    return _choice(
        rows,
        items,
        narrative,
        grounds=bool(ev.justification.site_of_care or narrative),
        preferred=preference == "preferred site",
        missing="the reason for this site of care",
    )


def product_choice(ev: Evidence) -> Part:
    rows: list[Marked[Row]] = []
    found = ev.assessment.product
    # Where the payer's product list comes from is for staff: the note can say how it was read.
    source = (
        (
            Doubt(
                "The payer's product list, as the reference notes read it.",
                found.source,
                DoubtKind.NOTE,
            ),
        )
        if found and found.source
        else ()
    )
    if found is not None and found.known:
        rows.append(Marked(Row("Product requested", f"{found.name} ({found.hcpcs})")))
        if found.excluded:
            rows.append(
                Marked(Row(ev.assessment.payer_name, f"Does not cover {found.name}"), source)
            )
    if found is not None and found.preferred_names:
        rows.append(Marked(Row("Preferred products", ", ".join(found.preferred_names)), source))
    items = [Marked(EvidenceItem(PRODUCT_GROUND_LABELS[g])) for g in ev.justification.product]
    for therapy in ev.case.prior_therapies:
        if therapy.therapy_class != "immune_globulin":
            continue
        end = format_short_date(therapy.end) if therapy.end else "ongoing"
        items.append(
            Marked(
                EvidenceItem(
                    f"{therapy.agent}: {OUTCOME_LABELS[therapy.outcome].lower()}",
                    f"{format_short_date(therapy.start)} to {end}"
                    + (f"; {therapy.note}" if therapy.note else ""),
                )
            )
        )
    items += ev.safety_items()
    narrative = paragraphs(ev.justification.product_details)
    return _choice(
        rows,
        items,
        narrative,
        grounds=bool(ev.justification.product or narrative),
        preferred=found is not None and found.preferred is True,
        missing="the reason for this product",
    )


def records(ev: Evidence, payer_says_missing: Sequence[str] = ()) -> Part:
    by_enclosure: dict[str, list[Attachment]] = {}
    for attachment in ev.attachments:
        by_enclosure.setdefault(attachment.enclosure_id or "", []).append(attachment)
    items: list[Marked[EvidenceItem]] = []
    missing: list[str] = []
    for enclosure in ev.definition.enclosures:
        if ev.case.request_type not in enclosure.applies_to:
            continue
        found = by_enclosure.pop(enclosure.id, [])
        if found:
            items.append(Marked(EvidenceItem(enclosure.title, "Enclosed: " + _files(found))))
        elif enclosure.required:
            missing.append(enclosure.title)
    by_enclosure.pop(DENIAL_NOTICE_ENCLOSURE, None)
    others = [a for group in by_enclosure.values() for a in group]
    if others:
        items.append(Marked(EvidenceItem("Also enclosed", _files(others))))
    missing += [
        f"information missing in the case: {r.title}"
        for r in ev.assessment.criteria
        if r.required and r.status is Status.MISSING
    ]
    return Part(
        listed=tuple(payer_says_missing),
        items=tuple(items),
        supported=not missing,
        unsupported=tuple(missing),
    )


def answer(ev: Evidence, reason: DeniedReason) -> Part:
    """The case's evidence for one reason a denial gives."""
    category = reason.category
    if category is DenialReason.NOT_MEDICALLY_NECESSARY:
        return medical_necessity(ev)
    if category is DenialReason.CRITERIA_NOT_MET:
        return criteria(ev, reason.criteria)
    if category is DenialReason.STEP_THERAPY_NOT_MET:
        return step_therapy(ev)
    if category is DenialReason.DOSE_ABOVE_POLICY:
        return dose(ev)
    if category is DenialReason.EXPERIMENTAL_INVESTIGATIONAL:
        return indication(ev)
    if category is DenialReason.SITE_OF_CARE:
        return site(ev)
    if category is DenialReason.NON_PREFERRED_PRODUCT:
        return product_choice(ev)
    return records(ev, reason.missing)
