"""Product, site-of-care and safety findings for one case under one payer.

What the payer's profile says of the requested product (excluded, preferred or
not, labelled for the indication), of the site of care (site-of-care programs,
the payer's own notes, the home-infusion list), and what the patient's safety
facts mean for the product.
"""

from __future__ import annotations

import re

from priorauth.domain.case import Case
from priorauth.domain.catalog import Product
from priorauth.domain.costs import SITE_OF_CARE_SOURCE, site_preference
from priorauth.domain.quantities import plain_number
from priorauth.domain.safety import (
    SafetyInputs,
    assess_safety,
    patient_risks,
    safety_inputs_from_case,
)

from .assessment import PayerSiteNote, ProductFindings, SafetyFindings, SiteFindings
from .library import Library
from .schema import IndicationDefinition, PayerProfile

_SITE_NOTE = re.compile(r"site[- ]of[- ]care", re.IGNORECASE)
# Enough to choose from on a page or in a letter.
MAX_ALTERNATIVES = 4


def product_findings(
    case: Case, definition: IndicationDefinition, payer: PayerProfile, library: Library
) -> ProductFindings:
    product_id = case.regimen.product_id
    product = library.products.get(product_id)
    preferred_names = tuple(
        library.products[p].name for p in payer.preferred_products if p in library.products
    )
    if product is None:
        return ProductFindings(
            product_id=product_id,
            known=False,
            name=product_id,
            preferred_names=preferred_names,
            source=payer.products_source,
        )
    return ProductFindings(
        product_id=product.id,
        known=True,
        name=product.name,
        hcpcs=product.hcpcs,
        route=product.route,
        excluded=product.id in payer.excluded_products,
        preferred=(product.id in payer.preferred_products) if payer.preferred_products else None,
        preferred_names=preferred_names,
        source=payer.products_source,
        labeled=product.labeled_for(definition.id),
        labeled_unverified=product.is_unverified("labeled_indications"),
    )


def site_findings(case: Case, payer: PayerProfile) -> SiteFindings:
    site = case.site_of_care
    preference = site_preference(site, case.coverage.plan_type)
    home_not_covered = bool(
        site.value == "home"
        and payer.home_infusion_codes
        and not set(case.icd10_codes) & set(payer.home_infusion_codes)
    )
    return SiteFindings(
        site=site,
        preference=preference,
        preference_source=SITE_OF_CARE_SOURCE if preference else "",
        payer_notes=tuple(
            PayerSiteNote(
                text=note.text, source=note.source, as_of=note.as_of, unverified=note.unverified
            )
            for note in payer.notes
            if _SITE_NOTE.search(note.text)
        ),
        home_not_covered=home_not_covered,
    )


def _alternatives(
    flag_id: str, inputs: SafetyInputs, product: Product, library: Library
) -> tuple[str, ...]:
    """Products on the same route that do not raise this flag for this patient."""
    candidates = [
        p
        for p in library.products.values()
        if p.route is product.route and p.id != product.id and not p.discontinued
    ]
    if flag_id == "anti_iga":
        # Every product carries some IgA: name those with a known, lower labelled figure.
        if product.iga_mcg_per_ml is None:
            return ()
        lower = [
            p
            for p in candidates
            if p.iga_mcg_per_ml is not None and p.iga_mcg_per_ml < product.iga_mcg_per_ml
        ]
        lower.sort(key=lambda p: (p.iga_mcg_per_ml, p.name))
        return tuple(f"{p.name} ({p.iga_content})" for p in lower[:MAX_ALTERNATIVES])
    if flag_id == "fluid_volume":
        denser = [p for p in candidates if p.concentration_percent > product.concentration_percent]
        denser.sort(key=lambda p: (-p.concentration_percent, p.name))
        return tuple(
            f"{p.name} ({plain_number(p.concentration_percent)}%)"
            for p in denser[:MAX_ALTERNATIVES]
        )
    clear = sorted(
        (p for p in candidates if all(f.id != flag_id for f in assess_safety(inputs, p).flags)),
        key=lambda p: p.name,
    )
    return tuple(p.name for p in clear[:MAX_ALTERNATIVES])


