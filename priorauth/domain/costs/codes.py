"""Administration coding: which CPT/HCPCS codes and units one infusion day bills.

Sources (../shared/reference/ivig-products-billing.md §4, §7):
- IV infusion: 96365 for the first hour (the first 16–90 minutes), then one
  96366 for each further hour once more than 30 minutes past the prior hour:
  units = ceil((T − 90) / 60) for T > 90 minutes (clearcostestimate.com CPT
  96365/96366 page; UWHC IV Infusion Mini-Manual 2014).
- Subcutaneous in clinic: 96369 first hour with pump set-up, 96370 each
  additional hour, 96371 an additional pump set-up with new sites.
- Home: 99601 per nursing visit up to 2 hours, 99602 each additional hour;
  S9338 home immunotherapy per diem for commercial payers and Medicaid, drug and
  nursing billed separately (BCBS ND home infusion policy; genhealth.ai S9338).
  Medicare home IVIG (primary immunodeficiency only): Q2052 from Jan 1, 2024
  (Noridian JD DME IVIG page); other home IVIG uses fall under Part D.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from ..case import PlanType, SiteOfCare
from ..catalog import Frozen, Route
from ..quantities import ceil_units

MINUTES_PER_HOUR = 60
IV_FIRST_CODE_MAX_MINUTES = 90  # 96365 covers up to 1 h + 30 min before 96366 is due
IV_MIN_MINUTES = 16  # below this 96365 does not apply
HOME_VISIT_BASE_MINUTES = 120  # 99601 covers a visit up to 2 h

CPT_TIME_SOURCE = (
    "clearcostestimate.com CPT 96365/96366 page (cites AMA CPT, CMS IOM 100-04 ch.12 §30.5); "
    "UWHC IV Infusion Mini-Manual 2014"
)
SC_CODE_SOURCE = "clearcostestimate.com CPT 96369-96371 page"
HOME_CODE_SOURCE = "Coding Ahead 99601/99602 pages; pabau.com 99601 guide"
PER_DIEM_SOURCE = "genhealth.ai S9338 page; BCBS ND home infusion reimbursement policy"
Q2052_SOURCE = (
    "Noridian JD DME 'Intravenous Immune Globulin (IVIG)' page (Q2052, DOS from Jan 1, 2024)"
)
PART_D_SOURCE = "Medicare Benefit Policy Manual ch.15 §50.6; CSL Privigen coding guide (2020 note)"
# No source in the notes says how an inpatient stay pays for the drug; that a hospital
# stay is paid as a whole rather than per drug and administration code is general
# knowledge, so the sentence says unverified. Priority Health needs no prior
# authorization for inpatient immune globulin (billing notes §4).
INPATIENT_NOTE = (
    "Inpatient stay: the drug and its administration are paid as part of the hospital stay, "
    "not per code, so they are not priced here (unverified). Priority Health needs no prior "
    "authorization for inpatient immune globulin (Priority Health IVIG/SCIG billing page)."
)


class LineKind(StrEnum):
    DRUG = "drug"
    WASTE = "waste"
    ADMINISTRATION = "administration"
    PER_DIEM = "per_diem"


LINE_KIND_LABELS = {
    LineKind.DRUG: "Drug given",
    LineKind.WASTE: "Drug discarded",
    LineKind.ADMINISTRATION: "Administration",
    LineKind.PER_DIEM: "Home infusion per diem",
}


class CodedService(Frozen):
    code: str
    units: int
    kind: LineKind
    description: str
    source: str
    note: str = ""
    unverified: bool = False


def additional_hours(minutes: int, covered_minutes: int) -> int:
    """Further hours past what the first code covers, each counted once more than 30 min in."""
    if minutes <= covered_minutes:
        return 0
    return ceil_units(Decimal(minutes - covered_minutes), Decimal(MINUTES_PER_HOUR))


def iv_infusion_codes(minutes: int | None) -> tuple[CodedService, ...]:
    """96365 for the first hour, 96366 for each further hour (the > 30-minute rule)."""
    if minutes is None:
        return (
            CodedService(
                code="96365",
                units=1,
                kind=LineKind.ADMINISTRATION,
                description="IV infusion, initial, up to 1 hour",
                source=CPT_TIME_SOURCE,
                note="infusion time unknown: add one 96366 per further hour as documented",
                unverified=True,
            ),
        )
    codes = [
        CodedService(
            code="96365",
            units=1,
            kind=LineKind.ADMINISTRATION,
            description="IV infusion, initial, up to 1 hour",
            source=CPT_TIME_SOURCE,
            note=(
                f"infusion of {minutes} min is under {IV_MIN_MINUTES} min, too short for "
                "96365; what applies is unverified"
                if minutes < IV_MIN_MINUTES
                else ""
            ),
            unverified=minutes < IV_MIN_MINUTES,
        )
    ]
    extra = additional_hours(minutes, IV_FIRST_CODE_MAX_MINUTES)
    if extra:
        codes.append(
            CodedService(
                code="96366",
                units=extra,
                kind=LineKind.ADMINISTRATION,
                description="IV infusion, each additional hour",
                source=CPT_TIME_SOURCE,
                note=f"{minutes} min infusion",
            )
        )
    return tuple(codes)


def sc_infusion_codes(
    minutes: int | None, extra_pump_setups: int = 0, *, time_unverified: bool = False
) -> tuple[CodedService, ...]:
    """96369 first hour with pump set-up, 96370 each further hour, 96371 per extra set-up.

    ``time_unverified``: the minutes come from per-site figures no source confirmed.
    """
    if minutes is None:
        note = "infusion time unknown"
    elif time_unverified:
        note = f"{minutes} min from per-site volume and rate not confirmed in the notes"
    else:
        note = ""
    codes = [
        CodedService(
            code="96369",
            units=1,
            kind=LineKind.ADMINISTRATION,
            description="SC infusion, initial hour, including pump set-up and sites",
            source=SC_CODE_SOURCE,
            note=note,
            unverified=minutes is None or time_unverified,
        )
    ]
    extra = 0 if minutes is None else additional_hours(minutes, IV_FIRST_CODE_MAX_MINUTES)
    if extra:
        codes.append(
            CodedService(
                code="96370",
                units=extra,
                kind=LineKind.ADMINISTRATION,
                description="SC infusion, each additional hour",
                source=SC_CODE_SOURCE,
                note="counted with the 96366 rule (more than 30 minutes into the hour); "
                "the SC rule itself is unverified in the notes",
                unverified=True,
            )
        )
    if extra_pump_setups:
        codes.append(
            CodedService(
                code="96371",
                units=extra_pump_setups,
                kind=LineKind.ADMINISTRATION,
                description="SC infusion, additional pump set-up with new sites",
                source=SC_CODE_SOURCE,
            )
        )
    return tuple(codes)


def home_codes(
    minutes: int | None, plan_type: PlanType, medicare_home_benefit: bool
) -> tuple[tuple[CodedService, ...], tuple[str, ...]]:
    """Home-infusion codes for one infusion day, and what the reader should know about them."""
    if plan_type is PlanType.MEDICARE:
        if not medicare_home_benefit:
            return (), (
                "Medicare Part B covers IVIG at home only for primary immunodeficiency; other "
                f"uses at home fall under Part D ({PART_D_SOURCE}).",
            )
        return (
            CodedService(
                code="Q2052",
                units=1,
                kind=LineKind.PER_DIEM,
                description="Services, supplies and accessories for home IVIG (Medicare)",
                source=Q2052_SOURCE,
                note="Noridian describes billing per administration in 15-minute increments; "
                "confirm the unit count with the DME MAC",
                unverified=True,
            ),
        ), ()
    codes = [
        CodedService(
            code="99601",
            units=1,
            kind=LineKind.ADMINISTRATION,
            description="Home infusion, per visit up to 2 hours",
            source=HOME_CODE_SOURCE,
            note="the nursing standard counts preparation, travel, care and documentation "
            "time, so a visit may run longer than the infusion",
        )
    ]
    if minutes is not None:
        extra = additional_hours(minutes, HOME_VISIT_BASE_MINUTES)
        if extra:
            codes.append(
                CodedService(
                    code="99602",
                    units=extra,
                    kind=LineKind.ADMINISTRATION,
                    description="Home infusion, each additional hour",
                    source=HOME_CODE_SOURCE,
                    note="a partial hour counted as one; how partial hours count is unverified",
                    unverified=True,
                )
            )
    per_diem_confirmed = plan_type in (PlanType.COMMERCIAL, PlanType.MEDICAID)
    codes.append(
        CodedService(
            code="S9338",
            units=1,
            kind=LineKind.PER_DIEM,
            description="Home infusion therapy, immunotherapy, per diem",
            source=PER_DIEM_SOURCE,
            note="" if per_diem_confirmed else "S9338 for this plan type is unverified",
            unverified=not per_diem_confirmed,
        )
    )
    return tuple(codes), ()


def administration_codes(
    route: Route,
    site: SiteOfCare,
    plan_type: PlanType,
    minutes: int | None,
    *,
    medicare_home_benefit: bool = False,
    extra_pump_setups: int = 0,
    time_unverified: bool = False,
) -> tuple[tuple[CodedService, ...], tuple[str, ...]]:
    """Administration codes for one infusion day at a site, with notes."""
    if site is SiteOfCare.INPATIENT:
        return (), (INPATIENT_NOTE,)
    if site is SiteOfCare.HOME:
        return home_codes(minutes, plan_type, medicare_home_benefit)
    if route is Route.SC:
        return sc_infusion_codes(minutes, extra_pump_setups, time_unverified=time_unverified), ()
    return iv_infusion_codes(minutes), ()
