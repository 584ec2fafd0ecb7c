"""Every cell of the role matrix, through the HTTP API: allowed is never 403, refused always is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Permission, Role, allows
from tests.factories import ClinicStaff, allergy_answers, seed_clinic, unique
from tests.integration.api.conftest import bearer
from tests.integration.api.photos import post_photo
from tests.integration.api.records import (
    ETAG_1,
    EVENT_BODY,
    PLAN_BODY,
    consented_patient,
    new_patient,
    new_screening,
    ok,
    session_body,
    signed_screening,
)

Probe = Callable[[TestClient, dict[str, str], dict[str, str], ClinicStaff], Any]


def _plan(client: TestClient, clinician: dict[str, str], staff: ClinicStaff) -> str:
    patient = new_patient(client, clinician, staff.clinic.id)
    screening = signed_screening(client, clinician, patient)
    created = client.post(f"/api/v1/screenings/{screening}/plans", json=PLAN_BODY,
                          headers=clinician)  # fmt: skip
    return str(ok(created, 201)["id"])


def _draft(client: TestClient, clinician: dict[str, str], staff: ClinicStaff, kind: str) -> str:
    patient = consented_patient(client, clinician, staff.clinic.id)
    path, body = (
        ("treatment-sessions", session_body())
        if kind == "session"
        else ("adverse-events", EVENT_BODY)
    )
    created = client.post(f"/api/v1/patients/{patient}/{path}", json=body, headers=clinician)
    return str(ok(created, 201)["id"])


def _patient_signed_consent(
    client: TestClient, clinician: dict[str, str], staff: ClinicStaff
) -> str:
    screening = signed_screening(client, clinician, new_patient(client, clinician, staff.clinic.id))
    body = {"signature_method": "typed", "signature": "Tran Minh", "confirmed": True}
    taken = client.post(f"/api/v1/screenings/{screening}/consents", json=body, headers=clinician)
    return str(ok(taken, 201)["id"])


# How each permission is exercised: (client, caller headers, clinician headers, staff) -> response.
PROBES: dict[Permission, Probe] = {
    Permission.PATIENT_READ: lambda c, h, k, s: c.get(
        f"/api/v1/patients/{new_patient(c, k, s.clinic.id)}", headers=h
    ),
    Permission.PATIENT_WRITE: lambda c, h, k, s: c.post(
        "/api/v1/patients",
        json={"clinic_id": s.clinic.id, "family_name": "Le", "given_name": "Hoa"},
        headers=h,
    ),
    Permission.CLINICAL_READ: lambda c, h, k, s: c.get(
        f"/api/v1/screenings/{signed_screening(c, k, new_patient(c, k, s.clinic.id))}", headers=h
    ),
    Permission.SCREENING_WRITE: lambda c, h, k, s: c.post(
        f"/api/v1/patients/{new_patient(c, k, s.clinic.id)}/screenings",
        json={"answers": allergy_answers()},
        headers=h,
    ),
    Permission.SCREENING_SIGN: lambda c, h, k, s: c.post(
        f"/api/v1/screenings/{new_screening(c, k, new_patient(c, k, s.clinic.id))['id']}/sign",
        headers=h | ETAG_1,
    ),
    Permission.ACTION_RECORD: lambda c, h, k, s: _record_action(c, h, k, s),
    Permission.PLAN_WRITE: lambda c, h, k, s: c.post(
        f"/api/v1/screenings/{signed_screening(c, k, new_patient(c, k, s.clinic.id))}/plans",
        json=PLAN_BODY,
        headers=h,
    ),
    Permission.PLAN_SIGN: lambda c, h, k, s: c.post(
        f"/api/v1/plans/{_plan(c, k, s)}/sign", headers=h | ETAG_1
    ),
    Permission.SESSION_WRITE: lambda c, h, k, s: c.post(
        f"/api/v1/patients/{consented_patient(c, k, s.clinic.id)}/treatment-sessions",
        json=session_body(),
        headers=h,
    ),
    Permission.SESSION_SIGN: lambda c, h, k, s: c.post(
        f"/api/v1/treatment-sessions/{_draft(c, k, s, 'session')}/sign", headers=h | ETAG_1
    ),
    Permission.ADVERSE_EVENT_WRITE: lambda c, h, k, s: c.post(
        f"/api/v1/patients/{new_patient(c, k, s.clinic.id)}/adverse-events",
        json=EVENT_BODY,
        headers=h,
    ),
    Permission.ADVERSE_EVENT_SIGN: lambda c, h, k, s: c.post(
        f"/api/v1/adverse-events/{_draft(c, k, s, 'event')}/sign", headers=h | ETAG_1
    ),
    Permission.CONSENT_RECORD: lambda c, h, k, s: c.post(
        f"/api/v1/screenings/{signed_screening(c, k, new_patient(c, k, s.clinic.id))}/consents",
        json={"signature_method": "typed", "signature": "Tran Minh", "confirmed": True},
        headers=h,
    ),
    Permission.CONSENT_COUNTERSIGN: lambda c, h, k, s: c.post(
        f"/api/v1/consents/{_patient_signed_consent(c, k, s)}/countersign", headers=h | ETAG_1
    ),
    Permission.OUTCOME_WRITE: lambda c, h, k, s: c.post(
        f"/api/v1/patients/{new_patient(c, k, s.clinic.id)}/outcome-measures",
        json={"measured_on": "2026-11-24", "self_assessment": 1},
        headers=h,
    ),
    Permission.PHOTO_WRITE: lambda c, h, k, s: post_photo(c, h, new_patient(c, k, s.clinic.id)),
    Permission.USER_MANAGE: lambda c, h, k, s: c.get("/api/v1/users", headers=h),
    Permission.CLINIC_MANAGE: lambda c, h, k, s: c.post(
        "/api/v1/clinics", json={"name": unique("Branch")}, headers=h
    ),
    Permission.AUDIT_READ: lambda c, h, k, s: c.get("/api/v1/audit", headers=h),
}


def _record_action(
    client: TestClient, headers: dict[str, str], clinician: dict[str, str], staff: ClinicStaff
) -> Any:
    screening = new_screening(
        client, clinician, new_patient(client, clinician, staff.clinic.id), allergy_answers()
    )
    action = screening["decision"]["required_actions"][0]["id"]
    body = {"action_id": action, "result": "negative", "performed_on": "2026-11-24"}
    return client.post(f"/api/v1/screenings/{screening['id']}/actions", json=body, headers=headers)


def test_every_permission_has_a_probe() -> None:
    """The matrix test covers every permission the domain defines."""
    assert set(PROBES) == set(Permission)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_matrix_grants(
    client: TestClient, services: Services, role: Role
) -> None:
    """For every permission, the role's call succeeds if granted and is refused with 403 if not."""
    staff = seed_clinic(services.accounts)
    caller = bearer(client, staff.users[role])
    clinician = bearer(client, staff.users[Role.CLINICIAN])
    for permission, probe in PROBES.items():
        response = probe(client, caller, clinician, staff)
        if allows(role, permission):
            assert response.status_code in (200, 201), f"{role} {permission}: {response.text}"
        else:
            assert response.status_code == 403, f"{role} {permission}: {response.status_code}"
            assert response.json()["code"] == "forbidden"


