"""Storage guarantees on SQLite and PostgreSQL: settings, append-only audit, tamper detection,
atomic writes, no lost updates, migrations that match the tables."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mesoscreen.adapters.db.engine import create_database_engine, read_sqlite_settings
from mesoscreen.adapters.db.migrations import downgrade_database, upgrade_database
from mesoscreen.adapters.db.tables import metadata
from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.domain.records import StaleVersionError
from mesoscreen.services.patients import PatientDetails
from tests.factories import ClinicStaff, records_settings, seed_clinic
from tests.fakes import FrozenClock


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    """Use cases on the shared test database."""
    built = build_services(records_settings(database_url), FrozenClock())
    yield built
    built.close()


@pytest.fixture
def staff(services: Services) -> ClinicStaff:
    """A clinic with a full staff."""
    return seed_clinic(services.accounts)


def _register(services: Services, staff: ClinicStaff, name: str = "Do") -> str:
    details = PatientDetails(family_name=name, given_name="Kim")
    patient = services.patients.register(staff.principal(Role.RECEPTION), staff.clinic.id, details)
    return patient.id


def test_every_sqlite_connection_has_wal_full_sync_foreign_keys_and_busy_timeout(
    tmp_path: Path,
) -> None:
    """Each pooled connection reads back the enforced PRAGMAs."""
    engine = create_database_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    try:
        connections = [engine.raw_connection() for _ in range(3)]
        for connection in connections:
            assert read_sqlite_settings(connection.dbapi_connection) == {
                "foreign_keys": "1",
                "journal_mode": "wal",
                "synchronous": "2",
                "busy_timeout": "10000",
            }
        for connection in connections:
            connection.close()
    finally:
        engine.dispose()


def test_the_database_refuses_update_and_delete_on_the_audit_log(
    services: Services, staff: ClinicStaff
) -> None:
    """Even bypassing the app, UPDATE and DELETE on audit_log fail."""
    _register(services, staff)
    for statement in ("UPDATE audit_log SET outcome = 'success'", "DELETE FROM audit_log"):
        with services.engine.connect() as connection, pytest.raises(DBAPIError):
            connection.execute(text(statement))


def _tamper(url: str, statement: str) -> None:
    """Change the audit log behind the app's back, as an attacker with database access could."""
    engine = create_database_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.execute(text("DROP TRIGGER audit_log_refuse_update"))
                connection.execute(text("DROP TRIGGER audit_log_refuse_delete"))
            else:
                connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("statement", "bad_seq"),
    [
        ("UPDATE audit_log SET outcome = 'denied' WHERE seq = 3", 3),
        ("DELETE FROM audit_log WHERE seq = 2", 3),
        ("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)", None),
    ],
    ids=["edit", "delete-middle", "delete-last"],
)
def test_an_audit_chain_edited_in_the_database_no_longer_verifies(
    fresh_database_url: str, statement: str, bad_seq: int | None
) -> None:
    """Editing or deleting any entry, even the last, is found by the chain check."""
    services = build_services(records_settings(fresh_database_url), FrozenClock())
    try:
        staff = seed_clinic(services.accounts)
        _register(services, staff)
        assert services.audit.verify().intact
        _tamper(fresh_database_url, statement)
        report = services.audit.verify()
    finally:
        services.close()
    assert not report.intact
    if bad_seq is not None:
        assert report.first_bad_seq == bad_seq


def test_a_failure_mid_transaction_leaves_no_partial_record(
    services: Services, staff: ClinicStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing the audit entry fails after the patient row, neither remains."""
    before = services.patients.search(staff.principal(Role.RECEPTION), "Unfinished").total

    def failing_append(connection: object, entries: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("mesoscreen.adapters.db.unit_of_work.append_entries", failing_append)
    with pytest.raises(RuntimeError):
        _register(services, staff, "Unfinished")
    monkeypatch.undo()
    assert services.patients.search(staff.principal(Role.RECEPTION), "Unfinished").total == before
    assert services.audit.verify().intact


def test_concurrent_edits_never_lose_a_write(services: Services, staff: ClinicStaff) -> None:
    """Eight threads each add a letter with optimistic retries; every letter survives."""
    patient_id = _register(services, staff, "Race")
    nurse = staff.principal(Role.NURSE)
    errors: list[BaseException] = []

    def add_letter(letter: str) -> None:
        try:
            while True:
                current = services.patients.get(nurse, patient_id)
                details = PatientDetails(current.family_name, current.given_name + letter)
                try:
                    services.patients.update(nurse, patient_id, current.version, details)
                    return
                except StaleVersionError:
                    continue
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=add_letter, args=(c,)) for c in "ABCDEFGH"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = services.patients.get(nurse, patient_id)
    assert sorted(final.given_name.removeprefix("Kim")) == list("ABCDEFGH")
    assert final.version == 9


def test_a_stale_save_changes_nothing(services: Services, staff: ClinicStaff) -> None:
    """Saving with an old version raises and the stored record is the newer one."""
    patient_id = _register(services, staff)
    nurse = staff.principal(Role.NURSE)
    services.patients.update(nurse, patient_id, 1, PatientDetails("Do", "First"))
    with pytest.raises(StaleVersionError):
        services.patients.update(nurse, patient_id, 1, PatientDetails("Do", "Second"))
    assert services.patients.get(nurse, patient_id).given_name == "First"


def test_migrations_build_exactly_the_tables_the_code_declares(database_url: str) -> None:
    """Alembic finds no difference between the migrated schema and tables.py."""
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_migrations_downgrade_and_upgrade_cleanly(fresh_database_url: str) -> None:
    """base → head → base → head works on a database."""
    downgrade_database(fresh_database_url, "base")
    upgrade_database(fresh_database_url)
    services = build_services(records_settings(fresh_database_url), FrozenClock())
    try:
        seed_clinic(services.accounts)
        assert services.audit.verify().intact
    finally:
        services.close()


def test_audit_appends_from_another_service_extend_the_same_chain(services: Services) -> None:
    """The standalone AuditLog (handed to the CDS Hooks router) chains onto the same log."""
    entry = AuditEntry("cds.call", AuditAction.EXECUTE, AuditOutcome.SUCCESS, services.clock.now())
    services.audit_log.append(entry)
    assert services.audit.verify().intact
