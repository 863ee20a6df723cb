"""A FHIR R4 Bundle from the clinic's record becomes an intake draft.

The Bundle is parsed with the fhir.resources R4B models (never by hand); each
resource the intake knows fills what it can, and everything else is listed as
ignored with the reason. A code system or unit the tables do not know is
reported, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from priorauth.domain.identifiers import is_icd10_cm, normalise_icd10
from priorauth.rules.library import Library

from .clinical import read_medication, read_observation, read_procedure
from .draft import DraftBuilder, FhirInputError, ImportResult, validation_lines
from .tables import tables
from .values import (
    address_line,
    as_date,
    codings,
    human_name,
    reference_key,
    resource_key,
    telecom,
)

BUNDLE_TYPES = frozenset({"transaction", "collection", "searchset", "batch"})
# Largest Bundle the import reads: an EHR export for one patient is far smaller.
MAX_ENTRIES = 2000
HANDLED = frozenset(
    {
        "Patient",
        "Coverage",
        "Condition",
        "Observation",
        "MedicationStatement",
        "MedicationRequest",
        "Procedure",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Medication",
    }
)


def parse_bundle(data: Any) -> Bundle:
    """Validate the JSON against the R4B Bundle model; raise FhirInputError per bad field."""
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise FhirInputError(
            'not a FHIR Bundle: expected a JSON object with "resourceType": "Bundle"'
        )
    entries = data.get("entry")
    if isinstance(entries, list) and len(entries) > MAX_ENTRIES:
        raise FhirInputError(f"the Bundle has {len(entries)} entries; at most {MAX_ENTRIES}")
    problems = _entry_shape(entries)
    if problems:
        raise FhirInputError("not a valid FHIR R4 Bundle", problems)
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as error:
        raise FhirInputError("not a valid FHIR R4 Bundle", validation_lines(error)) from None
    except (TypeError, KeyError, AttributeError) as error:
        # fhir.resources raises these on some malformed nested resources.
        raise FhirInputError("not a valid FHIR R4 Bundle", [f"(whole resource): {error}"]) from None
    if bundle.type not in BUNDLE_TYPES:
        raise FhirInputError(
            f"a Bundle of type {bundle.type!r} is not read; "
            f"send one of {', '.join(sorted(BUNDLE_TYPES))}"
        )
    return bundle


def _entry_shape(entries: Any) -> list[str]:
    """What the models cannot say by field: an entry or resource that is not an object."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        return ["entry: a list of entries"]
    problems = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"entry.{index}: an entry is a JSON object")
            continue
        resource = entry.get("resource")
        if resource is None:
            continue
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            problems.append(f"entry.{index}.resource.resourceType: a resource names its type")
    return problems


def import_bundle(data: Any, library: Library, payer_profile: str | None = None) -> ImportResult:
    """Turn a Bundle's resources into a draft case: filled, left, and ignored."""
    bundle = parse_bundle(data)
    builder = DraftBuilder()
    record = Record()
    for index, entry in enumerate(bundle.entry or []):
        resource = entry.resource
        if resource is None:
            builder.ignore(f"entry {index}", "no resource (a request or response only)")
            continue
        kind = resource.get_resource_type()
        if entry.search is not None and entry.search.mode == "outcome":
            builder.ignore(resource_key(resource), "a search outcome message, not record data")
            continue
        if kind not in HANDLED:
            builder.ignore(resource_key(resource), f"{kind} is not used by the intake")
            continue
        record.add(resource, entry.fullUrl)

    record.patient = _read_patient(record.of("Patient"), builder)
    _read_coverage(record, builder, payer_profile)
    _read_prescriber(record, builder)
    conditions = [c for c in record.of("Condition") if record.about_patient(c, builder)]
    _read_conditions(conditions, library, builder)
    for resource in record.of("Observation"):
        if record.about_patient(resource, builder):
            read_observation(resource, builder)
    for kind in ("MedicationStatement", "MedicationRequest"):
        for resource in record.of(kind):
            if record.about_patient(resource, builder):
                read_medication(resource, record.resolve, builder)
    for resource in record.of("Procedure"):
        if record.about_patient(resource, builder):
            read_procedure(resource, builder)
    _note_unreferenced(record, builder)
    return builder.result()


