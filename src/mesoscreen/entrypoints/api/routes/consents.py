"""Consent: the document to sign, the patient's signature, countersigning, withdrawal, and
the consent as a FHIR R4 Consent."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response, status

from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.api.deps import IfMatchDep, PrincipalDep, ServicesDep, set_etag
from mesoscreen.entrypoints.api.problems import FHIR_JSON
from mesoscreen.entrypoints.api.schemas import ConsentIn, ConsentOut, WithdrawalIn
from mesoscreen.entrypoints.prefix_router import PrefixRouter
from mesoscreen.services.consents import ConsentState, PatientSignature

router = PrefixRouter(prefix="/api/v1", tags=["consent"])


def _out(state: ConsentState, response: Response | None = None) -> ConsentOut:
    consent, withdrawal = state.consent, state.withdrawal
    if response is not None:
        set_etag(response, consent.version)
    return ConsentOut.of(
        consent,
        current_version=state.current_version,
        active=state.active,
        withdrawn_at=withdrawal.withdrawn_at if withdrawal else None,
        withdrawal_reason=withdrawal.reason if withdrawal else None,
    )


@router.get("/screenings/{screening_id}/consent-document")
def consent_document(
    screening_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    language: Language = Language.EN,
) -> dict[str, Any]:
    """The document the patient reads before signing, from the template in force today."""
    return services.consents.document(principal, screening_id, language)


@router.post(
    "/screenings/{screening_id}/consents",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
)
def take_consent(
    screening_id: str,
    body: ConsentIn,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> ConsentOut:
    """The patient signs (drawn or typed and confirmed); the consent awaits countersignature."""
    signature = PatientSignature(body.signature_method, body.signature, body.confirmed)
    consent = services.consents.take(
        principal, screening_id, body.language, signature, body.template_version
    )
    return _out(ConsentState(consent, None, True), response)


@router.post("/consents/{consent_id}/countersign", response_model=ConsentOut)
def countersign(
    consent_id: str,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> ConsentOut:
    """The clinician countersigns (If-Match); the consent is then frozen."""
    services.consents.countersign(principal, consent_id, version)
    return _out(services.consents.get(principal, consent_id), response)


@router.post(
    "/consents/{consent_id}/withdrawal",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
)
def withdraw(
    consent_id: str,
    body: WithdrawalIn,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> ConsentOut:
    """Record the patient's withdrawal: no further session may start under this consent."""
    services.consents.withdraw(principal, consent_id, body.reason)
    return _out(services.consents.get(principal, consent_id), response)


@router.get("/patients/{patient_id}/consents", response_model=list[ConsentOut])
def list_consents(
    patient_id: str, principal: PrincipalDep, services: ServicesDep
) -> list[ConsentOut]:
    """The patient's consents, oldest first."""
    return [_out(state) for state in services.consents.list_for_patient(principal, patient_id)]


@router.get("/consents/{consent_id}", response_model=ConsentOut)
def get_consent(
    consent_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> ConsentOut:
    """One consent with its withdrawal, if any."""
    return _out(services.consents.get(principal, consent_id), response)


@router.get(
    "/consents/{consent_id}/fhir",
    responses={200: {"content": {FHIR_JSON: {}}, "description": "A FHIR R4 Consent."}},
)
def consent_as_fhir(consent_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    """The consent as a FHIR R4 Consent resource."""
    state = services.consents.get(principal, consent_id)
    body = services.fhir_documents.consent(state.consent, state.withdrawal)
    return Response(orjson.dumps(body), media_type=FHIR_JSON)
