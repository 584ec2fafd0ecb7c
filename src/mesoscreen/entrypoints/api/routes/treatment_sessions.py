"""Treatment sessions: record, edit the draft, sign, amend."""

from __future__ import annotations

from typing import Any

from fastapi import Response, status

from mesoscreen.domain.records import TreatmentSession
from mesoscreen.entrypoints.api.deps import IfMatchDep, PrincipalDep, ServicesDep, set_etag
from mesoscreen.entrypoints.api.paging import DEFAULT_PAGE_SIZE, Limit, Offset
from mesoscreen.entrypoints.api.schemas import PageOut, SessionIn, TreatmentSessionOut
from mesoscreen.entrypoints.prefix_router import PrefixRouter
from mesoscreen.services.treatment_sessions import SessionDetails

router = PrefixRouter(prefix="/api/v1", tags=["treatment sessions"])


def _out(
    session: TreatmentSession, response: Response | None = None, replaced: bool = False
) -> TreatmentSessionOut:
    if response is not None:
        set_etag(response, session.version)
    return TreatmentSessionOut.of(session, replaced=replaced)


def _fields(body: SessionIn) -> dict[str, Any]:
    return {
        "performed_at": body.performed_at,
        "points": [p.model_dump(mode="json") for p in body.points],
        "products": [p.model_dump(mode="json") for p in body.products],
        "depth_mm": body.depth_mm,
        "plan_id": body.plan_id,
        "notes": body.notes,
    }


@router.post(
    "/patients/{patient_id}/treatment-sessions",
    response_model=TreatmentSessionOut,
    status_code=status.HTTP_201_CREATED,
)
def record_session(
    patient_id: str,
    body: SessionIn,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> TreatmentSessionOut:
    """Record a session as a draft; the operator defaults to the caller."""
    details = SessionDetails(**_fields(body), operator_id=body.operator_id)
    return _out(services.treatment_sessions.create(principal, patient_id, details), response)


@router.get(
    "/patients/{patient_id}/treatment-sessions", response_model=PageOut[TreatmentSessionOut]
)
def list_sessions(
    patient_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> PageOut[TreatmentSessionOut]:
    """The patient's sessions, oldest first."""
    page = services.treatment_sessions.list_for_patient(principal, patient_id, offset, limit)
    return PageOut[TreatmentSessionOut].of(page, _out)


@router.get("/treatment-sessions/{session_id}", response_model=TreatmentSessionOut)
def get_session(
    session_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> TreatmentSessionOut:
    """One session, and whether an amendment replaced it."""
    session, replaced = services.treatment_sessions.get(principal, session_id)
    return _out(session, response, replaced)


@router.put("/treatment-sessions/{session_id}", response_model=TreatmentSessionOut)
def update_session(
    session_id: str,
    body: SessionIn,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> TreatmentSessionOut:
    """Edit a draft session (If-Match); signed sessions refuse with 409."""
    changes = _fields(body)
    if body.operator_id is not None:
        changes["operator_id"] = body.operator_id
    session = services.treatment_sessions.update(principal, session_id, version, changes)
    return _out(session, response)


@router.post("/treatment-sessions/{session_id}/sign", response_model=TreatmentSessionOut)
def sign_session(
    session_id: str,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> TreatmentSessionOut:
    """Sign the session."""
    return _out(services.treatment_sessions.sign(principal, session_id, version), response)


@router.post(
    "/treatment-sessions/{session_id}/amendments",
    response_model=TreatmentSessionOut,
    status_code=status.HTTP_201_CREATED,
)
def amend_session(
    session_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> TreatmentSessionOut:
    """A new draft replacing a signed session; the signed one is kept."""
    return _out(services.treatment_sessions.amend(principal, session_id), response)
