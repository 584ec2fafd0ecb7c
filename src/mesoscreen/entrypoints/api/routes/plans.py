"""Treatment plans: create from a screening, edit the draft, sign, amend.

Create and edit take a planning request (``PlanIn``); the planner makes the document, and the
plan gate checks every write and every signature (see services/plan_gate.py).
"""

from __future__ import annotations

from fastapi import Response, status

from mesoscreen.domain.planner.request import PlanRequest
from mesoscreen.domain.records import PlanRecord
from mesoscreen.entrypoints.api.deps import IfMatchDep, PrincipalDep, ServicesDep, set_etag
from mesoscreen.entrypoints.api.paging import DEFAULT_PAGE_SIZE, Limit, Offset
from mesoscreen.entrypoints.api.schemas import PageOut, PlanIn, PlanOut
from mesoscreen.entrypoints.prefix_router import PrefixRouter

router = PrefixRouter(prefix="/api/v1", tags=["plans"])


def plan_request(body: PlanIn) -> PlanRequest:
    """The domain request of a request body."""
    return PlanRequest(
        zones=tuple(body.zones),
        stage=body.stage,
        spacing_cm=body.spacing_cm,
        product=body.product,
        first_session=body.first_session,
        head_circumference_cm=body.head_circumference_cm,
        nasion_inion_cm=body.nasion_inion_cm,
        ear_to_ear_cm=body.ear_to_ear_cm,
        volume_per_point_ml=body.volume_per_point_ml,
        depth_mm=body.depth_mm,
    )


def _out(plan: PlanRecord, response: Response | None = None, replaced: bool = False) -> PlanOut:
    if response is not None:
        set_etag(response, plan.version)
    return PlanOut.of(plan, replaced=replaced)


@router.post(
    "/screenings/{screening_id}/plans", response_model=PlanOut, status_code=status.HTTP_201_CREATED
)
def create_plan(
    screening_id: str,
    body: PlanIn,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> PlanOut:
    """A draft plan made by the planner from the request, if the plan gate passes it: the
    screening signed, current and permitting treatment with its actions done, no excluded
    ingredient, no start before the earliest date, every cap kept (422 naming the field)."""
    return _out(services.plans.create(principal, screening_id, plan_request(body)), response)


@router.get("/patients/{patient_id}/plans", response_model=PageOut[PlanOut])
def list_plans(
    patient_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> PageOut[PlanOut]:
    """The patient's plans, oldest first."""
    page = services.plans.list_for_patient(principal, patient_id, offset, limit)
    return PageOut[PlanOut].of(page, _out)


@router.get("/plans/{plan_id}", response_model=PlanOut)
def get_plan(
    plan_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> PlanOut:
    """One plan, and whether an amendment replaced it."""
    plan, replaced = services.plans.get(principal, plan_id)
    return _out(plan, response, replaced)


@router.put("/plans/{plan_id}", response_model=PlanOut)
def update_plan(
    plan_id: str,
    body: PlanIn,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> PlanOut:
    """Make a draft plan again from a new request (If-Match the version you read), through the
    same gate; signed plans refuse with 409."""
    plan = services.plans.update(principal, plan_id, version, {"request": plan_request(body)})
    return _out(plan, response)


@router.post("/plans/{plan_id}/sign", response_model=PlanOut)
def sign_plan(
    plan_id: str,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> PlanOut:
    """Sign the plan (clinicians only), after the gate checks it again: the screening still
    current, the knowledge base still in force, the document what the planner makes."""
    return _out(services.plans.sign(principal, plan_id, version), response)


@router.post(
    "/plans/{plan_id}/amendments", response_model=PlanOut, status_code=status.HTTP_201_CREATED
)
def amend_plan(
    plan_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> PlanOut:
    """A new draft replacing a signed plan; the signed one is kept."""
    return _out(services.plans.amend(principal, plan_id), response)