# Flags the patient's condition raises whatever the product: no alternative to name.
_PATIENT_FLAGS = frozenset({"anti_iga_unknown", "renal_risk", "thrombosis_risk", "age_65"})


def _product_reasons(inputs: SafetyInputs, product: Product, library: Library) -> tuple[str, ...]:
    """Where the chosen product avoids what the patient's facts make a risk with others.

    Only where a real choice was made: some other product on the route would have
    raised the flag this one does not.
    """
    others = [
        p
        for p in library.products.values()
        if p.route is product.route and p.id != product.id and not p.discontinued
    ]
    mine = {flag.id for flag in assess_safety(inputs, product).flags}
    raised_by_others = {flag.id for p in others for flag in assess_safety(inputs, p).flags}
    reasons = []
    if inputs.anti_iga_antibodies and product.iga_mcg_per_ml is not None:
        higher = [p for p in others if (p.iga_mcg_per_ml or 0) > product.iga_mcg_per_ml]
        if higher and len(higher) * 2 >= len(others):
            reasons.append(
                "The patient has antibodies against IgA"
                + (" and IgA deficiency" if inputs.iga_deficient else "")
                + f"; {product.name} was chosen for its low IgA content ({product.iga_content})."
            )
    avoided = {
        "sugar_renal": f"{product.name} contains no sugar stabilizer; sugar-containing products "
        "are avoided in a patient at renal risk.",
        "maltose_glucose_meter": f"{product.name} contains no maltose, which can falsely raise "
        "glucose-meter readings in this patient with diabetes.",
    }
    for flag_id, words in avoided.items():
        if flag_id in raised_by_others and flag_id not in mine:
            reasons.append(words)
    for condition_flag in sorted(f for f in raised_by_others if f.startswith("product_")):
        if condition_flag not in mine:
            label = condition_flag.removeprefix("product_").replace("_", " ")
            reasons.append(
                f"The patient has {label}; {product.name} is not contraindicated in it, "
                "unlike some other products."
            )
    return tuple(reasons)


def safety_findings(case: Case, product: Product | None, library: Library) -> SafetyFindings:
    inputs = safety_inputs_from_case(case)
    if product is None:
        # The risks still set the infusion rate of whichever product is priced.
        return SafetyFindings(risks=patient_risks(inputs))
    report = assess_safety(inputs, product)
    alternatives = {
        flag.id: _alternatives(flag.id, inputs, product, library)
        for flag in report.flags
        if flag.id not in _PATIENT_FLAGS
    }
    return SafetyFindings(
        product_id=product.id,
        flags=report.flags,
        risks=report.risks,
        alternatives={key: names for key, names in alternatives.items() if names},
        product_reasons=_product_reasons(inputs, product, library),
    )


# Cautions about the product chosen: the verdict warns of them when another product avoids them.
_PRODUCT_CAUTIONS = frozenset({"anti_iga", "sugar_renal", "maltose_glucose_meter", "fluid_volume"})


def safety_reasons(safety: SafetyFindings) -> list[tuple[str, bool]]:
    """What the safety findings add to the verdict: (reason, whether it blocks).

    A product the patient must not have blocks; a caution that another product
    avoids warns. Risks of the patient's own (renal, thrombosis, age) change the
    rate and the care, not whether the request can go: they are shown, not counted.
    """
    reasons = []
    for flag in safety.flags:
        names = safety.alternatives.get(flag.id, ())
        if flag.id.startswith("product_"):
            reasons.append((f"{flag.title}: {flag.message}", True))
        elif flag.id in _PRODUCT_CAUTIONS and names:
            reasons.append(
                (f"{flag.title}: products that avoid it include {', '.join(names)}.", False)
            )
    return reasons
