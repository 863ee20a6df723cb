"""Safety flags for the letter and the physician: who is at risk, and which products to avoid.

Sources (../shared/reference/ivig-criteria.md §1.3 and ivig-products-billing.md):
- eviCore checks product-specific contraindications: anti-IgA antibodies,
  hereditary fructose intolerance (Gammaplex), hyperprolinemia (Hizentra,
  Privigen), hyaluronidase hypersensitivity (HyQvia), sucrose-containing
  products in patients at renal risk, and documented thrombosis and renal risk
  [S6]. The product-level facts sit in forms/products.toml.
- All IVIG labels carry a boxed warning for thrombosis and renal dysfunction /
  acute renal failure (DailyMed Privigen label, Apr 2022).
- Labels give a lower maximum rate for patients at risk (Octagam, Panzyga,
  Bivigam): the infusion plan applies it.
- Maltose-containing products interfere with GDH-PQQ glucose meters (Diplomat
  pharmacy product cards): a caution for a patient with diabetes.
- The labels' advice to give patients at risk the minimum practicable rate and
  to hydrate them before the infusion is the boxed-warning wording of IVIG labels;
  the reference notes name the boxed warning but not that wording, so the advice
  is marked unverified.
Thresholds no source in the notes gives (the eGFR cut-off, age 65) are marked
unverified on the flag they raise.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .case import Case, LabResult
from .catalog import CONDITION_LABELS, Condition, Excipient, Product, RiskKind
from .quantities import plain_number

# No source in the reference notes sets an eGFR cut-off for IVIG renal risk; 60 is
# where chronic kidney disease stage 3 begins (KDIGO). Shown as unverified.
RENAL_RISK_EGFR_ML_MIN = Decimal(60)
# Age threshold asked for by issue 4; labels speak of "advanced age" (unverified wording).
OLDER_AGE_YEARS = 65

BOXED_WARNING_SOURCE = (
    "IVIG boxed warning: thrombosis, renal dysfunction and acute renal failure "
    "(DailyMed Privigen label, Apr 2022)"
)
EVICORE_SOURCE = "eviCore immune globulin policy: product-specific contraindication checks [S6]"
GLUCOSE_METER_SOURCE = "Diplomat pharmacy product cards: maltose interferes with GDH-PQQ meters"
AT_RISK_ADVICE = (
    "Give the minimum practicable rate and make sure the patient is hydrated before the "
    "infusion (IVIG boxed-warning advice; wording not in the reference notes, unverified)."
)


class Severity(StrEnum):
    CONTRAINDICATION = "contraindication"
    CAUTION = "caution"
    INFO = "info"


SEVERITY_LABELS = {
    Severity.CONTRAINDICATION: "Contraindication",
    Severity.CAUTION: "Caution",
    Severity.INFO: "Note",
}


# The oldest age a safety check takes as real.
MAX_AGE_YEARS = 130


class SafetyInputs(BaseModel):
    """What the safety checks need to know about the patient; None means not recorded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    age_years: int | None = Field(default=None, ge=0, le=MAX_AGE_YEARS)
    iga_deficient: bool | None = None
    anti_iga_antibodies: bool | None = None
    egfr_ml_min: Decimal | None = Field(default=None, ge=0, le=200)
    renal_impairment: bool | None = Field(default=None, description="known kidney disease")
    thrombosis_risk_factors: tuple[str, ...] = Field(
        default=(), description="as the clinic records them, e.g. prior DVT, estrogen use"
    )
    creatinine_mg_dl: Decimal | None = Field(default=None, ge=0, le=30)
    diabetes: bool | None = None
    heart_failure_or_fluid_restriction: bool | None = None
    hyperprolinemia: bool = False
    hereditary_fructose_intolerance: bool = False
    hyaluronidase_hypersensitivity: bool = False

    def has(self, condition: Condition) -> bool:
        return {
            Condition.HYPERPROLINEMIA: self.hyperprolinemia,
            Condition.HEREDITARY_FRUCTOSE_INTOLERANCE: self.hereditary_fructose_intolerance,
            Condition.HYALURONIDASE_HYPERSENSITIVITY: self.hyaluronidase_hypersensitivity,
        }[condition]


class SafetyFlag(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    severity: Severity
    title: str
    message: str
    source: str
    unverified: bool = False

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]


class SafetyReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    product_id: str
    flags: tuple[SafetyFlag, ...]
    risks: tuple[RiskKind, ...]

    @property
    def contraindicated(self) -> bool:
        return any(f.severity is Severity.CONTRAINDICATION for f in self.flags)

    def by_severity(self, severity: Severity) -> tuple[SafetyFlag, ...]:
        return tuple(f for f in self.flags if f.severity is severity)


def patient_risks(inputs: SafetyInputs) -> tuple[RiskKind, ...]:
    """The risks that lower an infusion's maximum rate."""
    risks: list[RiskKind] = []
    renal = bool(inputs.renal_impairment) or (
        inputs.egfr_ml_min is not None and inputs.egfr_ml_min < RENAL_RISK_EGFR_ML_MIN
    )
    if renal:
        risks.append(RiskKind.RENAL)
    if inputs.thrombosis_risk_factors:
        risks.append(RiskKind.THROMBOSIS)
    return tuple(risks)


def assess_safety(inputs: SafetyInputs, product: Product) -> SafetyReport:
    """Flag the patient's risks and the product's contraindications for this patient."""
    flags: list[SafetyFlag] = []
    risks = patient_risks(inputs)

    if inputs.anti_iga_antibodies:
        iga = product.iga_content or "not in the reference notes"
        flags.append(
            SafetyFlag(
                id="anti_iga",
                severity=Severity.CONTRAINDICATION,
                title="Antibodies against IgA"
                + (" with IgA deficiency" if inputs.iga_deficient else ""),
                message=f"Payers check anti-IgA antibodies as a contraindication. "
                f"{product.name} IgA content: {iga}; a product with less IgA lowers the risk.",
                source=EVICORE_SOURCE,
                unverified=product.is_unverified("iga_content") or not product.iga_content,
            )
        )
    elif inputs.anti_iga_antibodies is None:
        flags.append(
            SafetyFlag(
                id="anti_iga_unknown",
                severity=Severity.INFO,
                title="Anti-IgA antibody status not recorded",
                message="Payer forms (e.g. Aetna's precertification form) ask for it; "
                "record it if it is known.",
                source="Aetna Immunoglobulins precertification request (anchor-systems notes)",
            )
        )

    if RiskKind.RENAL in risks:
        why = []
        if inputs.egfr_ml_min is not None and inputs.egfr_ml_min < RENAL_RISK_EGFR_ML_MIN:
            why.append(
                f"eGFR {plain_number(inputs.egfr_ml_min)} mL/min/1.73 m² (below "
                f"{RENAL_RISK_EGFR_ML_MIN}, a threshold not in the reference notes)"
            )
        if inputs.renal_impairment:
            why.append("known renal impairment")
        if inputs.creatinine_mg_dl is not None:
            why.append(f"creatinine {plain_number(inputs.creatinine_mg_dl)} mg/dL")
        flags.append(
            SafetyFlag(
                id="renal_risk",
                severity=Severity.CAUTION,
                title="Renal impairment",
                message="Risk of renal dysfunction and acute renal failure: "
                + "; ".join(why)
                + ". Use the label's lower maximum rate where it gives one. "
                + AT_RISK_ADVICE,
                source=BOXED_WARNING_SOURCE,
                unverified=not inputs.renal_impairment,
            )
        )
        sugars = product.sugars
        if sugars:
            names = ", ".join(s.value for s in sugars)
            flags.append(
                SafetyFlag(
                    id="sugar_renal",
                    severity=Severity.CAUTION,
                    title=f"{product.name} contains sugar ({names}) and the patient has renal risk",
                    message="Payers check for sucrose-containing products in patients at renal "
                    "risk; ask the prescriber whether a sugar-free product is preferred.",
                    source=EVICORE_SOURCE,
                    # The payer check names sucrose; for other sugars it is not confirmed.
                    unverified=Excipient.SUCROSE not in sugars
                    or product.is_unverified("excipients"),
                )
            )

    if RiskKind.THROMBOSIS in risks:
        flags.append(
            SafetyFlag(
                id="thrombosis_risk",
                severity=Severity.CAUTION,
                title="Thrombosis risk factors",
                message="Recorded: "
                + "; ".join(inputs.thrombosis_risk_factors)
                + ". Payers want thrombosis risk documented; use the label's lower maximum "
                "rate where it gives one. " + AT_RISK_ADVICE,
                source=f"{BOXED_WARNING_SOURCE}; {EVICORE_SOURCE}",
            )
        )

    if inputs.diabetes and Excipient.MALTOSE in product.excipients:
        flags.append(
            SafetyFlag(
                id="maltose_glucose_meter",
                severity=Severity.CAUTION,
                title=f"{product.name} contains maltose and the patient has diabetes",
                message="Maltose can falsely raise blood-glucose readings on GDH-PQQ meters; "
                "tell the patient and the infusion nurse, or choose a maltose-free product.",
                source=GLUCOSE_METER_SOURCE,
                unverified=product.is_unverified("excipients"),
            )
        )

    if inputs.heart_failure_or_fluid_restriction:
        flags.append(
            SafetyFlag(
                id="fluid_volume",
                severity=Severity.CAUTION,
                title="Heart failure or fluid restriction",
                message=f"{product.name} is {plain_number(product.concentration_percent)}%: "
                f"each gram is {plain_number(Decimal(100) / product.concentration_percent)} mL "
                "of fluid. A more concentrated product gives the same dose in less volume; "
                "whether the patient's fluid limit allows this volume is the prescriber's "
                "judgment (no source in the reference notes sets a limit).",
                source="Volume from the product's concentration (products catalog)",
                unverified=True,
            )
        )

    if inputs.age_years is not None and inputs.age_years >= OLDER_AGE_YEARS:
        flags.append(
            SafetyFlag(
                id="age_65",
                severity=Severity.CAUTION,
                title=f"Age {inputs.age_years}",
                message="The IVIG boxed warning concerns thrombosis and renal failure, and "
                "payers want both risks documented; whether age 65 is itself a labeled risk "
                "factor is not confirmed in the reference notes.",
                source=f"{BOXED_WARNING_SOURCE}; {EVICORE_SOURCE}",
                unverified=True,
            )
        )

    for contraindication in product.contraindications:
        if inputs.has(contraindication.condition):
            label = CONDITION_LABELS[contraindication.condition]
            flags.append(
                SafetyFlag(
                    id=f"product_{contraindication.condition.value}",
                    severity=Severity.CONTRAINDICATION,
                    title=f"{product.name} and {label}",
                    message=f"{product.name} should not be used in a patient with {label}; "
                    "choose another product.",
                    source=contraindication.source,
                    unverified=contraindication.unverified,
                )
            )
    return SafetyReport(product_id=product.id, flags=tuple(flags), risks=risks)


