"""Clinics are tenants: another clinic's record by id is a 404, and searches never show it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mesoscreen.domain.access import Role
from tests.factories import TwoClinics
from tests.integration.api.conftest import bearer
from tests.integration.api.photos import TINY_JPEG, photo_form, upload_photo
from tests.integration.api.records import EVENT_BODY, PLAN_BODY, full_record, ok, session_body

# A valid body for each write route that takes an id, so that only the id can make it fail.
BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/api/v1/users/{user_id}"): {"role": "nurse", "clinic_ids": ["x"], "disabled": False},
    ("PUT", "/api/v1/patients/{patient_id}"): {"family_name": "X", "given_name": "Y"},
    ("POST", "/api/v1/patients/{patient_id}/screenings"): {"answers": {}},
    ("POST", "/api/v1/screenings/{screening_id}/corrections"): {"answers": {}},
    ("POST", "/api/v1/screenings/{screening_id}/actions"): {
        "action_id": "a",
        "result": "negative",
        "performed_on": "2026-11-24",
    },
    ("POST", "/api/v1/screenings/{screening_id}/plans"): PLAN_BODY,
    ("PUT", "/api/v1/plans/{plan_id}"): PLAN_BODY,
    ("POST", "/api/v1/patients/{patient_id}/treatment-sessions"): session_body(),
    ("PUT", "/api/v1/treatment-sessions/{session_id}"): session_body(),
    ("POST", "/api/v1/treatment-sessions/{session_id}/void"): {"reason": "entered twice"},
    ("POST", "/api/v1/adverse-events/{event_id}/void"): {"reason": "wrong patient"},
    ("POST", "/api/v1/plans/{plan_id}/void"): {"reason": "entered twice"},
    ("POST", "/api/v1/adverse-events/{event_id}/resolution"): {
        "outcome": "resolved",
        "resolved_on": "2026-11-25",
    },
    ("POST", "/api/v1/patients/{patient_id}/adverse-events"): EVENT_BODY,
    ("PUT", "/api/v1/adverse-events/{event_id}"): EVENT_BODY,
    ("POST", "/api/v1/screenings/{screening_id}/consents"): {
        "signature_method": "typed",
        "signature": "Tran Minh",
        "confirmed": True,
    },
    ("POST", "/api/v1/consents/{consent_id}/withdrawal"): {"reason": None},
    ("POST", "/api/v1/patients/{patient_id}/outcome-measures"): {
        "measured_on": "2026-11-24",
        "self_assessment": 1,
    },
    # Uploads are multipart/form-data: the fields go as the form, with the image beside them.
    ("POST", "/api/v1/patients/{patient_id}/photos"): photo_form(),
    ("POST", "/api/v1/photos/{photo_id}/corrections"): photo_form(),
}
# Valid required query parameters of id routes that have some.
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/api/v1/patients/{patient_id}/photo-comparison"): {
        "view": "vertex",
        "first_on": "2026-11-20",
        "second_on": "2026-11-20",
    },
}
_UPLOADS = {"/api/v1/patients/{patient_id}/photos", "/api/v1/photos/{photo_id}/corrections"}
_PARAM = re.compile(r"\{(\w+)\}")


def id_routes(client: TestClient) -> dict[tuple[str, str], bool]:
    """Every (method, path) of the OpenAPI document that takes an id, and whether it has a body.

    CDS Hooks routes take a service id, not a record id: they hold no clinic records (they
    screen what the calling record system sends); tests/integration/cds_hooks covers them.
    The FHIR Questionnaire is the knowledge base's, the same for every clinic.
    """
    paths = client.get("/openapi.json").json()["paths"]
    return {
        (method.upper(), path): "requestBody" in operation
        for path, operations in paths.items()
        if _PARAM.search(path) and not path.startswith(("/cds-services", "/fhir/Questionnaire/"))
        for method, operation in operations.items()
    }


def test_every_id_route_answers_404_for_another_clinics_record(
    client: TestClient, clinics: TwoClinics
) -> None:
    """For each route that takes an id (enumerated), clinic B's user gets 404 for A's record."""
    a_clinician = bearer(client, clinics.a.users[Role.CLINICIAN])
    record = full_record(client, a_clinician, clinics.a.clinic.id)
    ids = {
        "patient_id": record.patient,
        "screening_id": record.screening,
        "plan_id": record.plan,
        "session_id": record.session,
        "event_id": record.event,
        "completion_id": record.completion,
        "consent_id": record.consent,
        "user_id": clinics.a.users[Role.NURSE].id,
        "photo_id": upload_photo(client, a_clinician, record.patient)["id"],
    }
    b_clinician = bearer(client, clinics.b.users[Role.CLINICIAN])
    b_admin = bearer(client, clinics.b.users[Role.ADMIN])
    routes = id_routes(client)
    assert len(routes) >= 25
    for method, path in routes:
        names = _PARAM.findall(path)
        assert set(names) <= set(ids), f"add an id for {names} of {method} {path} to this test"
        url = _PARAM.sub(lambda m: ids[m.group(1)], path)
        headers = (b_admin if path.startswith("/api/v1/users") else b_clinician) | {
            "If-Match": 'W/"1"'
        }
        if method == "POST" and path in _UPLOADS:
            files = {"photo": ("scalp.jpg", TINY_JPEG, "image/jpeg")}
            response = client.request(
                method, url, data=BODIES[(method, path)], files=files, headers=headers
            )
        else:
            body = BODIES.get((method, path))
            params = QUERIES.get((method, path))
            response = client.request(method, url, json=body, params=params, headers=headers)
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"


def test_every_write_route_with_a_body_has_a_sample_body(client: TestClient) -> None:
    """A new write route that takes a body must be added to BODIES (so the 404 test covers it)."""
    for (method, path), has_body in id_routes(client).items():
        assert not has_body or (method, path) in BODIES, f"add a body for {method} {path}"


def test_searches_never_return_another_clinics_patients(
    client: TestClient, clinics: TwoClinics
) -> None:
    """Clinic B's name search finds none of A's patients, and naming clinic A is a 404."""
    a_headers = bearer(client, clinics.a.users[Role.RECEPTION])
    body = {"clinic_id": clinics.a.clinic.id, "family_name": "Hoang", "given_name": "Lan"}
    ok(client.post("/api/v1/patients", json=body, headers=a_headers), 201)
    b_headers = bearer(client, clinics.b.users[Role.RECEPTION])
    found = ok(client.get("/api/v1/patients", params={"name": "hoang"}, headers=b_headers))
    assert found["items"] == []
    assert found["total"] == 0
    response = client.get(
        "/api/v1/patients", params={"clinic_id": clinics.a.clinic.id}, headers=b_headers
    )
    assert response.status_code == 404
    mine = ok(client.get("/api/v1/patients", params={"name": "hoang"}, headers=a_headers))
    assert [p["family_name"] for p in mine["items"]] == ["Hoang"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN])
def test_clinic_lists_show_only_the_callers_clinics(
    client: TestClient, clinics: TwoClinics, role: Role
) -> None:
    """GET /clinics lists the caller's clinics only."""
    listed = client.get("/api/v1/clinics", headers=bearer(client, clinics.b.users[role]))
    assert [c["id"] for c in listed.json()] == [clinics.b.clinic.id]
