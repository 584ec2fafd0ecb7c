"""Online backup and restore of the embedded SQLite database with SQLite's backup API.

A backup taken while servers write is a consistent snapshot (the backup API
copies pages under a read transaction); a restore runs only with the servers
stopped (it takes the lock they hold, ``usage_lock``) and only from a copy that
still has the append-only protections (``protections``). PostgreSQL deployments
use pg_dump/pg_restore instead.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from mesoscreen.adapters.db.engine import BUSY_TIMEOUT_MS
from mesoscreen.adapters.db.protections import missing_in_sqlite
from mesoscreen.adapters.db.usage_lock import restoring
from mesoscreen.domain.errors import InputError


def _check(path: Path) -> None:
    """InputError unless ``path`` is an SQLite database that passes its integrity check."""
    try:
        with closing(sqlite3.connect(path)) as connection:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as unreadable:
        raise InputError(
            f"{path.name}: expected an SQLite database made by `mesoscreen backup` "
            f"(got a file SQLite cannot read: {unreadable})"
        ) from None
    if result != "ok":
        raise InputError(f"database {path.name}: integrity check failed ({result})")


def backup_sqlite(database: Path, out: Path) -> None:
    """Copy ``database`` to ``out`` consistently, even while it is being written."""
    if not database.exists():
        raise FileNotFoundError(f"database {database}: does not exist")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.open("wb").close()  # an unwritable place fails here, as an OSError naming it
    source = sqlite3.connect(database, timeout=BUSY_TIMEOUT_MS / 1000)
    target = sqlite3.connect(partial)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()
    _check(partial)
    partial.replace(out)


def _check_protections(path: Path) -> None:
    with closing(sqlite3.connect(path)) as connection:
        missing = missing_in_sqlite(connection)
    if missing:
        # The copy is refused as input; a live database without them is a configuration
        # fault (MissingProtectionsError, when the server starts).
        raise InputError(
            f"restore: the copy {path.name} lacks the append-only protections "
            f"({', '.join(missing)}); it could hold a rewritten audit log and is refused"
        )


def restore_sqlite(backup: Path, database: Path) -> None:
    """Replace ``database`` with the checked copy ``backup``.

    DatabaseInUseError while a server runs on ``database``; InputError for a file that is
    not an SQLite database, fails its integrity check or lacks its append-only triggers.
    Nothing is changed in any of these cases.
    """
    with restoring(database):
        _check(backup)
        _check_protections(backup)
        database.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(backup)
        target = sqlite3.connect(database, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