def test_reception_sees_names_but_not_the_intake_facts(
    client: TestClient, services: Services
) -> None:
    """A receptionist reads the patient's name; the clinical intake is left out."""
    staff = seed_clinic(services.accounts)
    clinician = bearer(client, staff.users[Role.CLINICIAN])
    body = {
        "clinic_id": staff.clinic.id,
        "family_name": "Pham",
        "given_name": "Thu",
        "intake": {"pregnant": "yes"},
    }
    patient = ok(client.post("/api/v1/patients", json=body, headers=clinician), 201)
    seen = ok(
        client.get(
            f"/api/v1/patients/{patient['id']}", headers=bearer(client, staff.users[Role.RECEPTION])
        )
    )
    assert seen["family_name"] == "Pham"
    assert seen["intake"] is None
    assert ok(client.get(f"/api/v1/patients/{patient['id']}", headers=clinician))["intake"] == {
        "pregnant": "yes"
    }


def test_a_denied_attempt_is_audited(client: TestClient, services: Services) -> None:
    """Reception trying to read a screening is refused and the refusal is in the audit trail."""
    staff = seed_clinic(services.accounts)
    clinician = bearer(client, staff.users[Role.CLINICIAN])
    screening = signed_screening(client, clinician, new_patient(client, clinician, staff.clinic.id))
    reception = staff.users[Role.RECEPTION]
    response = client.get(f"/api/v1/screenings/{screening}", headers=bearer(client, reception))
    assert response.status_code == 403
    entries = ok(client.get("/api/v1/audit", params={"limit": 200, "offset": 0},
                            headers=bearer(client, staff.users[Role.ADMIN])))  # fmt: skip
    total = entries["total"]
    last = ok(client.get("/api/v1/audit", params={"limit": 200, "offset": max(total - 200, 0)},
                         headers=bearer(client, staff.users[Role.ADMIN])))["items"]  # fmt: skip
    denied = [
        e for e in last if e["actor_id"] == reception.id and e["event_type"] == "screening.read"
    ]
    assert [e["outcome"] for e in denied] == ["denied"]
