"""The patient's record for a hook call: from prefetch, or fetched from the FHIR server.

Prefetch values are single resources or search Bundles; a key that is missing or ``null`` is
fetched from ``fhirServer`` with the ``fhirAuthorization`` access token. When the data can be
had neither way the call gets 412, as the specification says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from mesoscreen.entrypoints.api.cds_hooks.definitions import PREFETCH

FETCH_TIMEOUT_SECONDS = 5.0


class RecordUnavailableError(Exception):
    """Neither prefetch nor the FHIR server gave the data (412)."""


def _resources(value: object) -> list[dict[str, Any]]:
    """The resources of a prefetched or fetched value (a resource or a Bundle)."""
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        entries = value.get("entry")
        return [
            e["resource"]
            for e in (entries if isinstance(entries, list) else [])
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        ]
    return [value] if isinstance(value.get("resourceType"), str) else []


def _fetch(request: Mapping[str, Any], query: str, transport: httpx.BaseTransport | None) -> object:
    """One prefetch query run against the FHIR server of the request."""
    server = request.get("fhirServer")
    authorization = request.get("fhirAuthorization")
    if not isinstance(server, str) or not server.startswith(("https://", "http://")):
        raise RecordUnavailableError("prefetch is incomplete and no fhirServer was given")
    headers = {"Accept": "application/fhir+json"}
    if isinstance(authorization, dict) and isinstance(authorization.get("access_token"), str):
        headers["Authorization"] = f"Bearer {authorization['access_token']}"
    try:
        with httpx.Client(transport=transport, timeout=FETCH_TIMEOUT_SECONDS) as client:
            response = client.get(f"{server.rstrip('/')}/{query}", headers=headers)
    except httpx.HTTPError as exc:
        raise RecordUnavailableError(f"the FHIR server could not be reached ({exc})") from None
    if response.status_code != 200:
        raise RecordUnavailableError(f"the FHIR server answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise RecordUnavailableError("the FHIR server sent something that is not JSON") from None


def gather_record(
    request: Mapping[str, Any], patient_id: str, transport: httpx.BaseTransport | None = None
) -> list[dict[str, Any]]:
    """Every resource the screening reads, prefetched or fetched."""
    prefetch = request.get("prefetch")
    given = prefetch if isinstance(prefetch, dict) else {}
    resources: list[dict[str, Any]] = []
    for key, template in PREFETCH.items():
        value = given.get(key)
        if value is None:
            value = _fetch(
                request, template.replace("{{context.patientId}}", patient_id), transport
            )
        resources.extend(_resources(value))
    return resources
