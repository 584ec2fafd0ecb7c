"""The records commands as an operator runs them: first admin, clinic, audit verify, backup."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from mesoscreen.adapters.db.engine import create_database_engine
from mesoscreen.entrypoints.cli import main

SECRET = "a long and secret passphrase"  # noqa: S105  # a test account's password


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data folder for the embedded database, with cheap Argon2."""
    monkeypatch.setenv("MESOSCREEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MESOSCREEN_DATABASE_URL", raising=False)
    for name, value in (("TIME_COST", "1"), ("MEMORY_KIB", "8"), ("PARALLELISM", "1")):
        monkeypatch.setenv(f"MESOSCREEN_ARGON2_{name}", value)
    return tmp_path / "data"


def _create_admin(monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET + "\n"))
    return main(["admin", "create", "--username", "boss", "--password-stdin", *extra])


def test_the_first_admin_is_created_without_printing_the_password(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh install gets its schema and first admin; nothing secret is printed."""
    assert main(["clinic", "create", "Saigon Central"]) == 0
    assert _create_admin(monkeypatch, "--clinic", "Saigon Central") == 0
    printed = capsys.readouterr()
    assert "created admin boss" in printed.out
    assert SECRET not in printed.out + printed.err
    assert (data_dir / "mesoscreen.sqlite3").exists()


def test_a_weak_password_is_refused_with_exit_2(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Short passwords are refused with a message that does not echo them."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["admin", "create", "--username", "boss", "--password-stdin"]) == 2
    assert "short" not in capsys.readouterr().err.replace("at least", "")


def test_audit_verify_passes_then_fails_after_tampering(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 0 for an intact log; exit 1 naming the entry once a row is edited in the file."""
    main(["clinic", "create", "Hanoi"])
    _create_admin(monkeypatch)
    assert main(["audit", "verify"]) == 0
    assert "2 entries verified" in capsys.readouterr().out
    engine = create_database_engine(f"sqlite:///{data_dir / 'mesoscreen.sqlite3'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER audit_log_refuse_update"))
            connection.execute(text("UPDATE audit_log SET source = 'elsewhere' WHERE seq = 1"))
    finally:
        engine.dispose()
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at entry 1" in capsys.readouterr().err


def test_backup_then_restore_brings_back_the_saved_state(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clinic created after the backup is gone after the restore; the chain still verifies."""
    main(["clinic", "create", "Da Nang"])
    backup = tmp_path / "backup.sqlite3"
    assert main(["backup", str(backup)]) == 0
    main(["clinic", "create", "Hue"])
    assert main(["restore", str(backup)]) == 0
    assert main(["audit", "export", "-"]) == 0
    exported = capsys.readouterr().out
    assert exported.count('"clinic.create"') == 1
    assert main(["audit", "verify"]) == 0


def test_backup_refuses_a_postgresql_database(capsys: pytest.CaptureFixture[str]) -> None:
    """For PostgreSQL the command points to pg_dump."""
    code = main(["backup", "x.sqlite3", "--database", "postgresql+psycopg://u@localhost/db"])
    assert code == 2
    assert "pg_dump" in capsys.readouterr().err
