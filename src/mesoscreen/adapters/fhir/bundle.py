"""The resources of a FHIR ``Bundle``, checked enough to name what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mesoscreen.domain.errors import FhirInputError


def is_bundle(document: object) -> bool:
    """Whether ``document`` claims to be a FHIR Bundle."""
    return isinstance(document, Mapping) and document.get("resourceType") == "Bundle"


def resources_of(bundle: object) -> list[dict[str, Any]]:
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
