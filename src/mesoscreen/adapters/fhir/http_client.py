"""``HttpxFhirClient``: the ``FhirClient`` port over httpx, whose transport is the I/O seam.

Tests hand it ``httpx.MockTransport`` and the whole CDS service runs offline against a
double of the record system's FHIR server (and of a client's JWK Set URL).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from mesoscreen.services.ports import HttpReply


class HttpxFhirClient:
    """GETs over httpx; a failed connection becomes an ``HttpReply`` naming the failure."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        self._transport = transport

    def get(self, url: str, headers: Mapping[str, str], timeout_seconds: float) -> HttpReply:
        """The status and body of ``GET url`` (redirects are not followed)."""
        try:
            with httpx.Client(transport=self._transport, timeout=timeout_seconds) as client:
                response = client.get(url, headers=dict(headers))
                return HttpReply(response.status_code, response.content)
        except httpx.HTTPError as exc:
            return HttpReply(0, b"", type(exc).__name__)
