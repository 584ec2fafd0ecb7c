"""Treatment plans: create from a screening, edit the draft, sign, amend."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from mesoscreen.domain.records import TreatmentPlan
from mesoscreen.entrypoints.api.deps import IfMatchDep, PrincipalDep, ServicesDep, set_etag
from mesoscreen.entrypoints.api.schemas import PageOut, PlanIn, PlanOut

router = APIRouter(prefix="/api/v1", tags=["plans"])


def _out(plan: TreatmentPlan, response: Response | None = None, replaced: bool = False) -> PlanOut:
    if response is not None:
        set_etag(response, plan.version)
    out = PlanOut.model_validate(plan)
    out.replaced = replaced
    return out


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
    """A draft plan from a signed screening that permits treatment, its actions done."""
    return _out(services.plans.create(principal, screening_id, body.document), response)


@router.get("/patients/{patient_id}/plans", response_model=PageOut[PlanOut])
def list_plans(
    patient_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    offset: int = 0,
    limit: int = 50,
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
    """Edit a draft plan (If-Match the version you read); signed plans refuse with 409."""
    plan = services.plans.update(principal, plan_id, version, {"document": body.document})
    return _out(plan, response)


@router.post("/plans/{plan_id}/sign", response_model=PlanOut)
def sign_plan(
    plan_id: str,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> PlanOut:
    """Sign the plan (clinicians only)."""
    return _out(services.plans.sign(principal, plan_id, version), response)


@router.post(
    "/plans/{plan_id}/amendments", response_model=PlanOut, status_code=status.HTTP_201_CREATED
)
def amend_plan(
    plan_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> PlanOut:
    """A new draft replacing a signed plan; the signed one is kept."""
    return _out(services.plans.amend(principal, plan_id), response)
