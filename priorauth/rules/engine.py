"""Evaluate a case against an indication's criteria under a payer's profile.

``evaluate`` is pure: the same case, definitions and date always give the same
assessment. It gathers every finding (criteria, dose, product, site of care,
safety) into one ``Assessment`` and turns them into the verdict and its reasons.
"""

from __future__ import annotations

import datetime as dt

from priorauth.domain.case import Case, RequestType
from priorauth.domain.dates import period_end
from priorauth.domain.dosing import MissingDosingInput, dosing_weight

from .assessment import Assessment, Problem, Status, Verdict
from .codesets import icd10cm_problem
from .criteria import evaluate_criteria, unverified_met
from .dose_check import check_dose
from .findings import product_findings, safety_findings, safety_reasons, site_findings
from .library import Library
from .regimen_check import route_problem
from .schema import CoverageStatus, IndicationDefinition, PayerProfile


def case_problems(case: Case, library: Library) -> list[Problem]:
    """Checks that need the definitions: codes, product, payer, unasked answers, dosing input."""
    problems: list[Problem] = []
    definition = library.indications.get(case.indication_id)
    if definition is None:
        return [
            Problem(
                field="indication_id",
                message=f"unknown indication {case.indication_id!r}; "
                f"known: {', '.join(sorted(library.indications))}",
            )
        ]
    for index, code in enumerate(case.icd10_codes):
        # The same code-set check as the definitions: a typo or a category is
        # named as such before "not a code for this indication".
        not_billable = icd10cm_problem(code)
        if not_billable is not None:
            problems.append(Problem(field=f"icd10_codes.{index}", message=not_billable))
        elif definition.code(code) is None and not definition.any_code:
            known = ", ".join(c.code for c in definition.codes[:8])
            problems.append(
                Problem(
                    field=f"icd10_codes.{index}",
                    message=f"{code} is not a code for {definition.name}; expected one of {known}"
                    + ("…" if len(definition.codes) > 8 else ""),
                )
            )
    if definition.any_code and not case.clinical_summary.strip():
        # A condition outside the library rests on the physician's reasons alone.
        problems.append(
            Problem(
                field="clinical_summary",
                message="give the physician's rationale for immune globulin in this condition",
            )
        )
    if case.regimen.product_id not in library.products:
        problems.append(
            Problem(
                field="regimen.product_id", message=f"unknown product {case.regimen.product_id!r}"
            )
        )
    payer = library.payers.get(case.coverage.payer_profile)
    if payer is None:
        problems.append(
            Problem(
                field="coverage.payer_profile",
                message=f"unknown payer profile {case.coverage.payer_profile!r}",
            )
        )
        payer = library.payers["reference"]
    asked = {q.fact for q in definition.questions_for(case.request_type)}
    for name in case.answers:
        if name not in asked:
            problems.append(
                Problem(
                    field=f"answers.{name}", message=f"{definition.name} does not ask for {name}"
                )
            )
    if case.regimen.phase and definition.dosing_for(case.request_type, case.regimen.phase) is None:
        problems.append(
            Problem(
                field="regimen.phase",
                message=f"{definition.name} has no dosing phase {case.regimen.phase!r}",
            )
        )
    route = route_problem(case, definition, library.products.get(case.regimen.product_id))
    if route is not None:
        problems.append(route)
    try:
        dosing_weight(case.measurements, case.patient.sex, payer.dosing_weight)
    except MissingDosingInput as error:
        problems.append(Problem(field=error.field, message=str(error)))
    return problems


def _authorization(
    definition: IndicationDefinition, payer: PayerProfile, request_type: RequestType
) -> tuple[int | None, str, bool]:
    """The period to request: the indication's, capped by the payer's when it sets one.

    A payer's period (eviCore's 180 days) is a ceiling on approvals, not a reason
    to ask six months for a single Guillain-Barré course.
    """
    periods = definition.authorization
    initial = request_type is RequestType.INITIAL
    own = periods.initial_months if initial else periods.continuation_months
    cap = payer.authorization_initial_months if initial else payer.authorization_continuation_months
    if cap is None or (own is not None and own <= cap):
        return own, periods.note, periods.unverified
    note = f"{payer.name} limits approvals to {cap} months: {payer.authorization_source}"
    return cap, note, payer.authorization_unverified


def evaluate(case: Case, library: Library, as_of: dt.date) -> Assessment:
    """Assess a case against its indication under its payer profile, as of a date."""
    definition = library.indications.get(case.indication_id)
    if definition is None:
        raise ValueError(f"unknown indication {case.indication_id!r}")
    payer = library.payers.get(case.coverage.payer_profile, library.payers["reference"])
    product = library.products.get(case.regimen.product_id)
    problems = case_problems(case, library)
    results = evaluate_criteria(case, definition, payer, as_of)
    dose = check_dose(case, definition, payer, product)
    product_found = product_findings(case, definition, payer, library)
    site = site_findings(case, payer)

    blocking: list[str] = [p.message for p in problems]
    warnings: list[str] = []
    for result in results:
        if result.status is Status.MET:
            shaky = unverified_met(result)
            if shaky:
                warnings.append(
                    f"{result.title}: met, but the rule behind it is unverified "
                    f"({'; '.join(shaky)}); check it against the payer's current policy."
                )
            continue
        what = "not met" if result.status is Status.NOT_MET else "information missing"
        (blocking if result.required else warnings).append(f"{result.title}: {what}.")
    for finding in dose.findings:
        (blocking if finding.blocking else warnings).append(finding.message)
    if product_found.excluded:
        blocking.append(
            f"{payer.name} does not cover {product_found.name}; choose another product or "
            "request an exception."
        )
    elif product_found.known and product_found.preferred is False:
        warnings.append(f"{product_found.name} is not a preferred product for {payer.name}.")
    safety = safety_findings(case, product, library)
    for reason, stops in safety_reasons(safety):
        (blocking if stops else warnings).append(reason)
    if site.home_not_covered:
        blocking.append(
            f"{payer.name} pays for immune globulin at home only for the diagnoses on its "
            f"home-infusion list ({payer.home_infusion_source or 'see the payer profile'}); "
            "none of this case's codes is on it. Choose another site of care."
        )
    if definition.coverage is not CoverageStatus.STANDARD:
        warnings.insert(
            0,
            f"Standard policy does not cover IVIG for {definition.name}: this "
            "request is a medical-exception request.",
        )

    if blocking:
        verdict = Verdict.NOT_READY
    elif warnings:
        verdict = Verdict.READY_WITH_WARNINGS
    else:
        verdict = Verdict.READY

    months, note, unverified = _authorization(definition, payer, case.request_type)

    return Assessment(
        indication_id=definition.id,
        indication_name=definition.name,
        payer_id=payer.id,
        payer_name=payer.name,
        request_type=case.request_type,
        as_of=as_of,
        coverage=definition.coverage,
        verdict=verdict,
        verdict_reasons=tuple(blocking + warnings),
        criteria=results,
        problems=tuple(problems),
        dose=dose,
        authorization_months=months,
        authorization_note=note,
        authorization_unverified=unverified,
        authorization_start=case.regimen.start_date if months is not None else None,
        authorization_end=period_end(case.regimen.start_date, months)
        if months is not None
        else None,
        exception_needs=definition.exception_needs,
        definition_versions=library.versions_for(definition.id, payer.id),
        product=product_found,
        site=site,
        safety=safety,
    )
