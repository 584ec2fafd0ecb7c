"""Outcome measures over HTTP: recorded with the density worked out, corrected, refused with
problem details naming the field, and kept from another clinic."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mesoscreen.domain.access import Role
from tests.factories import TwoClinics
from tests.integration.api.conftest import bearer
from tests.integration.api.records import new_patient, ok

BASELINE = {"measured_on": "2026-09-01", "hair_count": 132, "area_cm2": 0.8,
            "shaft_thickness_um": 58.5}  # fmt: skip


def test_a_measure_is_recorded_listed_and_corrected(
    client: TestClient, clinics: TwoClinics
) -> None:
    """The density is computed; after a correction the list shows the corrected value only."""
    nurse = bearer(client, clinics.a.users[Role.NURSE])
    patient = new_patient(client, nurse, clinics.a.clinic.id)
    path = f"/api/v1/patients/{patient}/outcome-measures"
    first = ok(client.post(path, json=BASELINE, headers=nurse), 201)
    assert first["density_per_cm2"] == 165.0
    later = {"measured_on": "2026-11-20", "hair_count": 410, "area_cm2": 1.0, "self_assessment": 2}
    typo = ok(client.post(path, json=later, headers=nurse), 201)
    fixed = ok(client.post(path, json=later | {"hair_count": 141, "replaces_id": typo["id"]},
                           headers=nurse), 201)  # fmt: skip
    listed = ok(client.get(path, headers=nurse))
    assert [m["id"] for m in listed] == [first["id"], fixed["id"]]
    assert [m["density_per_cm2"] for m in listed] == [165.0, 141.0]


def test_a_bad_measure_gets_problem_details_naming_the_field(
    client: TestClient, clinics: TwoClinics
) -> None:
    """A count without its area and an out-of-scale assessment are 4xx with the field named."""
    clinician = bearer(client, clinics.a.users[Role.CLINICIAN])
    patient = new_patient(client, clinician, clinics.a.clinic.id)
    path = f"/api/v1/patients/{patient}/outcome-measures"
    for body, field in (
        ({"measured_on": "2026-11-20", "hair_count": 120}, "area_cm2"),
        ({"measured_on": "2026-11-20", "self_assessment": 5}, "self_assessment"),
        ({"measured_on": "2026-11-20", "shaft_thickness_um": 60, "colour": "red"}, "colour"),
    ):
        response = client.post(path, json=body, headers=clinician)
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in response.text


def test_another_clinic_cannot_see_or_add_measures(client: TestClient, clinics: TwoClinics) -> None:
    """Clinic B's clinician gets 404 for clinic A's patient, reading or writing, and the
    refused write leaves clinic A's list as it was."""
    insider = bearer(client, clinics.a.users[Role.CLINICIAN])
    patient = new_patient(client, insider, clinics.a.clinic.id)
    outsider = bearer(client, clinics.b.users[Role.CLINICIAN])
    path = f"/api/v1/patients/{patient}/outcome-measures"
    assert client.get(path, headers=outsider).status_code == 404
    refused = client.post(path, json=BASELINE, headers=outsider)
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    assert ok(client.get(path, headers=insider)) == []
