"""Names are stored in NFC and found without case, accents, tone marks or đ's stroke, on SQLite
and PostgreSQL alike; patients registered before keep being found after the migration."""

from __future__ import annotations

import unicodedata

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from mesoscreen.adapters.db.engine import create_database_engine
from mesoscreen.adapters.db.migrations import downgrade_database, upgrade_database
from mesoscreen.bootstrap import build_services
from mesoscreen.domain.access import Role
from tests.factories import TwoClinics, records_settings, seed_clinic
from tests.fakes import FrozenClock
from tests.integration.api.conftest import bearer
from tests.integration.api.records import ok


def _register(client: TestClient, headers: dict[str, str], clinic: str, family: str) -> str:
    body = {"clinic_id": clinic, "family_name": family, "given_name": "Thị Lan"}
    return str(ok(client.post("/api/v1/patients", json=body, headers=headers), 201)["id"])


def _found(client: TestClient, headers: dict[str, str], name: str) -> list[str]:
    page = ok(client.get("/api/v1/patients", params={"name": name}, headers=headers))
    return [p["family_name"] for p in page["items"]]


def test_a_name_sent_decomposed_is_stored_composed_and_found_by_a_normal_search(
    client: TestClient, clinics: TwoClinics
) -> None:
    """'Trần' sent as NFD comes back as NFC, and a search typed in NFC finds it."""
    headers = bearer(client, clinics.a.users[Role.RECEPTION])
    decomposed = unicodedata.normalize("NFD", "Trần")
    patient = _register(client, headers, clinics.a.clinic.id, decomposed)
    stored = ok(client.get(f"/api/v1/patients/{patient}", headers=headers))
    assert stored["family_name"] == "Trần"
    assert _found(client, headers, "Trần") == ["Trần"]
    assert _found(client, headers, unicodedata.normalize("NFD", "Trần")) == ["Trần"]


@pytest.mark.parametrize("typed", ["Tran", "tran", "TRẦN", "tRaN", "tran thi", "lan tran"])
def test_tran_finds_tran_with_its_tone_marks(
    client: TestClient, clinics: TwoClinics, typed: str
) -> None:
    """Case, accents and tone marks do not matter, nor the order of the words typed."""
    headers = bearer(client, clinics.a.users[Role.RECEPTION])
    _register(client, headers, clinics.a.clinic.id, "Trần")
    _register(client, headers, clinics.a.clinic.id, "Phạm")
    assert _found(client, headers, typed) == ["Trần"]


def test_dang_finds_dang_written_with_the_vietnamese_d_with_stroke(
    client: TestClient, clinics: TwoClinics
) -> None:
    """Đ does not decompose in Unicode; a plain 'dang' still finds 'Đặng'."""
    headers = bearer(client, clinics.a.users[Role.RECEPTION])
    _register(client, headers, clinics.a.clinic.id, "Đặng")
    assert _found(client, headers, "dang") == ["Đặng"]
    assert _found(client, headers, "ĐẶNG") == ["Đặng"]


def test_a_search_still_treats_percent_and_underscore_as_letters(
    client: TestClient, clinics: TwoClinics
) -> None:
    """LIKE wildcards typed in a search match only themselves."""
    headers = bearer(client, clinics.a.users[Role.RECEPTION])
    _register(client, headers, clinics.a.clinic.id, "Lý")
    assert _found(client, headers, "%") == []
    assert _found(client, headers, "_") == []


def test_a_correction_of_the_name_is_searched_by_its_new_spelling(
    client: TestClient, clinics: TwoClinics
) -> None:
    """The search key follows every save, not only the first."""
    headers = bearer(client, clinics.a.users[Role.RECEPTION])
    patient = _register(client, headers, clinics.a.clinic.id, "Hoang")
    changed = client.put(
        f"/api/v1/patients/{patient}",
        json={"family_name": "Hoàng", "given_name": "Đức"},
        headers=headers | {"If-Match": 'W/"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert _found(client, headers, "duc") == ["Hoàng"]
    assert _found(client, headers, "Thi") == []


def test_patients_registered_before_the_migration_are_found_accent_insensitively(
    fresh_database_url: str,
) -> None:
    """Rows written before the search key existed get names in NFC and a key on upgrade."""
    services = build_services(records_settings(fresh_database_url), FrozenClock())
    try:
        staff = seed_clinic(services.accounts)
    finally:
        services.close()
    downgrade_database(fresh_database_url, "0005")
    engine = create_database_engine(fresh_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO patients (id, clinic_id, family_name, given_name, intake, "
                    "archived, created_by, created_at, updated_at, version) VALUES ('p-old', "
                    ":clinic, :family, 'Lan', '{}', false, :user, :at, :at, 1)"
                ),
                {
                    "clinic": staff.clinic.id,
                    "family": unicodedata.normalize("NFD", "Đặng"),
                    "user": staff.users[Role.RECEPTION].id,
                    "at": "2026-11-25 09:00:00",
                },
            )
    finally:
        engine.dispose()
    upgrade_database(fresh_database_url)
    services = build_services(records_settings(fresh_database_url), FrozenClock())
    try:
        found = services.patients.search(staff.principal(Role.RECEPTION), "dang")
    finally:
        services.close()
    assert [(p.id, p.family_name) for p in found.items] == [("p-old", "Đặng")]
