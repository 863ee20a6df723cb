"""A recorded denial, the grounds for an exception, and what an uploaded file is.

A denial is what the payer's notice says: its date, the payer's reference, each
reason it gives (with the reviewer's own words), and the level of appeal the
clinic is preparing. The grounds are what the clinic records to justify a
request outside standard policy (a non-preferred site, product or dose); each is
a fact about this patient that a person chose from a fixed list, with the
physician's words beside it. Nothing here decides whether an appeal will win:
the documents layer only answers each reason with the case's own evidence.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .model import EARLIEST_DATE, LongText, Model, RequiredText, Text, validation_today


class DenialReason(StrEnum):
    NOT_MEDICALLY_NECESSARY = "not_medically_necessary"
    CRITERIA_NOT_MET = "criteria_not_met"
    STEP_THERAPY_NOT_MET = "step_therapy_not_met"
    DOSE_ABOVE_POLICY = "dose_above_policy"
    EXPERIMENTAL_INVESTIGATIONAL = "experimental_investigational"
    SITE_OF_CARE = "site_of_care"
    NON_PREFERRED_PRODUCT = "non_preferred_product"
    MISSING_INFORMATION = "missing_information"


DENIAL_REASON_LABELS = {
    DenialReason.NOT_MEDICALLY_NECESSARY: "Not medically necessary",
    DenialReason.CRITERIA_NOT_MET: "Coverage criteria not met",
    DenialReason.STEP_THERAPY_NOT_MET: "Step therapy not met",
    DenialReason.DOSE_ABOVE_POLICY: "Dose or frequency above policy",
    DenialReason.EXPERIMENTAL_INVESTIGATIONAL: "Experimental or investigational",
    DenialReason.SITE_OF_CARE: "Site of care",
    DenialReason.NON_PREFERRED_PRODUCT: "Non-preferred product",
    DenialReason.MISSING_INFORMATION: "Missing information",
}


class AppealLevel(StrEnum):
    FIRST_INTERNAL = "first_internal"
    SECOND_INTERNAL = "second_internal"
    EXTERNAL_REVIEW = "external_review"
    EXPEDITED = "expedited"


APPEAL_LEVEL_LABELS = {
    AppealLevel.FIRST_INTERNAL: "First-level internal appeal",
    AppealLevel.SECOND_INTERNAL: "Second-level internal appeal",
    AppealLevel.EXTERNAL_REVIEW: "External review",
    AppealLevel.EXPEDITED: "Expedited appeal",
}


class SiteGround(StrEnum):
    """Why a patient is infused where the payer would rather not pay for it."""

    PRIOR_INFUSION_REACTION = "prior_infusion_reaction"
    DIFFICULT_VENOUS_ACCESS = "difficult_venous_access"
    ANTI_IGA_ANTIBODIES = "anti_iga_antibodies"
    NEEDS_MONITORING = "needs_monitoring"
    FIRST_INFUSIONS = "first_infusions"
    NO_ALTERNATIVE_SITE = "no_alternative_site"
    OTHER = "other"


SITE_GROUND_LABELS = {
    SiteGround.PRIOR_INFUSION_REACTION: "A previous infusion reaction to immune globulin",
    SiteGround.DIFFICULT_VENOUS_ACCESS: "Difficult venous access",
    SiteGround.ANTI_IGA_ANTIBODIES: "IgA deficiency with antibodies against IgA",
    SiteGround.NEEDS_MONITORING: (
        "Cardiac, renal or thrombotic risk that needs monitoring during the infusion"
    ),
    SiteGround.FIRST_INFUSIONS: "First infusions of immune globulin or of this product",
    SiteGround.NO_ALTERNATIVE_SITE: (
        "No preferred site (infusion center or home infusion) is available to the patient"
    ),
    SiteGround.OTHER: "Other reason (see the physician's explanation)",
}


class ProductGround(StrEnum):
    """Why this product and not one the payer prefers."""

    PREFERRED_NOT_TOLERATED = "preferred_not_tolerated"
    PREFERRED_INEFFECTIVE = "preferred_ineffective"
    PREFERRED_CONTRAINDICATED = "preferred_contraindicated"
    STABLE_ON_CURRENT_PRODUCT = "stable_on_current_product"
    OTHER = "other"


PRODUCT_GROUND_LABELS = {
    ProductGround.PREFERRED_NOT_TOLERATED: "A preferred product was not tolerated",
    ProductGround.PREFERRED_INEFFECTIVE: "A preferred product did not work",
    ProductGround.PREFERRED_CONTRAINDICATED: (
        "The preferred products are contraindicated for this patient"
    ),
    ProductGround.STABLE_ON_CURRENT_PRODUCT: (
        "The patient is stable on the requested product; a switch risks a reaction or relapse"
    ),
    ProductGround.OTHER: "Other reason (see the physician's explanation)",
}


class DoseGround(StrEnum):
    """Why a dose or interval beyond the policy's limit."""

    RELAPSE_AT_LOWER_DOSE = "relapse_at_lower_dose"
    WEARING_OFF = "wearing_off"
    LOW_TROUGH_WITH_INFECTIONS = "low_trough_with_infections"
    OTHER = "other"


DOSE_GROUND_LABELS = {
    DoseGround.RELAPSE_AT_LOWER_DOSE: "Relapse or worsening at a lower dose or a longer interval",
    DoseGround.WEARING_OFF: "Symptoms return before the next dose is due (wearing off)",
    DoseGround.LOW_TROUGH_WITH_INFECTIONS: "Low IgG trough levels with breakthrough infections",
    DoseGround.OTHER: "Other reason (see the physician's explanation)",
}

CriterionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=60)]
ShortItem = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class DeniedReason(Model):
    """One reason the denial gives, in the payer's category, with its own words."""

    category: DenialReason
    # criteria_not_met: the criteria the payer names, by the definition's criterion id.
    criteria: tuple[CriterionId, ...] = Field(default=(), max_length=20)
    # missing_information: what the payer says it did not receive, in its words.
    missing: tuple[ShortItem, ...] = Field(default=(), max_length=20)
    reviewer_words: LongText = ""

    @model_validator(mode="after")
    def _details_fit_the_category(self) -> DeniedReason:
        if self.criteria and self.category is not DenialReason.CRITERIA_NOT_MET:
            raise ValueError("criteria are named only for the reason criteria_not_met")
        if self.category is DenialReason.CRITERIA_NOT_MET and not self.criteria:
            raise ValueError(
                "name the criteria the denial says are not met (their ids in the indication)"
            )
        if self.missing and self.category is not DenialReason.MISSING_INFORMATION:
            raise ValueError("missing items are listed only for the reason missing_information")
        return self


class Denial(Model):
    """A payer's denial notice, as recorded by the clinic."""

    date: dt.date = Field(description="the date on the denial notice")
    received_on: dt.date | None = Field(
        default=None, description="when the clinic received it; some deadlines count from here"
    )
    payer_reference: RequiredText
    reasons: tuple[DeniedReason, ...] = Field(min_length=1, max_length=8)
    reviewer_words: LongText = Field(default="", description="the notice's rationale, verbatim")
    reviewer: Text = Field(default="", description="the reviewer named on the notice, if any")
    level: AppealLevel = AppealLevel.FIRST_INTERNAL
    appeal_deadline: dt.date | None = Field(
        default=None, description="the deadline printed on the denial notice, when it gives one"
    )
    delay_risks_health: bool = Field(
        default=False,
        description="the physician judges that waiting for a standard appeal would "
        "seriously risk the patient's health",
    )
    urgency: LongText = Field(default="", description="the physician's reason for urgency")
    appeals_fax: Text = ""
    appeals_address: Text = ""
    previous_appeal_reference: Text = ""

    @field_validator("date", "received_on")
    @classmethod
    def _in_the_past(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        if value is None:
            return None
        if value > validation_today(info):
            raise ValueError("this date is in the future")
        if value < EARLIEST_DATE:
            raise ValueError("this date is before 1900")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Denial:
        categories = [reason.category for reason in self.reasons]
        if len(set(categories)) != len(categories):
            raise ValueError("each reason category is listed once; put its details together")
        if self.received_on is not None and self.received_on < self.date:
            raise ValueError("received_on: the notice cannot arrive before its own date")
        if self.appeal_deadline is not None and self.appeal_deadline < self.date:
            raise ValueError("appeal_deadline: the deadline is before the denial's date")
        if self.level is AppealLevel.EXPEDITED and not self.delay_risks_health:
            raise ValueError(
                "an expedited appeal needs delay_risks_health = true and the physician's "
                "reason in urgency"
            )
        if self.delay_risks_health and not self.urgency:
            raise ValueError(
                "urgency: say why waiting would put the patient's health at risk; the "
                "payer decides on the physician's reason"
            )
        return self

    @property
    def categories(self) -> tuple[DenialReason, ...]:
        return tuple(reason.category for reason in self.reasons)

    @property
    def expedited(self) -> bool:
        """Whether the appeal asks for expedited review."""
        return self.level is AppealLevel.EXPEDITED or self.delay_risks_health

    def reason(self, category: DenialReason) -> DeniedReason | None:
        return next((r for r in self.reasons if r.category is category), None)


class Justification(Model):
    """Why this patient needs what standard policy does not cover, as the clinic records it."""

    site_of_care: tuple[SiteGround, ...] = Field(default=(), max_length=len(SiteGround))
    site_of_care_details: LongText = ""
    product: tuple[ProductGround, ...] = Field(default=(), max_length=len(ProductGround))
    product_details: LongText = ""
    dose: tuple[DoseGround, ...] = Field(default=(), max_length=len(DoseGround))
    dose_details: LongText = ""
    indication_details: LongText = Field(
        default="", description="off-policy indication: the physician's reasoning"
    )

    @field_validator("site_of_care", "product", "dose")
    @classmethod
    def _each_once(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(set(value)) != len(value):
            raise ValueError("each ground is listed once")
        return value

    @model_validator(mode="after")
    def _other_is_explained(self) -> Justification:
        for grounds, details, name in (
            (self.site_of_care, self.site_of_care_details, "site_of_care"),
            (self.product, self.product_details, "product"),
            (self.dose, self.dose_details, "dose"),
        ):
            if any(g.value == "other" for g in grounds) and not details:
                raise ValueError(f"{name}_details: explain the 'other' ground")
        return self


class MediaType(StrEnum):
    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"


MEDIA_TYPE_LABELS = {MediaType.PDF: "PDF", MediaType.PNG: "PNG image", MediaType.JPEG: "JPEG image"}


class Attachment(Model):
    """What is known about one uploaded file once it has been checked; never its bytes."""

    filename: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    media_type: MediaType
    size_bytes: int = Field(gt=0)
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    pages: int = Field(ge=1, description="pages it adds to a packet")
    enclosure_id: CriterionId | None = Field(
        default=None, description="the indication's enclosure this file is, if any"
    )
    title: Text = ""

    @property
    def label(self) -> str:
        return self.title or self.filename
