"""The vocabulary that coverage criteria may test, defined in code with types.

Definitions in forms/ only combine these names; a misspelt fact in a definition
is a load error, not a criterion that silently never matches. Each indication's
questions collect a subset of these facts.

Kinds of fact:
- ``lab``: one or more dated results in a fixed unit (two low IgG results weeks
  apart are two entries);
- ``score``: one dated value on a named scale;
- ``number``: a plain quantity (infections in the past year);
- ``flag``: yes / no;
- ``choice``: one of a fixed list;
- ``date``: a calendar date.
Derived facts (age, weeks since onset, prescriber specialty) are computed from
the rest of the case and never asked for directly.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class FactKind(StrEnum):
    LAB = "lab"
    SCORE = "score"
    NUMBER = "number"
    FLAG = "flag"
    CHOICE = "choice"
    DATE = "date"
    DERIVED = "derived"


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    kind: FactKind
    label: str
    unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    # Whether larger values mean a better state (scores used for response).
    higher_is_better: bool | None = None
    minimum: float | None = None
    maximum: float | None = None


def _lab(name: str, label: str, unit: str, maximum: float) -> Fact:
    return Fact(name=name, kind=FactKind.LAB, label=label, unit=unit, minimum=0, maximum=maximum)


def _score(
    name: str, label: str, unit: str, higher_is_better: bool, minimum: float, maximum: float
) -> Fact:
    return Fact(
        name=name,
        kind=FactKind.SCORE,
        label=label,
        unit=unit,
        higher_is_better=higher_is_better,
        minimum=minimum,
        maximum=maximum,
    )


def _flag(name: str, label: str) -> Fact:
    return Fact(name=name, kind=FactKind.FLAG, label=label)


VACCINE_RESPONSE = (
    ("adequate", "Adequate (protective titres after vaccination)"),
    ("impaired", "Impaired (no protective response after vaccination)"),
    ("not_tested", "Not tested"),
)

RESPONSE_TO_IVIG = (
    ("improved", "Improved on an objective measure"),
    ("stable", "Stable (no decline)"),
    ("worse", "Worse"),
    ("not_assessed", "Not assessed"),
)

DOSE_REDUCTION = (
    ("attempted_relapsed", "Attempted; the patient relapsed or worsened"),
    ("attempted_tolerated", "Attempted; the lower dose was tolerated"),
    ("not_attempted", "Not attempted"),
    ("not_appropriate", "Not appropriate (documented reason)"),
)

DISEASE_COURSE = (
    ("progressive", "Progressive"),
    ("relapsing", "Relapsing-remitting"),
    ("monophasic", "Monophasic"),
)

_FACTS: tuple[Fact, ...] = (
    # Immunoglobulin labs (mg/dL is the US reporting unit; 100 mg/dL = 1 g/L).
    _lab("igg_mg_dl", "Serum IgG", "mg/dL", 5000),
    _lab("iga_mg_dl", "Serum IgA", "mg/dL", 2000),
    _lab("igm_mg_dl", "Serum IgM", "mg/dL", 2000),
    _lab("igg_trough_mg_dl", "IgG trough level on treatment", "mg/dL", 5000),
    _lab("platelets_10e9_l", "Platelet count", "×10⁹/L", 2000),
    _lab("egfr_ml_min", "eGFR", "mL/min/1.73 m²", 200),
    Fact(
        name="pneumococcal_vaccine_response",
        kind=FactKind.CHOICE,
        label="Response to pneumococcal polysaccharide vaccine",
        choices=VACCINE_RESPONSE,
    ),
    Fact(
        name="protein_vaccine_response",
        kind=FactKind.CHOICE,
        label="Response to protein vaccines (tetanus, diphtheria)",
        choices=VACCINE_RESPONSE,
    ),
    _flag("genetic_diagnosis_confirmed", "Genetic or molecular diagnosis confirmed"),
    _flag("recurrent_bacterial_infections", "Recurrent or severe bacterial infections"),
    Fact(
        name="infections_past_year",
        kind=FactKind.NUMBER,
        label="Bacterial infections in the past 12 months",
        unit="infections",
        minimum=0,
        maximum=100,
    ),
    _flag(
        "secondary_causes_excluded",
        "Secondary causes of low IgG excluded (medicines, protein loss, malignancy)",
    ),
    # Neurology.
    Fact(name="symptom_onset_date", kind=FactKind.DATE, label="Date symptoms began"),
    Fact(
        name="disease_course",
        kind=FactKind.CHOICE,
        label="Course of the disease",
        choices=DISEASE_COURSE,
    ),
    Fact(
        name="symptom_duration_months",
        kind=FactKind.NUMBER,
        label="Duration of progression or relapses",
        unit="months",
        minimum=0,
        maximum=600,
    ),
    _flag(
        "demyelination_on_electrodiagnostics",
        "Demyelination shown on nerve conduction studies or nerve biopsy",
    ),
    _flag("conduction_block", "Conduction block on nerve conduction studies"),
    _flag("walking_compromised_or_disabled", "Walking compromised or significant disability"),
    _flag(
        "other_causes_excluded",
        "Other causes of neuropathy excluded (e.g. paraprotein workup, diabetes, toxins)",
    ),
    _score(
        "incat_score_baseline",
        "Adjusted INCAT disability score before IVIG",
        "points",
        higher_is_better=False,
        minimum=0,
        maximum=10,
    ),
    _score(
        "incat_score_current",
        "Adjusted INCAT disability score now",
        "points",
        higher_is_better=False,
        minimum=0,
        maximum=10,
    ),
    _score(
        "mrc_sum_score_baseline",
        "MRC sum score before IVIG",
        "points",
        higher_is_better=True,
        minimum=0,
        maximum=60,
    ),
    _score(
        "mrc_sum_score_current",
        "MRC sum score now",
        "points",
        higher_is_better=True,
        minimum=0,
        maximum=60,
    ),
    _score(
        "grip_strength_kg_baseline",
        "Grip strength before IVIG",
        "kg",
        higher_is_better=True,
        minimum=0,
        maximum=150,
    ),
    _score(
        "grip_strength_kg_current",
        "Grip strength now",
        "kg",
        higher_is_better=True,
        minimum=0,
        maximum=150,
    ),
    Fact(
        name="response_to_ivig",
        kind=FactKind.CHOICE,
        label="Response to IVIG so far",
        choices=RESPONSE_TO_IVIG,
    ),
    Fact(
        name="dose_reduction_attempt",
        kind=FactKind.CHOICE,
        label="Attempt at dose reduction or a trial off IVIG",
        choices=DOSE_REDUCTION,
    ),
    Fact(
        name="infections_past_year_on_treatment",
        kind=FactKind.NUMBER,
        label="Bacterial infections in the past 12 months on treatment",
        unit="infections",
        minimum=0,
        maximum=100,
    ),
    # Derived from the rest of the case.
    Fact(name="age_years", kind=FactKind.DERIVED, label="Age", unit="years"),
    Fact(
        name="weeks_since_onset",
        kind=FactKind.DERIVED,
        label="Weeks from symptom onset to the requested start",
        unit="weeks",
    ),
    Fact(name="prescriber_specialty", kind=FactKind.DERIVED, label="Prescriber's specialty"),
)

FACTS: dict[str, Fact] = {fact.name: fact for fact in _FACTS}

ANSWERABLE_KINDS = frozenset(FactKind) - {FactKind.DERIVED}

SPECIALTIES = (
    ("allergy_immunology", "Allergy and immunology"),
    ("clinical_immunology", "Clinical immunology"),
    ("neurology", "Neurology"),
    ("neuromuscular", "Neuromuscular medicine"),
    ("hematology", "Hematology"),
    ("hematology_oncology", "Hematology and oncology"),
    ("rheumatology", "Rheumatology"),
    ("dermatology", "Dermatology"),
    ("infectious_disease", "Infectious disease"),
    ("pediatrics", "Pediatrics"),
    ("internal_medicine", "Internal medicine"),
    ("family_medicine", "Family medicine"),
    ("other", "Other"),
)

THERAPY_CLASSES = (
    ("corticosteroid", "Corticosteroid"),
    ("immunosuppressant", "Immunosuppressant (azathioprine, mycophenolate, methotrexate…)"),
    ("steroid_sparing_agent", "Steroid-sparing agent"),
    ("plasma_exchange", "Plasma exchange"),
    ("immune_globulin", "Immune globulin (IVIG or SCIG)"),
    ("anti_cd20", "Anti-CD20 antibody (rituximab…)"),
    ("complement_inhibitor", "Complement inhibitor"),
    ("fcrn_blocker", "FcRn blocker"),
    ("tpo_receptor_agonist", "Thrombopoietin-receptor agonist"),
    ("splenectomy", "Splenectomy"),
    ("anti_d", "Anti-D immune globulin"),
    ("antibiotic_prophylaxis", "Antibiotic prophylaxis"),
    ("benzodiazepine", "Benzodiazepine"),
    ("antispasticity", "Baclofen or other antispasticity agent"),
    ("gabapentinoid", "Gabapentin or pregabalin"),
    ("potassium_channel_blocker", "Amifampridine or 3,4-diaminopyridine"),
    ("cholinesterase_inhibitor", "Cholinesterase inhibitor (pyridostigmine)"),
    ("other", "Other"),
)
