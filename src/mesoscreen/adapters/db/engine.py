"""Engines for the embedded SQLite file and for PostgreSQL, with SQLite's settings enforced.

Every SQLite connection gets foreign keys on, WAL, ``synchronous=FULL`` and a
busy timeout, read back and checked before the pool hands it out; every
SQLite transaction starts with ``BEGIN IMMEDIATE`` so two writers queue on the
busy timeout instead of failing when a reader upgrades to a writer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

from mesoscreen.domain.errors import StorageSettingsError as StorageSettingsError

BUSY_TIMEOUT_MS = 10_000

# What each PRAGMA must read back as on every connection.
SQLITE_SETTINGS: dict[str, str] = {
    "foreign_keys": "1",
    "journal_mode": "wal",
    "synchronous": "2",  # FULL
    "busy_timeout": str(BUSY_TIMEOUT_MS),
}


def is_sqlite(url: str) -> bool:
    """Whether ``url`` names an SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    """The file an SQLite URL names; StorageSettingsError for in-memory databases."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise StorageSettingsError("the embedded database must be a file, not in memory")
    return Path(database)


def create_database_engine(url: str) -> Engine:
    """An engine for ``url``: SQLite with enforced PRAGMAs, or PostgreSQL with pre-ping.

    Statement parameters (names, answers) never appear in SQL logs or error messages.
    """
    if is_sqlite(url):
        sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, hide_parameters=True
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    """Apply and check the PRAGMAs; take over BEGIN from the driver."""
    # The driver's implicit BEGIN would defer the write lock; `_begin_immediate` issues ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for name, value in SQLITE_SETTINGS.items():
            wanted = "FULL" if name == "synchronous" else value
            cursor.execute(f"PRAGMA {name}={wanted}")
    finally:
        cursor.close()
    for name, got in read_sqlite_settings(dbapi_connection).items():
        if got != SQLITE_SETTINGS[name]:
            raise StorageSettingsError(
                f"SQLite PRAGMA {name}: expected {SQLITE_SETTINGS[name]} (got {got})"
            )


def _begin_immediate(connection: Connection) -> None:
    """Start every SQLite transaction holding the write lock."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def read_sqlite_settings(dbapi_connection: Any) -> dict[str, str]:
    """The current values of the enforced PRAGMAs on a driver connection (for checks and tests)."""
    cursor = dbapi_connection.cursor()
    try:
        return {
            name: str(cursor.execute(f"PRAGMA {name}").fetchone()[0]).lower()
            for name in SQLITE_SETTINGS
        }
    finally:
        cursor.close()
