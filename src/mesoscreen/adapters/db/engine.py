"""Engines for the embedded SQLite file and for PostgreSQL, with SQLite's settings enforced.

Every SQLite connection gets foreign keys on, WAL, ``synchronous=FULL`` and a
busy timeout, read back and checked before the pool hands it out; every
SQLite transaction starts with ``BEGIN IMMEDIATE`` so two writers queue on the
busy timeout instead of failing when a reader upgrades to a writer.

A PostgreSQL connection is checked with a ping before the pool hands it out when it was
never handed out, when it has been idle in the pool for ``PING_AFTER_IDLE_SECONDS`` or more,
or when the server has sent it something while it waited (a server ending the session sends
its reason and closes the socket; an idle connection has nothing to read otherwise): a
connection the server or the network dropped is replaced before any request sees it. One
given back less than that ago with nothing to read was working a moment before and is handed
out without the round trip (as HikariCP's ``aliveBypassWindowMs`` does); under steady traffic
this saves one round trip per unit of work.
"""

from __future__ import annotations

import select
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from mesoscreen.adapters.db.described_cursor import DescribedOnReadCursor
from mesoscreen.adapters.db.json_rows import loads
from mesoscreen.domain.errors import StorageSettingsError as StorageSettingsError

BUSY_TIMEOUT_MS = 10_000

# A PostgreSQL connection idle in the pool this long or longer is pinged before use.
PING_AFTER_IDLE_SECONDS = 0.5
_RETURNED_AT = "mesoscreen_returned_at"  # monotonic time the pool got the connection back

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


def create_database_engine(
    url: str, *, ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS
) -> Engine:
    """An engine for ``url``: SQLite with enforced PRAGMAs, or PostgreSQL whose connections
    are pinged before use once idle for ``ping_after_idle_seconds``.

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
    # With psycopg, the cursor's description is built only when read (described_cursor:
    # most results' columns are known from the compiled statement).
    on_psycopg = make_url(url).get_driver_name() == "psycopg"
    connect_args = {"cursor_factory": DescribedOnReadCursor} if on_psycopg else {}
    # JSON columns decoded by orjson where it reads as the standard library would
    # (json_rows.loads): a plan's 11.5 KB document in 29 us instead of 128-144 us.
    engine = create_engine(
        url, hide_parameters=True, connect_args=connect_args, json_deserializer=loads
    )
    _ping_when_idle(engine, ping_after_idle_seconds)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Before the pool hands out a connection idle ``idle_seconds`` or more, or never handed
    out, ping it; a failed ping makes the pool drop it and hand out a new one (SQLAlchemy's
    custom pessimistic disconnect handling: ``DisconnectionError`` on checkout)."""
    dialect = engine.dialect

    def returned(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def checkout(dbapi: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        given_back = record.info.pop(_RETURNED_AT, None)
        recent = given_back is not None and time.monotonic() - given_back < idle_seconds
        if recent and not server_spoke(dbapi):
            return
        try:
            alive = dialect.do_ping(dbapi)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection no longer answers") from exc
        if not alive:
            raise DisconnectionError("the pooled connection no longer answers")

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", checkout)


def server_spoke(dbapi: Any) -> bool:
    """Whether an idle connection's socket has something to read or is closed (checked
    without waiting); True when its socket cannot be had."""
    try:
        descriptor = dbapi.fileno()
    except Exception:  # a closed or broken connection: the ping finds out
        return True
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


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
