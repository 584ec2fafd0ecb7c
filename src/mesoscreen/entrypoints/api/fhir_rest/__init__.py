"""``/fhir``: a FHIR R4 REST base (capabilities, AuditEvent search, Questionnaire and Consent
reads), JSON only; every error an OperationOutcome."""

from mesoscreen.entrypoints.api.fhir_rest.routes import router

__all__ = ["router"]
