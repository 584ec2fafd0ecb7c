"""The audit trail anchored outside the database, on SQLite and PostgreSQL: what a database
superuser can do with the triggers off (PostgreSQL: ``session_replication_role = replica``;
SQLite: drop them) passes the chain check alone, and is found against the signed checkpoints:
the last rows deleted with the head moved back, a row edited with every later hash recomputed,
a signed screening's outcome edited in its table. ``serve`` will not start without the
triggers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from mesoscreen.adapters.audit_checkpoints import (
    FileCheckpointLog,
    generate_key_pair,
    load_signing_key,
    load_verify_key,
    read_checkpoints,
)
from mesoscreen.adapters.db.audit import SqlAuditTrail
from mesoscreen.adapters.db.engine import create_database_engine
from mesoscreen.adapters.db.migrations import downgrade_database, upgrade_database
from mesoscreen.adapters.db.protections import missing_protections
from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.domain.audit import AuditOutcome
from mesoscreen.entrypoints import exit_codes
from mesoscreen.entrypoints.cli import main
from mesoscreen.services.audit_chain import chain
from mesoscreen.services.audit_integrity import IntegrityReport
from mesoscreen.services.patients import PatientDetails
from tests.conftest import postgres_schema
from tests.factories import ClinicStaff, eligible_answers, records_settings, seed_clinic
from tests.fakes import FrozenClock


@dataclasses.dataclass
class Anchored:
    """A database of this test alone with some history, and its signed checkpoints."""

    url: str
    services: Services
    staff: ClinicStaff
    log: FileCheckpointLog
    checkpoints: Path
    public_key: Path

    def checkpoint(self) -> None:
        """Sign the head now, as serve does every interval."""
        assert self.services.audit_integrity.checkpoint(self.log) is not None

    def verify(self, with_checkpoints: bool = True) -> IntegrityReport:
        """What `audit verify` finds (with the checkpoint file, or the database alone)."""
        found = (
            read_checkpoints(self.checkpoints, load_verify_key(self.public_key))
            if with_checkpoints
            else None
        )
        return self.services.audit_integrity.verify(found)

    def some_work(self) -> str:
        """Register and screen a patient (a few entries); the screening's id."""
        clinician = self.staff.principal(Role.CLINICIAN)
        patient = self.services.patients.register(
            clinician, self.staff.clinic.id, PatientDetails("Ngo", "Bao")
        )
        return self.services.screenings.screen_intake(clinician, patient.id, eligible_answers()).id


@pytest.fixture
def anchored(fresh_database_url: str, tmp_path: Path) -> Iterator[Anchored]:
    """History, a checkpoint, more history, a second checkpoint."""
    private, public = tmp_path / "key.pem", tmp_path / "key.pub"
    generate_key_pair(private, public)
    log = FileCheckpointLog(tmp_path / "checkpoints.jsonl", load_signing_key(private))
    services = build_services(records_settings(fresh_database_url), FrozenClock())
    try:
        staff = seed_clinic(services.accounts)
        found = Anchored(fresh_database_url, services, staff, log, tmp_path / "checkpoints.jsonl",
                         public)  # fmt: skip
        found.some_work()
        found.checkpoint()
        found.some_work()
        found.checkpoint()
        yield found
    finally:
        services.close()


@contextmanager
def as_superuser(url: str) -> Iterator[Connection]:
    """A transaction in which the append-only triggers do not fire, as for a superuser."""
    engine = create_database_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                names = connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
                for name in list(names):
                    connection.execute(text(f'DROP TRIGGER "{name}"'))
            else:
                # No schema change: the triggers are there and simply do not fire.
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            yield connection
    finally:
        engine.dispose()


def _last_seq(connection: Connection) -> int:
    return int(connection.execute(text("SELECT MAX(seq) FROM audit_log")).scalar_one())


def test_the_untouched_log_matches_every_checkpoint(anchored: Anchored) -> None:
    """No false alarm: chain, checkpoints and signed records all verify."""
    report = anchored.verify()
    assert report.intact, report.problems
    assert report.checkpoints == 2


def test_deleting_the_last_rows_and_moving_the_head_back_is_found(anchored: Anchored) -> None:
    """The chain alone says intact; the last checkpoint names entries that are gone."""
    with as_superuser(anchored.url) as connection:
        keep = _last_seq(connection) - 5
        connection.execute(text("DELETE FROM audit_entry_clinics WHERE seq > :k"), {"k": keep})
        connection.execute(text("DELETE FROM audit_log WHERE seq > :k"), {"k": keep})
        connection.execute(
            text("UPDATE audit_head SET seq = :k, hash = (SELECT hash FROM audit_log "
                 "WHERE seq = :k)"),
            {"k": keep},
        )  # fmt: skip
    assert anchored.verify(with_checkpoints=False).intact
    report = anchored.verify()
    assert not report.intact
    assert any("entries were removed from its end" in p for p in report.problems)


