"""Decoding of bulk lines that keeps only what the record reader reads.

Most of a patient's record is names, addresses, identifiers, categories and references that
no rule reads, and turning all of it into Python objects costs more than the screening. This
decoder (msgspec, given the shape of what is read) skips those elements while it checks the
JSON, keeps the elements in ``READ_ELEMENTS`` exactly as a full parse gives them, and hands
the CodeableConcepts over as raw JSON that the reader parses once per distinct concept.

It only takes the lines it can take whole. Anything else (not UTF-8, not JSON, not a
Bundle, an entry without a resource, a resource without a resourceType, an element of a
shape the types refuse) returns None, and the caller parses the line the general way, which
names what is wrong in the same words as ``mesoscreen screen``.
"""

from __future__ import annotations

from types import GenericAlias
from typing import Any, Literal, Required, TypedDict

import msgspec

from mesoscreen.adapters.bulk_export import PATIENT_FIELDS
from mesoscreen.adapters.fhir.record_concepts import CONCEPT_ELEMENTS, READ_ELEMENTS

#: Every element of a resource the bulk path uses: the reader's and where a patient is named.
KEPT_ELEMENTS = READ_ELEMENTS | CONCEPT_ELEMENTS | frozenset(PATIENT_FIELDS)


def _typed_dict(name: str, fields: dict[str, Any]) -> Any:
    """A TypedDict type (all keys optional) built from ``fields``, for msgspec."""
    return TypedDict(name, fields, total=False)  # type: ignore[operator]


# A line of any other shape fails msgspec's checks and goes the general way: a resource needs
# a string resourceType, an entry its resource, a Bundle line the Bundle type.
_Resource = _typed_dict(
    "_Resource",
    {name: msgspec.Raw if name in CONCEPT_ELEMENTS else Any for name in sorted(KEPT_ELEMENTS)}
    | {"resourceType": Required[str]},
)
_Entry = _typed_dict("_Entry", {"resource": Required[_Resource]})
_Bundle = _typed_dict(
    "_Bundle",
    {"resourceType": Required[Literal["Bundle"]], "entry": GenericAlias(list, (_Entry,))},
)


def is_utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8 (msgspec does not check strings it skips; orjson does)."""
    if data.isascii():
        return True
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


class BulkDecoder:
    """Decodes Bundle lines and resource lines into the elements the reader reads."""

    def __init__(self) -> None:
        self._bundle = msgspec.json.Decoder(_Bundle)
        self._resource = msgspec.json.Decoder(_Resource)

    def bundle(self, data: bytes) -> list[dict[str, Any]] | None:
        """The resources of a Bundle line; None if the general path must take it."""
        if not is_utf8(data):
            return None
        try:
            document = self._bundle.decode(data)
        except msgspec.MsgspecError:
            return None
        return [entry["resource"] for entry in document.get("entry", ())]

    def resource(self, data: bytes) -> dict[str, Any] | None:
        """The resource of a resource line; None if the general path must take it."""
        if not is_utf8(data):
            return None
        try:
            resource: dict[str, Any] = self._resource.decode(data)
        except msgspec.MsgspecError:
            return None
        return resource
