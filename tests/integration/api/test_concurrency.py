"""Many clients at once: no lost update, no duplicate from a repeated create, an intact chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.errors import ConflictError
from mesoscreen.services.patients import PatientDetails
from tests.factories import TwoClinics, principal_for, unique
from tests.integration.api.conftest import bearer
from tests.integration.web.conftest import new_browser, sign_in

THREADS = 8


def test_a_create_repeated_at_once_with_one_key_makes_one_patient(
    services: Services, clinics: TwoClinics
) -> None:
    """Eight concurrent registrations under one Idempotency-Key: one patient, one answer."""
    principal = principal_for(clinics.a.users[Role.NURSE])
    family = unique("Double")
    details = PatientDetails(family, "Submit")
    key = f"form-{unique('key')}"

    def register(_: int) -> str:
        return services.patients.register(principal, clinics.a.clinic.id, details, key).id

    with ThreadPoolExecutor(THREADS) as pool:
        ids = set(pool.map(register, range(THREADS)))
    assert len(ids) == 1
    found = services.patients.search(principal, family)
    assert found.total == 1
    assert services.audit.verify().intact


def test_the_same_key_with_another_request_is_refused(
    client: TestClient, clinics: TwoClinics
) -> None:
    """A retried request gets the first answer; a different body under the key is a 422."""
    headers = bearer(client, clinics.a.users[Role.NURSE]) | {"Idempotency-Key": "key-00000001"}
    body = {"clinic_id": clinics.a.clinic.id, "family_name": unique("Retry"), "given_name": "A"}
    first = client.post("/api/v1/patients", json=body, headers=headers)
    again = client.post("/api/v1/patients", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    other = client.post("/api/v1/patients", json=body | {"given_name": "B"}, headers=headers)
    assert other.status_code == 422
    assert "already used for a different request" in other.json()["detail"]
    bad = client.post("/api/v1/patients", json=body, headers=headers | {"Idempotency-Key": "x"})
    assert bad.status_code == 422


def test_concurrent_edits_of_one_version_let_exactly_one_through(
    services: Services, clinics: TwoClinics
) -> None:
    """Eight writers with the same If-Match version: one succeeds, seven get a conflict."""
    principal = principal_for(clinics.a.users[Role.NURSE])
    patient = services.patients.register(
        principal, clinics.a.clinic.id, PatientDetails(unique("Race"), "Edit")
    )

    def edit(n: int) -> str:
        try:
            services.patients.update(
                principal, patient.id, patient.version, PatientDetails(patient.family_name, f"E{n}")
            )
        except ConflictError:
            return "conflict"
        return "saved"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(edit, range(THREADS)))
    assert outcomes.count("saved") == 1
    assert outcomes.count("conflict") == THREADS - 1
    stored = services.patients.get(principal, patient.id)
    assert stored.version == patient.version + 1
    assert services.audit.verify().intact


def test_a_double_submitted_web_form_registers_one_patient(
    services: Services, clinics: TwoClinics
) -> None:
    """The new-patient form carries its key: posting it twice makes one patient."""
    with new_browser(services) as browser:
        csrf = sign_in(browser, clinics.a, Role.RECEPTION)
        form_page = browser.get("/patients/new").text
        key = form_page.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
        family = unique("Form")
        data = {"csrf": csrf, "idempotency_key": key, "family_name": family,
                "given_name": "Twice"}  # fmt: skip
        first = browser.post("/patients/new", data=data, follow_redirects=False)
        second = browser.post("/patients/new", data=data, follow_redirects=False)
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
    principal = principal_for(clinics.a.users[Role.RECEPTION])
    assert services.patients.search(principal, family).total == 1
