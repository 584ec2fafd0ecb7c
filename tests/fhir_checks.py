"""Checks of emitted FHIR that no schema makes: references resolve in a Bundle, paths reach
codes, ids are distinct (used by the adapter, API and validator tests)."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

_CODED = {"Coding", "CodeableConcept"}


def references(node: Any) -> Iterator[str]:
    """Every ``Reference.reference`` string anywhere in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def unresolved_references(bundle: dict[str, Any]) -> list[str]:
    """References that should resolve inside ``bundle`` and do not: a ``urn:uuid`` absent
    from the fullUrls, or a relative reference to a resource the Bundle itself holds (which
    does not resolve against a ``urn:uuid`` fullUrl)."""
    full_urls = {e.get("fullUrl") for e in bundle.get("entry", [])}
    held = {
        f"{e['resource']['resourceType']}/{e['resource'].get('id')}"
        for e in bundle.get("entry", [])
    }
    return [
        reference
        for reference in references(bundle)
        if (reference.startswith("urn:uuid:") and reference not in full_urls) or reference in held
    ]


def _type_name(annotation: Any) -> tuple[str, bool]:
    """The FHIR type name of a field's annotation, and whether it is a primitive code."""
    if typing.get_origin(annotation) is typing.Annotated:
        return "", any(type(m).__name__ == "Code" for m in typing.get_args(annotation)[1:])
    if typing.get_origin(annotation) is not None:  # Optional[...], List[...]
        for arg in typing.get_args(annotation):
            found = _type_name(arg)
            if found != ("", False):
                return found
        return "", False
    name = getattr(annotation, "__name__", "")
    if name.endswith("Type") and name != "NoneType":
        return name.removesuffix("Type"), False
    return "", False


def path_reaches_a_code(resource_type: str, path: str) -> bool:
    """Whether a DataRequirement path (identifiers joined by dots) on ``resource_type``
    ends at an element of type code, Coding or CodeableConcept."""
    model = get_fhir_model_class(resource_type)
    parts = path.split(".")
    for index, part in enumerate(parts):
        if not re.fullmatch(r"[a-zA-Z]+", part) or part not in model.model_fields:
            return False
        name, is_code = _type_name(model.model_fields[part].annotation)
        if index == len(parts) - 1:
            return is_code or name in _CODED
        if not name:
            return False
        model = get_fhir_model_class(name)
    return False
