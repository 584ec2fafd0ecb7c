"""Consent over HTTP: 409 consent_required for a session without it, the FHIR Consent, and
withdrawal shown in both."""

from __future__ import annotations

from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class

from mesoscreen.domain.access import Role
from tests.factories import TwoClinics
from tests.integration.api.conftest import bearer
from tests.integration.api.records import consented, new_patient, ok, session_body


def test_a_session_without_consent_is_a_409_naming_what_is_missing(
    client: TestClient, clinics: TwoClinics
) -> None:
    """Problem details with the stable code consent_required."""
    clinician = bearer(client, clinics.a.users[Role.CLINICIAN])
    patient = new_patient(client, clinician, clinics.a.clinic.id)
    url = f"/api/v1/patients/{patient}/treatment-sessions"
    refused = client.post(url, json=session_body(), headers=clinician)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "consent_required"
    consented(client, clinician, patient)
    ok(client.post(url, json=session_body(), headers=clinician), 201)


def test_the_consent_is_exported_as_a_valid_fhir_consent_and_withdrawn(
    client: TestClient, clinics: TwoClinics
) -> None:
    """active after countersigning; inactive with the period's end after the withdrawal."""
    clinician = bearer(client, clinics.a.users[Role.CLINICIAN])
    patient = new_patient(client, clinician, clinics.a.clinic.id)
    consent = consented(client, clinician, patient)
    exported = client.get(f"/api/v1/consents/{consent}/fhir", headers=clinician)
    assert exported.headers["content-type"].startswith("application/fhir+json")
    model = get_fhir_model_class("Consent")
    assert model.model_validate(exported.json()).status == "active"
    body = {"reason": "prefers tablets"}
    withdrawal = client.post(f"/api/v1/consents/{consent}/withdrawal", json=body, headers=clinician)
    withdrawn = ok(withdrawal, 201)
    assert (withdrawn["active"], withdrawn["withdrawal_reason"]) == (False, "prefers tablets")
    resource = client.get(f"/api/v1/consents/{consent}/fhir", headers=clinician).json()
    assert model.model_validate(resource).status == "inactive"
    assert resource["provision"]["period"]["end"]
    listed = ok(client.get(f"/api/v1/patients/{patient}/consents", headers=clinician))
    assert [c["id"] for c in listed] == [consent]
