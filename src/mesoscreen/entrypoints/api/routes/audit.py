"""The audit trail for admins: reports and an NDJSON export (FHIR AuditEvent search is at
/fhir, in ``fhir_rest``)."""

from __future__ import annotations

import orjson
from fastapi import Response
from pydantic import AwareDatetime

from mesoscreen.entrypoints.api.deps import PrincipalDep, ServicesDep
from mesoscreen.entrypoints.api.fhir_rest.audit_events import audit_event
from mesoscreen.entrypoints.api.paging import DEFAULT_PAGE_SIZE, Limit, Offset
from mesoscreen.entrypoints.api.schemas import AuditEntryOut, PageOut
from mesoscreen.entrypoints.prefix_router import PrefixRouter
from mesoscreen.services.ports import StoredAuditEntry

router = PrefixRouter(tags=["audit"])


def _out(stored: StoredAuditEntry) -> AuditEntryOut:
    entry = stored.entry
    return AuditEntryOut.of(entry, seq=stored.seq, hash=stored.hash, **entry.plain_fields())


@router.get("/api/v1/audit", response_model=PageOut[AuditEntryOut])
def audit_report(
    principal: PrincipalDep,
    services: ServicesDep,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> PageOut[AuditEntryOut]:
    """Entries recorded in [since, until), in chain order."""
    page = services.audit.report(principal, since, until, offset, limit)
    return PageOut[AuditEntryOut].of(page, _out)


@router.get("/api/v1/audit/export", response_class=Response)
def audit_export(
    principal: PrincipalDep,
    services: ServicesDep,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    format: str = "ndjson",  # the query parameter's public name
) -> Response:
    """Every entry in the range as NDJSON (``format=fhir`` for AuditEvent resources)."""
    entries = services.audit.export(principal, since, until)
    convert = audit_event if format == "fhir" else lambda s: _out(s).model_dump(mode="json")
    body = b"".join(orjson.dumps(convert(s)) + b"\n" for s in entries)
    return Response(body, media_type="application/x-ndjson")