def test_editing_a_row_and_recomputing_every_later_hash_is_found(anchored: Anchored) -> None:
    """A consistent forged chain checks out alone; the signed heads no longer match."""
    with as_superuser(anchored.url) as connection:
        stored = list(SqlAuditTrail(connection).entries())
        edited = dataclasses.replace(stored[2].entry, outcome=AuditOutcome.DENIED)
        forged = chain(stored[1].seq, stored[1].hash, [edited] + [s.entry for s in stored[3:]])
        for entry in forged:
            connection.execute(
                text("UPDATE audit_log SET outcome = :o, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"o": entry.entry.outcome.value, "p": entry.prev_hash, "h": entry.hash,
                 "s": entry.seq},
            )  # fmt: skip
        connection.execute(text("UPDATE audit_head SET hash = :h"), {"h": forged[-1].hash})
    assert anchored.verify(with_checkpoints=False).intact
    report = anchored.verify()
    assert not report.intact
    assert any("the log was rewritten" in p for p in report.problems)


def test_a_signed_screenings_outcome_edited_in_its_table_is_found(anchored: Anchored) -> None:
    """Its signing left the content hash in the chain; the edited row no longer matches it."""
    clinician = anchored.staff.principal(Role.CLINICIAN)
    screening = anchored.services.screenings.get(clinician, anchored.some_work())[0]
    anchored.services.screenings.sign(clinician, screening.id, screening.version)
    anchored.checkpoint()
    assert anchored.verify().intact
    with as_superuser(anchored.url) as connection:
        connection.execute(
            text("UPDATE screenings SET outcome = 'contraindicated' WHERE id = :i"),
            {"i": screening.id},
        )
    report = anchored.verify()
    assert report.problems == (
        f"Screening '{screening.id}': its content differs from what was signed",
    )


def test_a_signed_record_deleted_from_its_table_is_found(anchored: Anchored) -> None:
    """A signing whose record is gone is reported too."""
    clinician = anchored.staff.principal(Role.CLINICIAN)
    screening = anchored.services.screenings.get(clinician, anchored.some_work())[0]
    anchored.services.screenings.sign(clinician, screening.id, screening.version)
    with as_superuser(anchored.url) as connection:
        connection.execute(text("DELETE FROM screenings WHERE id = :i"), {"i": screening.id})
    assert f"Screening '{screening.id}': signed, but no longer stored" in anchored.verify().problems


def test_the_command_line_verify_exits_1_against_the_checkpoints(
    anchored: Anchored, capsys: pytest.CaptureFixture[str]
) -> None:
    """`audit verify --checkpoints FILE --public-key FILE`: 0, then 1 naming the removal."""
    command = ["audit", "verify", "--database", anchored.url, "--checkpoints",
               str(anchored.checkpoints), "--public-key", str(anchored.public_key)]  # fmt: skip
    assert main(command) == 0
    assert "2 signed checkpoints match the log" in capsys.readouterr().out
    with as_superuser(anchored.url) as connection:
        keep = _last_seq(connection) - 1
        connection.execute(text("DELETE FROM audit_entry_clinics WHERE seq > :k"), {"k": keep})
        connection.execute(text("DELETE FROM audit_log WHERE seq > :k"), {"k": keep})
        connection.execute(
            text("UPDATE audit_head SET seq = :k, hash = (SELECT hash FROM audit_log "
                 "WHERE seq = :k)"),
            {"k": keep},
        )  # fmt: skip
    assert main(command) == 1
    assert "entries were removed from its end" in capsys.readouterr().err


@contextmanager
def _without_one_trigger(url: str) -> Iterator[None]:
    engine = create_database_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.execute(text("DROP TRIGGER audit_log_refuse_delete"))
            else:
                connection.execute(
                    text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_refuse_change")
                )
        yield
    finally:
        engine.dispose()