def safety_inputs_from_case(case: Case, **recorded: Any) -> SafetyInputs:
    """Build the inputs from a case: its safety facts, age at the start date, latest eGFR."""
    facts = case.safety
    egfr = facts.egfr.value if facts.egfr is not None else None
    if egfr is None:
        # Some indications ask for eGFR among their own questions.
        results: list[LabResult] = case.answer("egfr_ml_min") or []
        if results:
            egfr = max(results, key=lambda result: result.date).value
    age: int | None = case.patient.age_years(case.regimen.start_date)
    if age is not None and not 0 <= age <= MAX_AGE_YEARS:
        # A start date typed wrong (the year 3000, or before the birth) gives no age: the
        # intake refuses such a date beside its field; the live check must still answer.
        age = None
    data: dict[str, Any] = {
        "age_years": age,
        "iga_deficient": facts.iga_deficient,
        "anti_iga_antibodies": facts.anti_iga_antibodies,
        "egfr_ml_min": egfr,
        "creatinine_mg_dl": facts.creatinine.value if facts.creatinine is not None else None,
        "renal_impairment": facts.renal_impairment,
        "thrombosis_risk_factors": tuple(facts.thrombosis_risk_factors),
        "diabetes": facts.diabetes,
        "heart_failure_or_fluid_restriction": facts.heart_failure_or_fluid_restriction,
        "hyperprolinemia": bool(facts.hyperprolinemia),
        "hereditary_fructose_intolerance": bool(facts.hereditary_fructose_intolerance),
        "hyaluronidase_hypersensitivity": bool(facts.hyaluronidase_hypersensitivity),
    }
    data.update(recorded)
    return SafetyInputs.model_validate(data)
