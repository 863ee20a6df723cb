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

# Choice lists added for the indication library (issue 3).
SECONDARY_HYPOGAM_CAUSES = (
    ("cll", "Chronic lymphocytic leukemia"),
    ("multiple_myeloma", "Multiple myeloma"),
    ("lymphoma", "Non-Hodgkin lymphoma"),
    ("other_hematologic_malignancy", "Other blood cancer"),
    ("post_hsct", "After a stem cell (bone marrow) transplant"),
    ("b_cell_depleting_therapy", "After B-cell-depleting therapy (e.g. rituximab)"),
    ("car_t", "After CAR-T cell therapy"),
    ("solid_organ_transplant", "After a solid organ transplant"),
    ("thymoma", "Thymoma (Good syndrome)"),
    ("other", "Other"),
)

MEASLES_PEP_GROUPS = (
    ("pregnant_without_immunity", "Pregnant, without evidence of measles immunity"),
    ("severely_immunocompromised", "Severely immunocompromised"),
    ("infant_under_12_months", "Infant under 12 months (intramuscular IG is used instead)"),
    ("other", "Other"),
)

VARICELLA_PEP_GROUPS = (
    ("immunocompromised", "Immunocompromised"),
    ("pregnant", "Pregnant"),
    (
        "newborn_maternal_varicella",
        "Newborn whose mother developed chickenpox from 5 days before to 2 days after delivery",
    ),
    (
        "premature_28_weeks_or_more",
        "Premature infant born at 28 weeks or later whose mother lacks immunity",
    ),
    ("premature_under_28_weeks", "Premature infant born before 28 weeks or weighing ≤ 1000 g"),
    ("other", "Other"),
)

TSS_ORGANISMS = (
    ("streptococcal", "Streptococcal (group A strep)"),
    ("staphylococcal", "Staphylococcal"),
    ("unknown", "Not yet known"),
)

BLEEDING_SEVERITY = (
    ("none", "No bleeding"),
    ("mild_skin_only", "Mild: skin only (bruises, petechiae)"),
    ("moderate_mucosal", "Moderate: mucosal bleeding (mouth, nose, gut, heavy periods)"),
    ("severe", "Severe or life-threatening bleeding"),
)

MG_SEVERITY = (
    ("ocular_or_mild", "Ocular only, or mild generalized"),
    ("moderate", "Moderate generalized"),
    ("severe", "Severe generalized"),
    ("crisis", "Myasthenic crisis"),
)

MG_ANTIBODIES = (
    ("achr_positive", "Acetylcholine-receptor (AChR) antibodies positive"),
    ("musk_positive", "MuSK antibodies positive"),
    ("seronegative", "Tested; both negative"),
    ("not_tested", "Not tested"),
)

ANTIBODY_RESULT = (
    ("positive", "Positive"),
    ("negative", "Negative"),
    ("not_tested", "Not tested"),
)