@dataclass
class Record:
    """The Bundle's resources in order, and an index by 'Type/id' and by fullUrl."""

    found: list[Any] = field(default_factory=list)
    index: dict[str, Any] = field(default_factory=dict)
    patient: Any = None

    def add(self, resource: Any, full_url: str | None) -> None:
        self.found.append(resource)
        if resource.id:
            self.index.setdefault(resource_key(resource), resource)
        if full_url:
            self.index.setdefault(full_url, resource)

    def of(self, kind: str) -> list[Any]:
        return [resource for resource in self.found if resource.get_resource_type() == kind]

    def resolve(self, reference: Any) -> Any:
        """The resource a Reference points at (by fullUrl, then by 'Type/id'), or None."""
        if reference is None:
            return None
        target = getattr(reference, "reference", None) or ""
        return self.index.get(target) or self.index.get(reference_key(reference))

    def about_patient(self, resource: Any, builder: DraftBuilder) -> bool:
        """False (and the resource listed as ignored) when it is about another patient."""
        subject = getattr(resource, "subject", None) or getattr(resource, "patient", None)
        if subject is None or self.patient is None:
            return True
        if self.resolve(subject) is self.patient:
            return True
        builder.ignore(resource_key(resource), "about another patient than the Bundle's Patient")
        return False


def _read_patient(patients: list[Any], builder: DraftBuilder) -> Any:
    if not patients:
        return None
    patient, *others = patients
    for other in others:
        builder.ignore(resource_key(other), "a second Patient: a draft is for one patient")
    source = resource_key(patient)
    given, family, _ = human_name(patient.name)
    if given:
        builder.set("patient.first_name", given, source)
    if family:
        builder.set("patient.last_name", family, source)
    birth = as_date(patient.birthDate)
    if birth is not None:
        builder.set("patient.date_of_birth", birth, source)
    if patient.gender in ("female", "male"):
        builder.set("patient.sex", patient.gender, source)
    elif patient.gender:
        builder.ignore(
            f"{source}.gender",
            f"{patient.gender!r}: the case records female or male for dosing and pregnancy; "
            "staff choose",
        )
    return patient


def _read_coverage(record: Record, builder: DraftBuilder, payer: str | None) -> None:
    coverages = [c for c in record.of("Coverage") if record.about_patient(c, builder)]
    active = [c for c in coverages if c.status == "active"]
    for coverage in coverages:
        if coverage not in active[:1]:
            builder.ignore(
                resource_key(coverage), f"status {coverage.status}, or not the first active one"
            )
    if payer:
        builder.set("coverage.payer_profile", payer, "chosen by staff")
    if not active:
        return
    coverage = active[0]
    source = resource_key(coverage)
    for payor in coverage.payor or []:
        organization = record.resolve(payor)
        name = getattr(organization, "name", None) or payor.display
        if name:
            where = resource_key(organization) if organization is not None else source
            builder.set("coverage.payer_name", name, where)
            break
    member = coverage.subscriberId or next(
        (i.value for i in coverage.identifier or [] if i.value), None
    )
    if member:
        builder.set("coverage.member_id", member, source)
    for item in coverage.class_fhir or []:
        if any(code == "group" for _, code, _ in codings(item.type)):
            builder.set("coverage.group_number", item.value, source)
    table = tables()
    for system, code, _ in codings(coverage.type):
        entry = table.plan_type(code) if system == table.system("sopt") else None
        if entry is not None:
            builder.set(
                "coverage.plan_type", entry.plan_type.value, source, entry.source, entry.unverified
            )
            return
    if coverage.type is not None:
        builder.ignore(
            f"{source}.type",
            "no Source of Payment Typology code the tables know; staff choose the plan type",
        )


