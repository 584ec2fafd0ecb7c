"""Every record kind the API shows, fetched through each route that returns it: one visit of a
patient's whole record, an admin's accounts and the audit trail, for the tests that pin what
the API's JSON holds."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient

from mesoscreen.domain.access import Role
from tests.factories import TwoClinics, unique
from tests.integration.api.conftest import bearer
from tests.integration.api.photos import upload_photo
from tests.integration.api.records import (
    ETAG_1,
    EVENT_BODY,
    PLAN_BODY,
    full_record,
    new_screening,
    ok,
)

ETAG_2 = {"If-Match": 'W/"2"'}

# The routes that answer with a record, by the kind of record in their JSON body.
Bodies = dict[str, list[tuple[str, dict[str, Any]]]]


def _page(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert set(body) == {"items", "offset", "limit", "total"}, body
    items: list[dict[str, Any]] = body["items"]
    assert items, "an empty page shows no record"
    return items


def record_bodies(client: TestClient, clinics: TwoClinics) -> Bodies:
    """The JSON bodies each route answers with, by record kind (lists give each item)."""
    admin = bearer(client, clinics.a.users[Role.ADMIN])
    clinician = bearer(client, clinics.a.users[Role.CLINICIAN])
    reception = bearer(client, clinics.a.users[Role.RECEPTION])
    bodies: Bodies = {}

    def add(kind: str, route: str, *found: dict[str, Any]) -> None:
        bodies.setdefault(kind, []).extend((route, body) for body in found)

    def get(path: str, headers: dict[str, str]) -> Any:
        return ok(client.get(f"/api/v1{path}", headers=headers))

    def post(path: str, headers: dict[str, str], status: int = 200, **kwargs: Any) -> Any:
        return ok(client.post(f"/api/v1{path}", headers=headers, **kwargs), status)

    def put(path: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
        return ok(client.put(f"/api/v1{path}", json=body, headers=headers))

    add("clinic", "POST /clinics", post("/clinics", admin, 201, json={"name": unique("Clinic")}))
    add("clinic", "GET /clinics", *get("/clinics", admin))

    user_body = {"username": unique("nurse"), "password": "a long passphrase 1",
                 "role": "nurse", "clinic_ids": [clinics.a.clinic.id]}  # fmt: skip
    user = post("/users", admin, 201, json=user_body)
    add("user", "POST /users", user)
    add("user", "GET /users", *_page(get("/users", admin)))
    add("user", "GET /users/{id}", get(f"/users/{user['id']}", admin))
    change = {"role": "nurse", "clinic_ids": [clinics.a.clinic.id], "disabled": False}
    add("user", "PUT /users/{id}", put(f"/users/{user['id']}", admin | ETAG_1, change))
    add("user", "POST /users/{id}/unlock", post(f"/users/{user['id']}/unlock", admin))

    record = full_record(client, clinician, clinics.a.clinic.id)
    patient = f"/patients/{record.patient}"
    add("patient", "GET /patients", *_page(get("/patients", clinician)))
    add("patient", "GET /patients (reception)", *_page(get("/patients", reception)))
    add("patient", "GET /patients/{id}", get(patient, clinician))
    details = {"family_name": "Tran", "given_name": "Minh", "language": "vi"}
    add("patient", "PUT /patients/{id}", put(patient, clinician | ETAG_1, details))

    draft = new_screening(client, clinician, record.patient)
    add("screening", "POST /patients/{id}/screenings", draft)
    corrected = post(f"/screenings/{draft['id']}/corrections", clinician, 201,
                     json={"answers": draft["answers"]})  # fmt: skip
    add("screening", "POST /screenings/{id}/corrections", corrected)
    add("screening", "GET /screenings/{id}", get(f"/screenings/{draft['id']}", clinician))
    add("screening", "GET /patients/{id}/screenings", *_page(get(f"{patient}/screenings",
                                                                 clinician)))  # fmt: skip

    actions = get(f"/action-results/{record.completion}", clinician)
    add("action", "GET /action-results/{id}", actions)
    add("action", "GET /screenings/{id}/actions",
        *_page(get(f"/screenings/{actions['screening_id']}/actions", clinician)))  # fmt: skip

    plan = f"/plans/{record.plan}"
    add("plan", "GET /plans/{id}", get(plan, clinician))
    add("plan", "GET /patients/{id}/plans", *_page(get(f"{patient}/plans", clinician)))
    amended = post(f"{plan}/amendments", clinician, 201, json=PLAN_BODY)
    add("plan", "POST /plans/{id}/amendments", amended)
    add("plan", "PUT /plans/{id}", put(f"/plans/{amended['id']}", clinician | ETAG_1, PLAN_BODY))

    session = f"/treatment-sessions/{record.session}"
    add("session", "GET /treatment-sessions/{id}", get(session, clinician))
    add("session", "GET /patients/{id}/treatment-sessions",
        *_page(get(f"{patient}/treatment-sessions", clinician)))  # fmt: skip
    add("session", "POST /treatment-sessions/{id}/sign", post(f"{session}/sign",
                                                              clinician | ETAG_1))  # fmt: skip

    event = f"/adverse-events/{record.event}"
    add("adverse_event", "GET /adverse-events/{id}", get(event, clinician))
    changed = EVENT_BODY | {"session_id": record.session, "outcome": "resolved"}
    add("adverse_event", "PUT /adverse-events/{id}", put(event, clinician | ETAG_1, changed))
    add("adverse_event", "POST /adverse-events/{id}/sign", post(f"{event}/sign",
                                                                clinician | ETAG_2))  # fmt: skip
    add("adverse_event", "GET /patients/{id}/adverse-events",
        *_page(get(f"{patient}/adverse-events", clinician)))  # fmt: skip

    consent = f"/consents/{record.consent}"
    add("consent", "GET /consents/{id}", get(consent, clinician))
    add("consent", "GET /patients/{id}/consents", *get(f"{patient}/consents", clinician))
    withdrawn = post(f"{consent}/withdrawal", clinician, 201, json={"reason": "moved away"})
    add("consent", "POST /consents/{id}/withdrawal", withdrawn)

    photo = upload_photo(client, clinician, record.patient)
    add("photo", "POST /patients/{id}/photos", photo)
    add("photo", "GET /photos/{id}", get(f"/photos/{photo['id']}", clinician))
    add("photo", "GET /patients/{id}/photos", *_page(get(f"{patient}/photos", clinician)))
    later = upload_photo(client, clinician, record.patient, taken_on="2026-11-24")
    compared = get(f"/photo-comparisons?first={photo['id']}&second={later['id']}", clinician)
    assert set(compared) == {"view", "first", "second"}, compared
    add("photo", "GET /photo-comparisons", compared["first"], compared["second"])

    measure = {"measured_on": "2026-11-20", "hair_count": 120, "area_cm2": 0.8}
    add("outcome_measure", "POST /patients/{id}/outcome-measures",
        post(f"{patient}/outcome-measures", clinician, 201, json=measure))  # fmt: skip
    add("outcome_measure", "GET /patients/{id}/outcome-measures",
        *get(f"{patient}/outcome-measures", clinician))  # fmt: skip

    audit = ok(client.get("/api/v1/audit?limit=500", headers=admin))
    add("audit_entry", "GET /api/v1/audit", *_page(audit))
    export = client.get("/api/v1/audit/export", headers=admin)
    add("audit_entry", "GET /api/v1/audit/export",
        *(orjson.loads(line) for line in ok_bytes(export).splitlines()))  # fmt: skip
    return bodies


def ok_bytes(response: Any) -> bytes:
    """The raw body, after checking the status is 200."""
    assert response.status_code == 200, response.text
    body: bytes = response.content
    return body
