"""Outcome measures: record one (or a correction), list the patient's current ones."""

from __future__ import annotations

from fastapi import status

from mesoscreen.domain.outcomes import Measurements
from mesoscreen.entrypoints.api.deps import PrincipalDep, ServicesDep
from mesoscreen.entrypoints.api.schemas import OutcomeMeasureIn, OutcomeMeasureOut
from mesoscreen.entrypoints.prefix_router import PrefixRouter
from mesoscreen.services.outcome_measures import OutcomeDetails

router = PrefixRouter(prefix="/api/v1", tags=["outcome measures"])


@router.post(
    "/patients/{patient_id}/outcome-measures",
    response_model=OutcomeMeasureOut,
    status_code=status.HTTP_201_CREATED,
)
def record_measure(
    patient_id: str, body: OutcomeMeasureIn, principal: PrincipalDep, services: ServicesDep
) -> OutcomeMeasureOut:
    """Record what was measured; ``replaces_id`` makes it a correction of an earlier one."""
    measured = Measurements(
        hair_count=body.hair_count,
        area_cm2=body.area_cm2,
        shaft_thickness_um=body.shaft_thickness_um,
        self_assessment=body.self_assessment,
    )
    details = OutcomeDetails(
        measured_on=body.measured_on,
        measurements=measured,
        session_id=body.session_id,
        note=body.note,
        replaces_id=body.replaces_id,
    )
    measure = services.outcome_measures.record(principal, patient_id, details)
    return OutcomeMeasureOut.of(measure)


@router.get("/patients/{patient_id}/outcome-measures", response_model=list[OutcomeMeasureOut])
def list_measures(
    patient_id: str, principal: PrincipalDep, services: ServicesDep
) -> list[OutcomeMeasureOut]:
    """The patient's measures that no correction replaced, oldest first."""
    found = services.outcome_measures.list_for_patient(principal, patient_id)
    return [OutcomeMeasureOut.of(m) for m in found]
