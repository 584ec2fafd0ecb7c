"""The API records a patient's own language and answers with the name in its order."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mesoscreen.domain.access import Role
from tests.factories import TwoClinics
from tests.integration.api.conftest import bearer
from tests.integration.api.records import ok


def test_a_patient_registered_as_vietnamese_comes_back_family_name_first(
    client: TestClient, clinics: TwoClinics
) -> None:
    """language "vi": full_name "Nguyễn Văn Minh"; without a language, the register's order."""
    headers = bearer(client, clinics.a.users[Role.RECEPTION])
    body = {"clinic_id": clinics.a.clinic.id, "family_name": "Nguyễn", "given_name": "Văn Minh"}
    vietnamese = ok(client.post("/api/v1/patients", json=body | {"language": "vi"},
                                headers=headers), 201)  # fmt: skip
    assert (vietnamese["language"], vietnamese["full_name"]) == ("vi", "Nguyễn Văn Minh")
    smith = body | {"family_name": "Smith", "given_name": "John", "language": "en"}
    english = ok(client.post("/api/v1/patients", json=smith, headers=headers), 201)
    assert english["full_name"] == "John Smith"
    unknown = ok(client.post("/api/v1/patients", json=body, headers=headers), 201)
    assert (unknown["language"], unknown["full_name"]) == (None, "Nguyễn Văn Minh")


def test_a_language_the_api_does_not_know_is_refused(
    client: TestClient, clinics: TwoClinics
) -> None:
    """422 naming the field."""
    headers = bearer(client, clinics.a.users[Role.RECEPTION])
    body = {"clinic_id": clinics.a.clinic.id, "family_name": "Tran", "given_name": "Mai",
            "language": "fr"}  # fmt: skip
    response = client.post("/api/v1/patients", json=body, headers=headers)
    assert response.status_code == 422
    assert "language" in response.text
