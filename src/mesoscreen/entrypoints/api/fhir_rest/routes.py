"""The /fhir routes: capabilities, AuditEvent search, Questionnaire and Consent reads."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Depends, HTTPException, Request, Response

from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.api.deps import PrincipalDep, ServicesDep
from mesoscreen.entrypoints.api.fhir_rest.audit_events import audit_event
from mesoscreen.entrypoints.api.fhir_rest.capability import (
    AUDIT_EVENT_SEARCH,
    capability_statement,
)
from mesoscreen.entrypoints.api.fhir_rest.negotiation import require_json
from mesoscreen.entrypoints.api.fhir_rest.search import (
    SearchPage,
    check_names,
    date_range,
    page_of,
    patient_of,
    searchset,
)
from mesoscreen.entrypoints.api.problems import FHIR_JSON
from mesoscreen.entrypoints.prefix_router import PrefixRouter

router = PrefixRouter(prefix="/fhir", tags=["fhir"], dependencies=[Depends(require_json)])

_FHIR_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {}}, "description": "A FHIR R4 resource."}
}


def _fhir(resource: dict[str, Any]) -> Response:
    return Response(orjson.dumps(resource), media_type=FHIR_JSON)


def _base(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}/fhir"


@router.get("/metadata", response_class=Response, responses=_FHIR_RESPONSE)
def metadata(request: Request) -> Response:
    """The CapabilityStatement (read without signing in, as FHIR clients expect)."""
    return _fhir(capability_statement(_base(request)))


@router.get("/AuditEvent", response_class=Response, responses=_FHIR_RESPONSE)
def search_audit_events(
    request: Request, principal: PrincipalDep, services: ServicesDep
) -> Response:
    """AuditEvents the admin may read, oldest first: ``date``, ``patient``, ``_count``."""
    given = request.query_params.multi_items()
    check_names(given, frozenset(AUDIT_EVENT_SEARCH))
    offset, count = page_of(given)
    since, until = date_range(given)
    patient_id = patient_of(given)
    page = services.audit.report(
        principal, since, until, offset, max(count, 1), patient_id=patient_id
    )
    matches = [audit_event(s) for s in page.items] if count else []
    found = SearchPage(matches, page.total, offset, count)
    return _fhir(searchset(_base(request), "AuditEvent", given, found))


@router.get("/Questionnaire/{questionnaire_id}", response_class=Response, responses=_FHIR_RESPONSE)
def read_questionnaire(
    questionnaire_id: str, request: Request, _principal: PrincipalDep, services: ServicesDep
) -> Response:
    """The SDC intake Questionnaire (``language`` en or vi; the other rides as translations)."""
    document = services.fhir_documents.questionnaire(services.screening.kb, _language(request))
    if questionnaire_id != document["id"]:
        raise HTTPException(404, f"no Questionnaire {questionnaire_id[:64]!r}")
    return _fhir(document)


@router.get("/Consent/{consent_id}", response_class=Response, responses=_FHIR_RESPONSE)
def read_consent(consent_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    """A consent as a FHIR R4 Consent (within the reader's clinics, as every read)."""
    state = services.consents.get(principal, consent_id)
    return _fhir(services.fhir_documents.consent(state.consent, state.withdrawal))


def _language(request: Request) -> Language:
    """The ``language`` parameter (en by default); other parameters are refused."""
    given = request.query_params.multi_items()
    for name, value in given:
        if name not in ("language", "_format"):
            raise HTTPException(400, f"'{name}': not a parameter of this read")
        if name == "language" and value not in {lang.value for lang in Language}:
            raise HTTPException(400, f"'language': expected en or vi (got {value[:20]!r})")
    chosen = request.query_params.get("language", Language.EN.value)
    return Language(chosen)