NEURAL_ANTIBODIES = (
    ("nmdar_positive", "NMDA-receptor antibodies positive"),
    ("other_antibody_positive", "Another neural antibody positive"),
    ("antibody_negative", "Tested; no antibody found"),
    ("not_tested", "Not tested"),
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
    # Added for the indication library (issue 3); sources are cited in each definition.
    # Immunology and infection.
    Fact(
        name="secondary_hypogam_cause",
        kind=FactKind.CHOICE,
        label="Cause of the low antibody levels",
        choices=SECONDARY_HYPOGAM_CAUSES,
    ),
    Fact(
        name="serious_bacterial_infections_past_year",
        kind=FactKind.NUMBER,
        label="Serious bacterial infections (bacteremia, meningitis, pneumonia) "
        "in the past 12 months",
        unit="infections",
        minimum=0,
        maximum=100,
    ),
    _flag(
        "chronic_bronchiectasis_uncontrolled",
        "Chronic bronchiectasis not controlled by antibiotics and lung therapy",
    ),
    _flag(
        "no_measles_antibody_after_two_mmr",
        "No measles antibody after two doses of MMR vaccine",
    ),
    Fact(name="exposure_date", kind=FactKind.DATE, label="Date of the exposure"),
    Fact(
        name="measles_pep_group",
        kind=FactKind.CHOICE,
        label="Why the patient needs measles prophylaxis with immune globulin",
        choices=MEASLES_PEP_GROUPS,
    ),
    _flag(
        "evidence_of_measles_immunity",
        "Evidence of measles immunity (e.g. an MMR dose given at 12 months of age or older)",
    ),
    Fact(
        name="varicella_pep_group",
        kind=FactKind.CHOICE,
        label="Why the patient needs varicella prophylaxis",
        choices=VARICELLA_PEP_GROUPS,
    ),
    _flag("evidence_of_varicella_immunity", "Evidence of varicella (chickenpox) immunity"),
    _flag("varizig_unavailable", "Varicella-zoster immune globulin (VariZIG) is unavailable"),
    _flag("ivig_in_past_3_weeks", "IVIG was given in the past 3 weeks"),
    Fact(
        name="tss_organism",
        kind=FactKind.CHOICE,
        label="Organism causing the toxic shock syndrome",
        choices=TSS_ORGANISMS,
    ),
    _flag(
        "tss_case_definition_met",
        "Meets the toxic shock case definition (organism isolated, low blood pressure, "
        "two or more organs affected)",
    ),
    _flag(
        "no_rapid_improvement_with_supportive_care",
        "No rapid improvement with fluids, inotropes, surgery, antibiotics and supportive care",
    ),
    # Hematology.
    Fact(
        name="bleeding_severity",
        kind=FactKind.CHOICE,
        label="Bleeding now",
        choices=BLEEDING_SEVERITY,
    ),
    _flag(
        "rapid_platelet_rise_needed",
        "A rapid rise in platelet count is needed (bleeding, or an urgent procedure)",
    ),
    _flag(
        "platelets_inadequate_for_procedure",
        "Platelet count is too low for the planned surgery or procedure",
    ),
    _flag("preparing_for_delivery", "Preparing for delivery"),
    _flag(
        "fnait_previous_affected_pregnancy",
        "A previous pregnancy was affected by fetal or neonatal alloimmune thrombocytopenia",
    ),
    _flag(
        "fnait_previous_fetal_ich",
        "A previous fetus or newborn had a brain (intracranial) hemorrhage from FNAIT",
    ),
    _flag(
        "neonatal_severe_thrombocytopenia",
        "Newborn with severe alloimmune thrombocytopenia (IVIG alongside platelet transfusion)",
    ),
    Fact(
        name="gestational_age_weeks",
        kind=FactKind.NUMBER,
        label="Weeks of pregnancy at the planned start",
        unit="weeks",
        minimum=0,
        maximum=45,
    ),
    # Neurology.
    _score(
        "gbs_disability_score",
        "GBS disability score (Hughes, 0 healthy to 6 dead; 3 or more = cannot walk unaided)",
        "points",
        higher_is_better=False,
        minimum=0,
        maximum=6,
    ),
    _flag(
        "treatment_related_fluctuation",
        "Worsened again after first improving on IVIG (treatment-related fluctuation)",
    ),
    _flag(
        "mmn_clinical_pattern",
        "Slowly or stepwise progressive, focal, asymmetric limb weakness in at least "
        "2 nerves for more than 1 month",
    ),
    _flag(
        "no_objective_sensory_loss",
        "No objective sensory loss (apart from minor vibration loss in the legs)",
    ),
    _flag("anti_gm1_positive", "IgM anti-GM1 antibodies present"),
    _flag(
        "nerve_biopsy_or_mri_neurography_support",
        "Motor nerve biopsy or MRI neurography supports the diagnosis",
    ),
    Fact(
        name="mg_severity",
        kind=FactKind.CHOICE,
        label="Myasthenia gravis severity now",
        choices=MG_SEVERITY,
    ),
    _flag(
        "mg_life_threatening_signs",
        "Life-threatening signs: breathing difficulty (respiratory insufficiency) or "
        "trouble swallowing",
    ),
    _flag("mg_rapid_response_needed", "A rapid response is needed"),
    _flag(
        "mg_significant_bulbar_dysfunction",
        "Significant bulbar weakness (speech, swallowing, chewing)",
    ),
    _flag("surgery_planned", "Thymectomy or other surgery is scheduled"),
    Fact(
        name="mg_antibody_status",
        kind=FactKind.CHOICE,
        label="Myasthenia gravis antibodies",
        choices=MG_ANTIBODIES,
    ),
    _score(
        "qmg_score_baseline",
        "Quantitative Myasthenia Gravis (QMG) score before IVIG",
        "points",
        higher_is_better=False,
        minimum=0,
        maximum=39,
    ),
    _score(
        "qmg_score_current",
        "Quantitative Myasthenia Gravis (QMG) score now",
        "points",
        higher_is_better=False,
        minimum=0,
        maximum=39,
    ),
    _score(
        "mg_adl_score_baseline",
        "MG Activities of Daily Living (MG-ADL) score before IVIG",
        "points",
        higher_is_better=False,
        minimum=0,
        maximum=24,
    ),
    _score(
        "mg_adl_score_current",
        "MG Activities of Daily Living (MG-ADL) score now",
        "points",
        higher_is_better=False,
        minimum=0,
        maximum=24,
    ),
    _flag(
        "significant_functional_disability",
        "Significant disability, documented on a functional scale (ADL, muscle or MRC scores)",
    ),
    Fact(
        name="vgcc_antibody_result",
        kind=FactKind.CHOICE,
        label="Voltage-gated calcium channel (VGCC) antibodies",
        choices=ANTIBODY_RESULT,
    ),
    Fact(
        name="gad65_antibody_result",
        kind=FactKind.CHOICE,
        label="GAD65 antibodies",
        choices=ANTIBODY_RESULT,
    ),
    _flag(
        "emg_continuous_motor_unit_activity",
        "EMG shows continuous motor-unit activity",
    ),
    Fact(
        name="neural_antibody_result",
        kind=FactKind.CHOICE,
        label="Encephalitis antibody testing (serum or spinal fluid)",
        choices=NEURAL_ANTIBODIES,
    ),
    _flag(
        "given_with_other_immunotherapy",
        "Given together with other immune treatment (steroids, immunosuppressants or "
        "plasma exchange)",
    ),
    _flag("specialist_consultation_documented", "A specialist consultation is documented"),
    _score(
        "mrs_score_baseline",
        "Modified Rankin Scale before IVIG (0 no symptoms to 6 dead)",
        "points",
        higher_is_better=False,
        minimum=0,
        maximum=6,
    ),
    _score(
        "mrs_score_current",
        "Modified Rankin Scale now",
        "points",
        higher_is_better=False,
        minimum=0,
        maximum=6,
    ),
    _flag(
        "myositis_diagnostic_workup",
        "Diagnosis supported by muscle enzymes (CK), EMG and/or muscle biopsy",
    ),
    _score(
        "mmt8_score_baseline",
        "Manual Muscle Testing (MMT-8) score before IVIG",
        "points",
        higher_is_better=True,
        minimum=0,
        maximum=150,
    ),
    _score(
        "mmt8_score_current",
        "Manual Muscle Testing (MMT-8) score now",
        "points",
        higher_is_better=True,
        minimum=0,
        maximum=150,
    ),
    _score(
        "total_improvement_score",
        "Myositis Total Improvement Score since IVIG began",
        "points",
        higher_is_better=True,
        minimum=0,
        maximum=100,
    ),
    # Kawasaki disease.
    _flag(
        "kawasaki_diagnosis_confirmed",
        "Diagnosis of Kawasaki disease meets the American Heart Association criteria",
    ),
    _flag(
        "ongoing_inflammation_after_day_10",
        "After day 10: diagnosis was missed and inflammation is ongoing",
    ),
    _flag("coronary_artery_aneurysm", "Coronary artery aneurysm on echocardiogram"),
    _flag("echocardiogram_done", "Echocardiogram done"),
    _flag(
        "fever_persists_36h_after_ivig",
        "Fever persists or returns 36 hours or more after the first IVIG infusion ended",
    ),
    # Blistering diseases.
    _flag(
        "blistering_disease_biopsy_proven",
        "Diagnosis proven by skin or mucosal biopsy (with immunofluorescence where possible)",
    ),
    _flag("rapidly_progressive_disease", "Rapidly progressive disease"),
    _flag(
        "ivig_short_term_until_conventional_effect",
        "IVIG is planned short-term only, until conventional therapy takes effect",
    ),
    # Requests outside usual coverage (medical-exception requests).
    _flag(
        "standard_therapies_failed",
        "Standard therapies for the condition have failed, were not tolerated or are "
        "contraindicated (documented)",
    ),
    _flag("severe_disease_documented", "Severity of the disease documented"),
    _flag(
        "published_evidence_enclosed",
        "Published evidence for IVIG in this condition is enclosed",
    ),
    _flag(
        "specialist_supports_request",
        "A specialist in the condition supports the request in writing",
    ),
    # Derived from the rest of the case.
    Fact(
        name="days_since_onset",
        kind=FactKind.DERIVED,
        label="Days from symptom (fever) onset to the requested start",
        unit="days",
    ),
    Fact(
        name="days_since_exposure",
        kind=FactKind.DERIVED,
        label="Days from the exposure to the requested start",
        unit="days",
    ),
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
    ("obstetrics", "Obstetrics and maternal-fetal medicine"),
    ("transfusion_medicine", "Transfusion medicine"),
    ("neonatology", "Neonatology"),
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
