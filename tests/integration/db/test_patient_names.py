"""A patient's own language is stored with their names, and patients registered before it was
recorded keep their names as given with no language guessed (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from mesoscreen.adapters.db.engine import create_database_engine
from mesoscreen.adapters.db.migrations import downgrade_database, upgrade_database
from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.domain.errors import InputError
from mesoscreen.domain.names import full_name
from mesoscreen.services.patients import PatientDetails
from tests.factories import records_settings, seed_clinic
from tests.fakes import FrozenClock


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    """Use cases on the shared test database."""
    built = build_services(records_settings(database_url), FrozenClock())
    yield built
    built.close()


def test_a_patients_language_is_stored_and_orders_their_name(services: Services) -> None:
    """Recorded as Vietnamese: read back, and the name reads family name first."""
    staff = seed_clinic(services.accounts)
    reception = staff.principal(Role.RECEPTION)
    details = PatientDetails(family_name="Nguyễn", given_name="Văn Minh", language="vi")
    registered = services.patients.register(reception, staff.clinic.id, details)
    stored = services.patients.get(reception, registered.id)
    assert stored.language == "vi"
    assert full_name(stored.family_name, stored.given_name, stored.language) == "Nguyễn Văn Minh"
    english = PatientDetails(family_name="Smith", given_name="John", language="en")
    updated = services.patients.update(reception, registered.id, 1, english)
    assert services.patients.get(reception, updated.id).language == "en"


def test_a_language_the_clinic_does_not_speak_is_refused_by_name(services: Services) -> None:
    """'language' must be vi or en; nothing is stored otherwise."""
    staff = seed_clinic(services.accounts)
    with pytest.raises(InputError, match="'language': expected one of vi, en"):
        services.patients.register(staff.principal(Role.RECEPTION), staff.clinic.id,
                                   PatientDetails("Tran", "Mai", language="fr"))  # fmt: skip


def test_patients_registered_before_the_language_was_kept_have_none_guessed(
    fresh_database_url: str,
) -> None:
    """A row written under revision 0006 keeps its names exactly as given after the upgrade,
    with no language guessed from its spelling (so it reads family name first, as before)."""
    built = build_services(records_settings(fresh_database_url), FrozenClock())
    try:
        staff = seed_clinic(built.accounts)
    finally:
        built.close()
    downgrade_database(fresh_database_url, "0006_i19_audit")
    engine = create_database_engine(fresh_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO patients (id, clinic_id, family_name, given_name, "
                    "name_search_key, intake, archived, created_by, created_at, updated_at, "
                    "version) VALUES ('p-0006', :clinic, 'Nguyễn', 'Văn Minh', "
                    "'nguyen van minh', '{}', false, :user, :now, :now, 1)"
                ),
                {"clinic": staff.clinic.id, "user": staff.users[Role.RECEPTION].id,
                 "now": datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)},
            )  # fmt: skip
    finally:
        engine.dispose()
    upgrade_database(fresh_database_url)
    built = build_services(records_settings(fresh_database_url), FrozenClock())
    try:
        stored = built.patients.get(staff.principal(Role.RECEPTION), "p-0006")
    finally:
        built.close()
    assert (stored.family_name, stored.given_name, stored.language) == ("Nguyễn", "Văn Minh", None)
    assert full_name(stored.family_name, stored.given_name, stored.language) == "Nguyễn Văn Minh"