def _read_prescriber(record: Record, builder: DraftBuilder) -> None:
    roles = record.of("PractitionerRole")
    practitioners = record.of("Practitioner")
    role = roles[0] if roles else None
    practitioner = record.resolve(role.practitioner) if role else None
    practitioner = practitioner or (practitioners[0] if practitioners else None)
    if practitioner is not None:
        source = resource_key(practitioner)
        given, family, suffix = human_name(practitioner.name)
        if given or family:
            builder.set("prescriber.name", f"{given} {family}".strip(), source)
        if suffix:
            builder.set("prescriber.credentials", suffix, source)
        npi_system = tables().system("npi")
        npi = next((i.value for i in practitioner.identifier or [] if i.system == npi_system), None)
        if npi:
            builder.set("prescriber.npi", npi, source)
        _contact(practitioner.telecom, source, builder)
        for other in practitioners:
            if other is not practitioner:
                builder.ignore(
                    resource_key(other), "not the prescriber (the first PractitionerRole's)"
                )
    if role is None:
        return
    source = resource_key(role)
    _contact(role.telecom, source, builder)
    table = tables()
    for system, code, _ in codings(role.specialty or []):
        entry = table.specialty(code) if system == table.system("nucc") else None
        if entry is not None:
            builder.set(
                "prescriber.specialty", entry.specialty, source, entry.source, entry.unverified
            )
            break
    else:
        builder.ignore(
            f"{source}.specialty",
            "no NUCC taxonomy code the tables know; staff choose the specialty",
        )
    organization = record.resolve(role.organization)
    if organization is not None:
        org_source = resource_key(organization)
        if organization.name:
            builder.set("prescriber.practice_name", organization.name, org_source)
        line = address_line(organization.address)
        if line:
            builder.set("prescriber.practice_address", line, org_source)
        if builder.get("prescriber.phone") is None:
            _contact(organization.telecom, org_source, builder)
    for other in roles[1:]:
        builder.ignore(
            resource_key(other), "a second PractitionerRole: the first is the prescriber's"
        )


def _contact(points: Any, source: str, builder: DraftBuilder) -> None:
    for system, path in (("phone", "prescriber.phone"), ("fax", "prescriber.fax")):
        value = telecom(points, system)
        if value and builder.get(path) is None:
            builder.set(path, value, source)


def _read_conditions(conditions: list[Any], library: Library, builder: DraftBuilder) -> None:
    icd10 = tables().system("icd10cm")
    indications: set[str] = set()
    for condition in conditions:
        source = resource_key(condition)
        status = next((code for _, code, _ in codings(condition.verificationStatus)), "")
        if status in ("refuted", "entered-in-error"):
            builder.ignore(source, f"verification status {status}")
            continue
        codes = [
            normalise_icd10(code) for system, code, _ in codings(condition.code) if system == icd10
        ]
        codes = [code for code in codes if is_icd10_cm(code)]
        if not codes:
            systems = sorted({system or "(no system)" for system, _, _ in codings(condition.code)})
            builder.ignore(
                source,
                f"no ICD-10-CM code (codes from {', '.join(systems) or 'no system'}): "
                "payers take the ICD-10-CM code; staff add it",
            )
            continue
        for code in codes:
            if code not in (builder.get("icd10_codes") or []):
                builder.append("icd10_codes", code, source)
            indications |= {d.id for d in library.indications.values() if d.code(code)}
    if len(indications) == 1:
        (indication,) = indications
        builder.set(
            "indication_id", indication, "the ICD-10-CM codes", "the definitions' [[codes]]"
        )
    elif indications:
        builder.ignore(
            "indication",
            f"the codes fit several indications ({', '.join(sorted(indications))}); staff choose",
        )


def _note_unreferenced(record: Record, builder: DraftBuilder) -> None:
    used = {item.source for item in builder.sources}
    for organization in record.of("Organization"):
        if resource_key(organization) not in used:
            builder.ignore(
                resource_key(organization),
                "an Organization neither the coverage's payer nor the prescriber's practice",
            )
