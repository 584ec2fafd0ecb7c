"""Screenings by id: read, sign, correct, and the results of their required actions."""

from __future__ import annotations

from fastapi import Response, status

from mesoscreen.entrypoints.api.deps import IfMatchDep, PrincipalDep, ServicesDep, set_etag
from mesoscreen.entrypoints.api.paging import DEFAULT_PAGE_SIZE, Limit, Offset
from mesoscreen.entrypoints.api.routes.patients import screening_out
from mesoscreen.entrypoints.api.schemas import ActionIn, ActionOut, IntakeIn, PageOut, ScreeningOut
from mesoscreen.entrypoints.prefix_router import PrefixRouter
from mesoscreen.services.required_actions import ActionReport

router = PrefixRouter(prefix="/api/v1", tags=["screenings"])


@router.get("/screenings/{screening_id}", response_model=ScreeningOut)
def get_screening(
    screening_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> ScreeningOut:
    """One screening snapshot, and whether a correction replaced it."""
    screening, replaced = services.screenings.get(principal, screening_id)
    set_etag(response, screening.version)
    return screening_out(screening, replaced)


@router.post("/screenings/{screening_id}/sign", response_model=ScreeningOut)
def sign_screening(
    screening_id: str,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> ScreeningOut:
    """Sign the screening (clinicians only)."""
    screening = services.screenings.sign(principal, screening_id, version)
    set_etag(response, screening.version)
    return screening_out(screening)


@router.post(
    "/screenings/{screening_id}/corrections",
    response_model=ScreeningOut,
    status_code=status.HTTP_201_CREATED,
)
def correct_screening(
    screening_id: str,
    body: IntakeIn,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> ScreeningOut:
    """Screen corrected answers as a new screening that replaces this one."""
    screening = services.screenings.correct(principal, screening_id, body.given)
    set_etag(response, screening.version)
    return screening_out(screening)


@router.post(
    "/screenings/{screening_id}/actions",
    response_model=ActionOut,
    status_code=status.HTTP_201_CREATED,
)
def record_action(
    screening_id: str, body: ActionIn, principal: PrincipalDep, services: ServicesDep
) -> ActionOut:
    """Record the result of a required action of the screening."""
    report = ActionReport(
        action_id=body.action_id,
        result=body.result,
        performed_on=body.performed_on,
        cleared_by=body.cleared_by,
        cleared_at=body.cleared_at,
        note=body.note,
    )
    return ActionOut.of(services.actions.record(principal, screening_id, report))


@router.get("/screenings/{screening_id}/actions", response_model=PageOut[ActionOut])
def list_actions(
    screening_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> PageOut[ActionOut]:
    """Action results recorded for the screening, oldest first."""
    page = services.actions.list_for_screening(principal, screening_id, offset, limit)
    return PageOut[ActionOut].of(page, ActionOut.of)


@router.get("/action-results/{completion_id}", response_model=ActionOut)
def get_action(completion_id: str, principal: PrincipalDep, services: ServicesDep) -> ActionOut:
    """One recorded action result."""
    return ActionOut.of(services.actions.get(principal, completion_id))
