"""The patient's record for a hook call: from prefetch, or fetched from the FHIR server.

CDS Hooks 2.0 gives each prefetch key one of three meanings, and we keep them apart:

- the key holds a resource or a search Bundle: that is the data (if the Bundle is paginated,
  its ``next`` pages are fetched from ``fhirServer``, never from another host);
- the key is ``null``: the record system has no data for it (nothing to fetch);
- the key is missing, or holds an ``OperationOutcome`` reporting an error: the record system
  could not or would not satisfy it, so the query is run against ``fhirServer`` with the
  ``fhirAuthorization`` access token.

When the data can be had neither way the call gets 412, as the specification says. Resources
that belong to another patient are dropped: they must not decide this patient's screening.
Every fetch goes through the ``FhirClient`` port, so a test double stands in for the server.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mesoscreen.domain.errors import RecordUnavailableError as RecordUnavailableError
from mesoscreen.services.cds_definitions import PREFETCH
from mesoscreen.services.ports import FhirClient

FETCH_TIMEOUT_SECONDS = 5.0
# All fetches of one call together: a hook answer that comes too late is no answer.
CALL_BUDGET_SECONDS = 8.0
MAX_PAGES = 20
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_FAILED_SEVERITIES = frozenset({"error", "fatal"})


@dataclass(frozen=True, slots=True)
class FhirServer:
    """The record system's FHIR server as the hook request names it, and the way to it."""

    base: str | None
    access_token: str | None
    client: FhirClient
    allow_plain_http: bool = False
    deadline: float = field(default_factory=lambda: time.monotonic() + CALL_BUDGET_SECONDS)

    @classmethod
    def of(
        cls,
        request: Mapping[str, Any],
        client: FhirClient,
        allow_plain_http: bool = False,
    ) -> FhirServer:
        """The server of a hook request (``fhirServer`` and ``fhirAuthorization``)."""
        base = request.get("fhirServer")
        authorization = request.get("fhirAuthorization")
        token = authorization.get("access_token") if isinstance(authorization, dict) else None
        return cls(
            base.rstrip("/") if isinstance(base, str) else None,
            token if isinstance(token, str) else None,
            client,
            allow_plain_http,
        )

    def get(self, url: str, why: str) -> object:
        """The JSON at ``url`` (relative to the base, or absolute on the same server)."""
        if self.base is None:
            raise RecordUnavailableError(f"{why} and no fhirServer was given")
        schemes = ("https://", "http://") if self.allow_plain_http else ("https://",)
        if not self.base.startswith(schemes):
            raise RecordUnavailableError(f"{why} and fhirServer is not an https URL")
        if url.startswith(("https://", "http://")):
            if not url.startswith(self.base + "/"):
                raise RecordUnavailableError(f"{why}: a page link leaves fhirServer")
        else:
            url = f"{self.base}/{url}"
        headers = {"Accept": "application/fhir+json"}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RecordUnavailableError(f"{why} and the FHIR server took too long")
        timeout = min(FETCH_TIMEOUT_SECONDS, remaining)
        reply = self.client.get(url, headers, timeout)
        if reply.failure is not None:
            raise RecordUnavailableError(
                f"{why} and the FHIR server could not be reached ({reply.failure})"
            )
        if reply.status != 200:
            raise RecordUnavailableError(f"{why} and the FHIR server answered {reply.status}")
        try:
            return reply.json()
        except ValueError:
            raise RecordUnavailableError(f"{why} and the FHIR server sent no JSON") from None


def _is_failure(value: object) -> bool:
    """Whether a prefetched value reports an error instead of data (an OperationOutcome)."""
    if not isinstance(value, dict):
        return True
    if value.get("resourceType") == "OperationOutcome":
        return True
    if value.get("resourceType") != "Bundle":
        return not isinstance(value.get("resourceType"), str)
    for entry in value.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
            issues = resource.get("issue")
            if any(isinstance(i, dict) and i.get("severity") in _FAILED_SEVERITIES
                   for i in (issues if isinstance(issues, list) else [])):  # fmt: skip
                return True
    return False


def _next_page(bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) else None
    return None


def _resources(value: object, key: str, server: FhirServer) -> list[dict[str, Any]]:
    """The resources of a resource or a (possibly paginated) searchset Bundle."""
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") != "Bundle":
        return [value] if value.get("resourceType") != "OperationOutcome" else []
    found: list[dict[str, Any]] = []
    page: object = value
    for _ in range(MAX_PAGES):
        if _is_failure(page) or not isinstance(page, dict):
            raise RecordUnavailableError(f"a page of prefetch {key!r} reports an error")
        entries = page.get("entry")
        found += [
            e["resource"]
            for e in (entries if isinstance(entries, list) else [])
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") != "OperationOutcome"
        ]
        next_url = _next_page(page)
        if next_url is None:
            return found
        page = server.get(next_url, f"prefetch {key!r} has more pages")
    raise RecordUnavailableError(f"prefetch {key!r} has more than {MAX_PAGES} pages")


def is_fhir_id(value: object) -> bool:
    """Whether ``value`` is a FHIR id (and not a path segment such as ``..``)."""
    return isinstance(value, str) and bool(FHIR_ID.fullmatch(value)) and value.strip(".") != ""


def belongs_to(resource: Mapping[str, Any], patient_id: str) -> bool:
    """False when the resource says it is another patient's."""
    if resource.get("resourceType") == "Patient":
        return resource.get("id") in (None, patient_id)
    for element in ("subject", "patient"):
        owner = resource.get(element)
        reference = owner.get("reference") if isinstance(owner, dict) else None
        if isinstance(reference, str) and reference.startswith(("Patient/", "http")):
            return reference == f"Patient/{patient_id}" or reference.endswith(
                f"/Patient/{patient_id}"
            )
    return True


def prefetch_complete(request: Mapping[str, Any]) -> bool:
    """Whether the request's prefetch answers every query on one page (data, or null for
    none): then the record is read without asking the FHIR server anything."""
    prefetch = request.get("prefetch")
    if not isinstance(prefetch, dict):
        return False
    for key in PREFETCH:
        if key not in prefetch:
            return False
        value = prefetch[key]
        if value is None:
            continue
        if _is_failure(value) or (value.get("resourceType") == "Bundle" and _next_page(value)):
            return False
    return True


def gather_record(
    request: Mapping[str, Any],
    patient_id: str,
    client: FhirClient,
    allow_plain_http: bool = False,
) -> list[dict[str, Any]]:
    """Every resource of this patient that the screening reads, prefetched or fetched."""
    if not is_fhir_id(patient_id):
        raise ValueError("patient_id is not a FHIR id")
    server = FhirServer.of(request, client, allow_plain_http)
    prefetch = request.get("prefetch")
    given = prefetch if isinstance(prefetch, dict) else {}
    resources: list[dict[str, Any]] = []
    for key, template in PREFETCH.items():
        if key in given and given[key] is None:
            continue  # the record system has no data for this query
        value = given.get(key)
        if key not in given or _is_failure(value):
            query = template.replace("{{context.patientId}}", patient_id)
            why = f"prefetch {key!r} is missing" if key not in given else (
                f"prefetch {key!r} reports an error"
            )  # fmt: skip
            value = server.get(query, why)
            if _is_failure(value):
                raise RecordUnavailableError(f"{why} and the FHIR server reported an error")
        resources += _resources(value, key, server)
    return [r for r in resources if belongs_to(r, patient_id)]
