"""Helpers that build a patient's record through the API, step by step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import allergy_answers, eligible_answers

ETAG_1 = {"If-Match": 'W/"1"'}
# A planning request every cap allows: dutasteride 0.01% over Norwood I's frontal zone.
PLAN_BODY: dict[str, Any] = {
    "stage": "norwood-1",
    "product": "dutasteride_0_01",
    "first_session": "2026-12-01",
}


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    """The JSON body, after checking the status."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class PatientRecord:
    """Ids of one patient's records, made by a clinician."""

    patient: str
    screening: str = ""
    plan: str = ""
    session: str = ""
    event: str = ""
    completion: str = ""
    consent: str = ""


def new_patient(client: TestClient, headers: dict[str, str], clinic_id: str) -> str:
    """Register a patient; the id."""
    body = {"clinic_id": clinic_id, "family_name": "Tran", "given_name": "Minh"}
    return str(ok(client.post("/api/v1/patients", json=body, headers=headers), 201)["id"])


def new_screening(
    client: TestClient, headers: dict[str, str], patient: str, answers: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Post an intake for the patient; the stored screening."""
    body = {"answers": answers or eligible_answers()}
    return ok(
        client.post(f"/api/v1/patients/{patient}/screenings", json=body, headers=headers), 201
    )


def signed_screening(client: TestClient, headers: dict[str, str], patient: str) -> str:
    """An eligible screening, signed; the id."""
    screening = new_screening(client, headers, patient)["id"]
    ok(client.post(f"/api/v1/screenings/{screening}/sign", headers=headers | ETAG_1))
    return str(screening)


def consented(client: TestClient, headers: dict[str, str], patient: str) -> str:
    """The patient's eligible screening, signed, and their typed consent countersigned: what a
    session needs before it starts; the consent id."""
    screening = signed_screening(client, headers, patient)
    body = {"signature_method": "typed", "signature": "Tran Minh", "confirmed": True}
    taken = ok(client.post(f"/api/v1/screenings/{screening}/consents", json=body, headers=headers),
               201)  # fmt: skip
    ok(client.post(f"/api/v1/consents/{taken['id']}/countersign", headers=headers | ETAG_1))
    return str(taken["id"])


def consented_patient(client: TestClient, headers: dict[str, str], clinic_id: str) -> str:
    """A new patient who has given consent; the id."""
    patient = new_patient(client, headers, clinic_id)
    consented(client, headers, patient)
    return patient


def session_body(plan_id: str | None = None, expiry: str = "2027-06-30") -> dict[str, Any]:
    """A valid treatment session body."""
    return {
        "performed_at": "2026-11-25T08:30:00Z",
        "points": [
            {"label": "vertex-1", "volume_ml": 0.1},
            {"label": "vertex-2", "volume_ml": 0.1},
        ],
        "products": [
            {"name": "Dutasteride", "lot_number": "L123", "expiry": expiry, "volume_ml": 2.0}
        ],
        "depth_mm": 1.5,
        "plan_id": plan_id,
    }


EVENT_BODY = {
    "onset_at": "2026-11-25T08:45:00Z",
    "severity_grade": 1,
    "outcome": "recovering",
    "complication_id": "bruising",
    "actions_taken": "cold pack",
    "follow_up_on": "2026-12-02",
}


def full_record(client: TestClient, headers: dict[str, str], clinic_id: str) -> PatientRecord:
    """A patient with a signed screening, a signed plan, a session, an event, an action result."""
    record = PatientRecord(new_patient(client, headers, clinic_id))
    record.screening = signed_screening(client, headers, record.patient)
    plan = ok(
        client.post(
            f"/api/v1/screenings/{record.screening}/plans",
            json=PLAN_BODY,
            headers=headers,
        ),
        201,
    )
    record.plan = plan["id"]
    ok(client.post(f"/api/v1/plans/{record.plan}/sign", headers=headers | ETAG_1))
    record.consent = consented(client, headers, record.patient)
    session = client.post(
        f"/api/v1/patients/{record.patient}/treatment-sessions",
        json=session_body(record.plan),
        headers=headers,
    )
    record.session = ok(session, 201)["id"]
    event = client.post(
        f"/api/v1/patients/{record.patient}/adverse-events",
        json=EVENT_BODY | {"session_id": record.session},
        headers=headers,
    )
    record.event = ok(event, 201)["id"]
    allergy = new_screening(client, headers, record.patient, allergy_answers())
    action = allergy["decision"]["required_actions"][0]["id"]
    completion = client.post(
        f"/api/v1/screenings/{allergy['id']}/actions",
        json={"action_id": action, "result": "negative", "performed_on": "2026-11-24"},
        headers=headers,
    )
    record.completion = ok(completion, 201)["id"]
    return record
