"""Adverse events: report, edit the draft, sign, amend, resolve."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import Response, status

from mesoscreen.domain.records import AdverseEvent
from mesoscreen.entrypoints.api.deps import IfMatchDep, PrincipalDep, ServicesDep, set_etag
from mesoscreen.entrypoints.api.paging import DEFAULT_PAGE_SIZE, Limit, Offset
from mesoscreen.entrypoints.api.schemas import (
    AdverseEventIn,
    AdverseEventOut,
    PageOut,
    ResolutionIn,
)
from mesoscreen.entrypoints.prefix_router import PrefixRouter
from mesoscreen.services.adverse_events import EventDetails

router = PrefixRouter(prefix="/api/v1", tags=["adverse events"])


def _out(
    event: AdverseEvent, response: Response | None = None, replaced: bool = False
) -> AdverseEventOut:
    if response is not None:
        set_etag(response, event.version)
    return AdverseEventOut.of(event, replaced=replaced)


def _details(body: AdverseEventIn) -> EventDetails:
    return EventDetails(**body.model_dump())


@router.post(
    "/patients/{patient_id}/adverse-events",
    response_model=AdverseEventOut,
    status_code=status.HTTP_201_CREATED,
)
def report_event(
    patient_id: str,
    body: AdverseEventIn,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> AdverseEventOut:
    """Report an adverse event as a draft."""
    event = services.adverse_events.report(principal, patient_id, _details(body))
    return _out(event, response)


@router.get("/patients/{patient_id}/adverse-events", response_model=PageOut[AdverseEventOut])
def list_events(
    patient_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> PageOut[AdverseEventOut]:
    """The patient's adverse events, oldest first."""
    page = services.adverse_events.list_for_patient(principal, patient_id, offset, limit)
    return PageOut[AdverseEventOut].of(page, _out)


@router.get("/adverse-events/{event_id}", response_model=AdverseEventOut)
def get_event(
    event_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> AdverseEventOut:
    """One adverse event, and whether an amendment replaced it."""
    event, replaced = services.adverse_events.get(principal, event_id)
    return _out(event, response, replaced)


@router.put("/adverse-events/{event_id}", response_model=AdverseEventOut)
def update_event(
    event_id: str,
    body: AdverseEventIn,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> AdverseEventOut:
    """Edit a draft report (If-Match); signed reports refuse with 409."""
    changes = asdict(_details(body))
    changes["outcome"] = body.outcome.value
    event = services.adverse_events.update(principal, event_id, version, changes)
    return _out(event, response)


@router.post("/adverse-events/{event_id}/sign", response_model=AdverseEventOut)
def sign_event(
    event_id: str,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> AdverseEventOut:
    """Sign the report (clinicians only)."""
    return _out(services.adverse_events.sign(principal, event_id, version), response)


@router.post(
    "/adverse-events/{event_id}/amendments",
    response_model=AdverseEventOut,
    status_code=status.HTTP_201_CREATED,
)
def amend_event(
    event_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> AdverseEventOut:
    """A new draft replacing a signed report; the signed one is kept."""
    return _out(services.adverse_events.amend(principal, event_id), response)


@router.post("/adverse-events/{event_id}/resolution", response_model=AdverseEventOut)
def resolve_event(
    event_id: str,
    body: ResolutionIn,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> AdverseEventOut:
    """Record how (resolved, with sequelae, fatal) and when the event ended (If-Match); it then
    leaves the worklist. A draft is resolved in place; a signed event is kept and its
    resolution is a new draft replacing it, returned here to be signed."""
    resolved = services.adverse_events.resolve(
        principal, event_id, version, body.outcome, body.resolved_on
    )
    return _out(resolved, response)
