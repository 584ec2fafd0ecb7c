"""Hook requests as a record system builds them, for the CDS Hooks tests."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import create_engine, select

from mesoscreen.adapters.db import tables
from mesoscreen.services.cds_definitions import discovery
from tests.integration.cds_hooks.conftest import FHIR_SERVER, MESOTHERAPY, Keys, fill_prefetch

BASE = "https://mesoscreen.clinic.example"
SIGN = "/cds-services/mesotherapy-order-sign"
SELECT = "/cds-services/mesotherapy-order-select"
BOOK = "/cds-services/mesotherapy-appointment-book"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"

RECORD: list[dict[str, Any]] = [
    {"resourceType": "Patient", "id": "1288992", "gender": "female", "birthDate": "1980-04-02"},
    {"resourceType": "Observation", "id": "o1", "status": "final",
     "subject": {"reference": "Patient/1288992"}, "effectiveDateTime": "2026-11-20",
     "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
     "valueQuantity": {"value": 70}},
    {"resourceType": "Condition", "id": "someone-else", "subject": {"reference": "Patient/2"},
     "code": {"coding": [{"system": ICD10, "code": "E10.9"}]}},
    {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/1288992"},
     "clinicalStatus": {"coding": [{"code": "remission"}]},
     "code": {"coding": [{"system": ICD10, "code": "C50.911"}]}},
    {"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "Patient/1288992"},
     "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                          "code": "6387", "display": "Lidocaine"}]}},
]  # fmt: skip


def order(code: dict[str, str] = MESOTHERAPY, order_id: str = "meso-1") -> dict[str, Any]:
    """A draft ServiceRequest for the test patient."""
    return {"resourceType": "ServiceRequest", "id": order_id, "status": "draft",
            "intent": "order", "subject": {"reference": "Patient/1288992"},
            "code": {"coding": [code]}}  # fmt: skip


def prefetch_of(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The prefetch a record system fills from the discovery templates, from ``resources``."""
    return fill_prefetch(discovery()["services"][0]["prefetch"], "1288992", resources)


def hook_request(
    hook: str = "order-sign", prefetch: dict[str, Any] | None = None, **context: Any
) -> dict[str, Any]:
    """A hook request shaped like the specification's order-sign example."""
    body: dict[str, Any] = {
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": FHIR_SERVER,
        "hook": hook,
        "fhirAuthorization": {
            "access_token": "some-opaque-fhir-access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/Patient.read user/Condition.read",
            "subject": "cds-service",
        },
        "context": {
            "userId": "PractitionerRole/123",
            "patientId": "1288992",
            "encounterId": "89284",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order()}]},
            **context,
        },
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def call(client: Any, keys: Keys, path: str, body: Any, **token: Any) -> Any:
    """POST ``body`` to ``path`` with a fresh signed token for that endpoint."""
    headers = {"Authorization": f"Bearer {keys.token(BASE + path, **token)}"}
    return client.post(path, json=body, headers=headers)


def audit_rows(database_url: str, event: str) -> list[dict[str, Any]]:
    """The audit entries of type ``event``, read straight from the database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(tables.audit_log).where(tables.audit_log.c.event_type == event)
            )
            return [dict(r._mapping) for r in rows]
    finally:
        engine.dispose()


def refusal(response: Any) -> str:
    """The message of a refused call: the OperationOutcome's one issue, checked as R4."""
    from fhir.resources.R4B import get_fhir_model_class

    assert response.headers["content-type"] == "application/fhir+json", response.text
    outcome = response.json()
    get_fhir_model_class("OperationOutcome").model_validate(outcome)
    (issue,) = outcome["issue"]
    return str(issue["details"]["text"])
