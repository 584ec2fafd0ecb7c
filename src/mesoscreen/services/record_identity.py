"""Whose record a FHIR Bundle is: its resources, and the one patient they belong to.

A Bundle (or a bulk NDJSON line) is one patient's record. A resource names its patient by
being the Patient (its ``id``) or by a reference in ``subject``, ``patient`` or
``beneficiary`` (``Patient/<id>``, relative or absolute). A Bundle whose resources name two
patients is refused, naming the element of the first resource that names the second one:
its facts must never be merged into one screening. A reference that names no patient id
(``urn:uuid:``, a contained resource) cannot tell, and neither refuses nor decides.

Where the patient is known beforehand (a CDS Hooks call names it), resources that name
another patient are left out instead: they are not this patient's and are not read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from mesoscreen.domain.errors import FhirInputError

# Where a resource names the patient it belongs to, in the order they are tried.
PATIENT_ELEMENTS = ("subject", "patient", "beneficiary")

_R = TypeVar("_R", bound=Mapping[str, Any])


def is_bundle(document: object) -> bool:
    """Whether ``document`` claims to be a FHIR Bundle."""
    return isinstance(document, Mapping) and document.get("resourceType") == "Bundle"


def bundle_resources(bundle: object) -> list[dict[str, Any]]:
    """Every ``entry[].resource`` of ``bundle``; FhirInputError naming the bad element."""
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        raise FhirInputError("'resourceType': expected 'Bundle'")
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise FhirInputError("'Bundle.entry': expected a list")
    resources: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise FhirInputError(
                f"'Bundle.entry[{index}].resource': expected a resource with a resourceType"
            )
        resources.append(resource)
    return resources


def patient_in_reference(reference: str) -> str | None:
    """The id in ``Patient/<id>`` or ``<base>/Patient/<id>[/_history/<v>]``; else None."""
    if reference.startswith("Patient/"):
        tail = reference[len("Patient/") :]
    elif "://" in reference and "/Patient/" in reference:
        tail = reference.rsplit("/Patient/", 1)[1]
    else:
        return None
    return tail.split("/", 1)[0] or None


def patient_named_by(resource: Mapping[str, Any]) -> tuple[str, str] | None:
    """The id of the patient ``resource`` belongs to and the element that says so; None when
    it names none (a Patient without an id, a reference that is not to a Patient)."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return (rid, "id") if isinstance(rid, str) and rid else None
    for element in PATIENT_ELEMENTS:
        owner = resource.get(element)
        if owner is None:
            continue
        # dict first: the Mapping check alone goes through the ABC machinery (for every
        # resource of every bulk patient).
        reference = owner.get("reference") if isinstance(owner, (dict, Mapping)) else None
        if isinstance(reference, str):
            found = patient_in_reference(reference)
            if found is not None:
                return found, f"{element}.reference"
    return None


def record_patient(resources: Sequence[Mapping[str, Any]]) -> str | None:
    """The id of the one patient ``resources`` (a Bundle's, in entry order) belong to; None
    when none names a patient. FhirInputError, naming the element, when two patients are."""
    found: str | None = None
    for index, resource in enumerate(resources):
        named = patient_named_by(resource)
        if named is None:
            continue
        if found is None:
            found = named[0]
        elif named[0] != found:
            where = f"Bundle.entry[{index}].resource.{named[1]}"
            raise FhirInputError(
                f"'{where}': expected the patient the Bundle's other resources belong to "
                "(got another patient; a Bundle holds one patient's record)",
                field=where,
            )
    return found


def own_resources(resources: Sequence[_R], patient_id: str) -> list[_R]:
    """The resources that do not name a patient other than ``patient_id``."""
    kept = []
    for resource in resources:
        named = patient_named_by(resource)
        if named is None or named[0] == patient_id:
            kept.append(resource)
    return kept
