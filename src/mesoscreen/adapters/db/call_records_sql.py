"""CDS calls recorded in plain SQL on the driver: the hot path of every hook call (ADR 0014).

Each CDS call writes its token's use and its audit entry, in one transaction, before it is
answered. Through SQLAlchemy Core a batch cost a pool checkout with its liveness ping and four
compiled statements, more CPU than the rest of the call after the signature check. Here the
recorder holds one PostgreSQL connection of the engine's pool and sends the same statements as
SQL text in two round trips of psycopg's pipeline: the token uses (``ON CONFLICT DO NOTHING
RETURNING``) with the chain head locked (``FOR UPDATE``, as every audit append does); then
the chained entries, the new head and the commit. The rows are exactly what the Core path
writes (``audit_row``), so the chain and every reader see no difference. A connection that
broke while idle is replaced and the batch tried once more before anything was committed;
driver errors surface as SQLAlchemy's (``OperationalError`` becomes a 503 at the edge).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from mesoscreen.adapters.db import tables
from mesoscreen.adapters.db.audit import audit_row
from mesoscreen.domain.audit import AuditEntry
from mesoscreen.services.audit_chain import chain

_LOG_COLUMNS = tuple(column.name for column in tables.audit_log.columns)
# One array per column whatever the batch size: the statements' texts never change, so the
# driver converts each once and the server runs them prepared.
_ARRAY_TYPES = {"seq": "int8[]", "recorded_at": "timestamptz[]"}
_USE_TOKENS = (
    "INSERT INTO cds_token_uses (issuer, jti, expires_at) "
    "SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[]) "
    "ON CONFLICT (issuer, jti) DO NOTHING RETURNING issuer, jti"
)
_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
_APPEND = (
    f"INSERT INTO audit_log ({', '.join(_LOG_COLUMNS)}) SELECT * FROM unnest("  # noqa: S608
    + ", ".join(f"%s::{_ARRAY_TYPES.get(c, 'text[]')}" for c in _LOG_COLUMNS)
    + ")"
)
_APPEND_CLINICS = (
    "INSERT INTO audit_entry_clinics (seq, clinic_id) SELECT * FROM unnest(%s::int8[], %s::text[])"
)
_MOVE_HEAD = "UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1"
_SWEEP = "DELETE FROM cds_token_uses WHERE expires_at < %s"


class PostgresCallRecorder:
    """Writes batches of token uses and audit entries on one held PostgreSQL connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._held: Any = None  # the pool's connection record, checked out while in use
        # The writer thread records; a test or an idle exit may touch it from another thread.
        self._lock = threading.Lock()

    def _connection(self) -> psycopg.Connection[Any]:
        if self._held is None:
            self._held = self._engine.raw_connection()
        connection: psycopg.Connection[Any] = self._held.driver_connection
        return connection

    def release(self) -> None:
        """Give the connection back to the pool (the recorder is idle)."""
        with self._lock:
            if self._held is not None:
                self._held.close()
                self._held = None

    def _discard(self) -> None:
        if self._held is not None:
            self._held.invalidate()
            self._held = None

    def record(
        self,
        uses: Sequence[tuple[str, str, datetime]],
        entries_for: Callable[[set[tuple[str, str]]], list[AuditEntry]],
        sweep_before: datetime | None = None,
    ) -> set[tuple[str, str]]:
        """Store the token ``uses`` not seen before and the audit entries ``entries_for``
        gives for those first uses, in one transaction; the (issuer, jti) pairs first used.

        ``sweep_before`` also deletes the token uses that expired before it.
        """
        with self._lock:
            return self._record(uses, entries_for, sweep_before)

    def _record(
        self,
        uses: Sequence[tuple[str, str, datetime]],
        entries_for: Callable[[set[tuple[str, str]]], list[AuditEntry]],
        sweep_before: datetime | None,
    ) -> set[tuple[str, str]]:
        for attempt in (1, 2):
            answered = [False]  # set once the server has answered this batch at all
            try:
                return self._write(self._connection(), uses, entries_for, sweep_before, answered)
            except psycopg.Error as error:
                broken = self._held is None or self._held.driver_connection.broken
                if broken:
                    self._discard()
                else:
                    self._rollback()
                # A connection found dead before the server saw the batch (the database
                # restarted while this one idled) is replaced and the batch sent once more.
                if attempt == 1 and broken and not answered[0]:
                    continue
                raise DBAPIError.instance(
                    "cds call record", None, error, psycopg.Error, hide_parameters=True
                ) from error
            except BaseException:
                self._rollback()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _rollback(self) -> None:
        try:
            if self._held is not None:
                self._held.driver_connection.rollback()
        except psycopg.Error:
            self._discard()

    @staticmethod
    def _write(
        connection: psycopg.Connection[Any],
        uses: Sequence[tuple[str, str, datetime]],
        entries_for: Callable[[set[tuple[str, str]]], list[AuditEntry]],
        sweep_before: datetime | None,
        answered: list[bool],
    ) -> set[tuple[str, str]]:
        with connection.pipeline():
            if sweep_before is not None:
                connection.execute(_SWEEP, (sweep_before,))
            columns = [list(column) for column in zip(*uses, strict=True)]
            inserted = connection.execute(_USE_TOKENS, columns)
            head = connection.execute(_HEAD)
            first = {(row[0], row[1]) for row in inserted.fetchall()}
            answered[0] = True
            entries = entries_for(first)
            if entries:
                found = head.fetchone()
                if found is None:
                    raise RuntimeError("audit_head has no row: the schema is not migrated")
                stored = chain(found[0], found[1], entries)
                rows = [audit_row(s) for s in stored]
                connection.execute(_APPEND, [[row[c] for row in rows] for c in _LOG_COLUMNS])
                others = [(s.seq, clinic) for s in stored
                          for clinic in sorted(s.entry.other_clinic_ids)]  # fmt: skip
                if others:
                    pairs = [list(column) for column in zip(*others, strict=True)]
                    connection.execute(_APPEND_CLINICS, pairs)
                connection.execute(_MOVE_HEAD, (stored[-1].seq, stored[-1].hash))
            connection.commit()
        return first