def test_serve_refuses_to_start_without_the_append_only_protections(
    fresh_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dropped (SQLite) or disabled (PostgreSQL) trigger: exit 78 (a configuration fault,
    EX_CONFIG, from the error table), one line naming it."""
    with _without_one_trigger(fresh_database_url):
        code = main(["serve", "--database", fresh_database_url, "--port", "9"])
        assert code == exit_codes.CONFIGURATION
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "lacks its append-only protections" in err
    assert "audit_log_refuse_" in err


def test_serve_refuses_to_start_when_the_audit_append_procedure_was_rewritten(
    fresh_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL: an append procedure that no longer stores entries nor moves the head (the
    chain would lose every entry without a trigger firing) is refused as a missing protection;
    the migration's own procedure is not."""
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("the audit append is a procedure on PostgreSQL only")
    engine = create_database_engine(fresh_database_url)
    try:
        assert missing_protections(engine) == []
        with engine.begin() as connection:
            connection.execute(
                # Answers "stored" and the new head, stores nothing, moves nothing.
                text("CREATE OR REPLACE PROCEDURE mesoscreen_audit_append(entries json, "
                     "clinics json, expected_seq integer, expected_hash varchar, "
                     "new_seq integer, new_hash varchar, INOUT stored boolean, "
                     "INOUT head_seq integer, INOUT head_hash varchar) LANGUAGE plpgsql "
                     "AS $$ BEGIN stored := true; head_seq := new_seq; head_hash := new_hash; "
                     "END $$")
            )  # fmt: skip
        assert missing_protections(engine) == ["mesoscreen_audit_append (changed)"]
        # The CDS batch's procedure rewritten to answer "recorded" without storing.
        with engine.begin() as connection:
            connection.execute(
                text("CREATE OR REPLACE PROCEDURE mesoscreen_cds_record(uses json, "
                     "entries json, clinics json, expected_seq integer, expected_hash varchar, "
                     "new_seq integer, new_hash varchar, INOUT recorded boolean, "
                     "INOUT head_seq integer, INOUT head_hash varchar) LANGUAGE plpgsql "
                     "AS $$ BEGIN recorded := true; END $$")
            )  # fmt: skip
        assert missing_protections(engine) == [
            "mesoscreen_audit_append (changed)",
            "mesoscreen_cds_record (changed)",
        ]
        # The migrations' own procedures again, then one pointed at other tables by a setting.
        downgrade_database(fresh_database_url, "0011_i22_audit_append")
        upgrade_database(fresh_database_url)
        assert missing_protections(engine) == []
        with engine.begin() as connection:
            connection.execute(
                text("ALTER PROCEDURE mesoscreen_audit_append(json, json, integer, varchar, "
                     "integer, varchar, boolean, integer, varchar) SET search_path = public")
            )  # fmt: skip
        assert missing_protections(engine) == ["mesoscreen_audit_append (changed)"]
    finally:
        engine.dispose()
    code = main(["serve", "--database", fresh_database_url, "--port", "9"])
    assert code == exit_codes.CONFIGURATION
    assert "mesoscreen_audit_append (changed)" in capsys.readouterr().err


@pytest.mark.postgres
def test_the_append_procedures_of_0011_and_0012_are_both_a_migrations_own() -> None:
    """PostgreSQL: a database at migration 0011 has that migration's procedure, not a rewritten
    one; upgrading adds 0012's beside it (servers not yet upgraded still call 0011's), and
    downgrading drops 0012's alone."""

    def arguments(engine: Engine) -> list[int]:
        with engine.connect() as connection:
            return sorted(connection.execute(
                text("SELECT p.pronargs FROM pg_proc p WHERE p.proname = 'mesoscreen_audit_append' "
                     "AND p.pronamespace = current_schema()::regnamespace")
            ).scalars())  # fmt: skip

    with postgres_schema() as url:
        upgrade_database(url, "0011_i22_audit_append")
        engine = create_database_engine(url)
        try:
            assert (missing_protections(engine), arguments(engine)) == ([], [4])
            upgrade_database(url)
            assert (missing_protections(engine), arguments(engine)) == ([], [4, 9])
            downgrade_database(url, "0011_i22_audit_append")
            assert (missing_protections(engine), arguments(engine)) == ([], [4])
        finally:
            engine.dispose()


def test_the_head_cannot_be_moved_back_while_the_triggers_are_on(
    anchored: Anchored,
) -> None:
    """Without switching the triggers off, even the chain head refuses to go back."""
    from sqlalchemy.exc import DBAPIError

    statements = (
        "UPDATE audit_head SET seq = seq - 1",
        "DELETE FROM audit_head",
        "UPDATE audit_head SET hash = 'x'",
        "DELETE FROM audit_entry_clinics",
    )
    for statement in statements:
        with anchored.services.engine.begin() as connection, pytest.raises(DBAPIError):
            connection.execute(text(statement))
