"""Patients, and the screenings posted for them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response, status

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.names import full_name
from mesoscreen.domain.records import Patient, Screening
from mesoscreen.entrypoints.api.deps import IfMatchDep, PrincipalDep, ServicesDep, set_etag
from mesoscreen.entrypoints.api.paging import DEFAULT_PAGE_SIZE, Limit, Offset
from mesoscreen.entrypoints.api.schemas import (
    IntakeIn,
    NewPatientIn,
    PageOut,
    PatientIn,
    PatientOut,
    ScreeningOut,
)
from mesoscreen.entrypoints.prefix_router import PrefixRouter
from mesoscreen.services.patients import PatientDetails

router = PrefixRouter(prefix="/api/v1", tags=["patients"])


def patient_out(patient: Patient, principal: Principal) -> PatientOut:
    """The patient as ``principal`` may see it: no intake facts for non-clinical roles."""
    return PatientOut.of(
        patient,
        full_name=full_name(patient.family_name, patient.given_name, patient.language),
        intake=patient.intake if principal.can(Permission.CLINICAL_READ) else None,
    )


def screening_out(screening: Screening, replaced: bool = False) -> ScreeningOut:
    """A screening with whether it has been corrected."""
    return ScreeningOut.of(screening, replaced=replaced)


def _details(body: PatientIn) -> PatientDetails:
    return PatientDetails(
        family_name=body.family_name,
        given_name=body.given_name,
        birth_date=body.birth_date,
        sex=body.sex,
        phone=body.phone,
        intake=body.intake,
        language=body.language.value if body.language is not None else None,
    )


@router.post("/patients", response_model=PatientOut, status_code=status.HTTP_201_CREATED)
def register_patient(
    body: NewPatientIn,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=100,
            pattern=r"^[A-Za-z0-9._:-]{8,100}$",
            description="Repeat a create safely: the same key returns the first result.",
        ),
    ] = None,
) -> PatientOut:
    """Register a patient in one of the caller's clinics (idempotent with Idempotency-Key)."""
    patient = services.patients.register(principal, body.clinic_id, _details(body), idempotency_key)
    set_etag(response, patient.version)
    return patient_out(patient, principal)


@router.get("/patients", response_model=PageOut[PatientOut])
def search_patients(
    principal: PrincipalDep,
    services: ServicesDep,
    name: str | None = None,
    clinic_id: str | None = None,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> PageOut[PatientOut]:
    """Patients of the caller's clinics whose name contains ``name``."""
    page = services.patients.search(principal, name, clinic_id, offset, limit)
    return PageOut[PatientOut].of(page, lambda p: patient_out(p, principal))


@router.get("/patients/{patient_id}", response_model=PatientOut)
def get_patient(
    patient_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> PatientOut:
    """One patient."""
    patient = services.patients.get(principal, patient_id)
    set_etag(response, patient.version)
    return patient_out(patient, principal)


@router.put("/patients/{patient_id}", response_model=PatientOut)
def update_patient(
    patient_id: str,
    body: PatientIn,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> PatientOut:
    """Correct a patient's details (If-Match the version you read)."""
    patient = services.patients.update(principal, patient_id, version, _details(body))
    set_etag(response, patient.version)
    return patient_out(patient, principal)


@router.post("/patients/{patient_id}/archive", response_model=PatientOut)
def archive_patient(
    patient_id: str,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> PatientOut:
    """Archive a patient; records are never deleted."""
    patient = services.patients.archive(principal, patient_id, version)
    set_etag(response, patient.version)
    return patient_out(patient, principal)


@router.post(
    "/patients/{patient_id}/screenings",
    response_model=ScreeningOut,
    status_code=status.HTTP_201_CREATED,
)
def screen_intake(
    patient_id: str,
    body: IntakeIn,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> ScreeningOut:
    """Screen the intake with the engine and store the snapshot, in one transaction."""
    screening = services.screenings.screen_intake(principal, patient_id, body.given)
    set_etag(response, screening.version)
    return screening_out(screening)


@router.get("/patients/{patient_id}/screenings", response_model=PageOut[ScreeningOut])
def list_screenings(
    patient_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> PageOut[ScreeningOut]:
    """The patient's screenings, oldest first."""
    page, replaced = services.screenings.page_for_patient(principal, patient_id, offset, limit)
    return PageOut[ScreeningOut].of(page, lambda s: screening_out(s, s.id in replaced))
