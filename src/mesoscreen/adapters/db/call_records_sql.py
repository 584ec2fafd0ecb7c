"""CDS calls recorded in plain SQL on the driver: the hot path of every hook call (ADR 0014).

Each CDS call writes its token's use and its audit entry, in one transaction, before it is
answered. Through SQLAlchemy Core a batch cost a pool checkout with its liveness ping and four
compiled statements, more CPU than the rest of the call after the signature check. Here the
recorder holds one PostgreSQL connection of the engine's pool and sends fixed SQL texts, each
batch's rows as one JSON document per statement. A batch is first sent as one call of
``mesoscreen_cds_record`` outside a transaction block (migration 0013), as if every token
were new and chained after the head this process knows: the procedure stores the uses, the
entries and the new head, or nothing, so one round trip records the batch. When a token was
used before, or the head moved twice, the batch takes a transaction as before: the token
uses (``ON CONFLICT DO NOTHING RETURNING``) with the chain head locked (``FOR UPDATE``, as
every audit append does) in one statement, then the entries of the first uses with their
clinics and the new head in one call, and the commit. The rows are exactly what the Core path
writes (``audit_row``), so the chain and every reader see no difference. A held connection
the server has closed while idle is replaced before use, and a batch the server never ran (a
session ended before it) is tried once more; driver errors surface as SQLAlchemy's
(``OperationalError`` becomes a 503 at the edge).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from mesoscreen.adapters.db.audit import (
    APPEND_ENTRIES_SQL,
    append_parameters,
    aware,
    known_head,
    remember_head,
    rows_document,
)
from mesoscreen.adapters.db.engine import server_spoke
from mesoscreen.domain.audit import AuditEntry
from mesoscreen.services.audit_chain import chain

# Each statement takes its rows as one JSON document (``json_populate_recordset`` types each
# field as its column): the texts never change, so the server runs them prepared, and encoding
# one document with orjson costs a fraction of dumping one array per column.
# One round trip: the token uses not seen before, and the chain head locked (``FOR UPDATE``, as
# every audit append does). The count in the condition makes the server insert every use
# before it reads and locks the head (a join alone locks it after the first use): both paths
# take the uses, in the order of their key, and then the head, so two batches never wait for
# each other in opposite orders. No row at all: audit_head is missing.
_USE_TOKENS_AND_LOCK_HEAD = (
    "WITH used AS (INSERT INTO cds_token_uses (issuer, jti, expires_at) "
    "SELECT issuer, jti, expires_at FROM json_populate_recordset(NULL::cds_token_uses, %s) "
    "ON CONFLICT (issuer, jti) DO NOTHING RETURNING issuer, jti) "
    "SELECT h.seq, h.hash, u.issuer, u.jti FROM audit_head AS h LEFT JOIN used AS u ON TRUE "
    "WHERE h.id = 1 AND (SELECT count(*) FROM used) >= 0 FOR UPDATE OF h"
)
# Then the chained entries with their other clinics and the new head in one call
# (``APPEND_ENTRIES_SQL``, what every audit append on PostgreSQL sends). Psycopg's pipeline
# mode would send it with COMMIT in one round trip, but costs more client CPU than the round
# trip it saves (measured: 0.55 against 0.47 ms per batch of one, 0.20 against 0.15 ms per
# call in batches of four, when the head's move was a statement of its own).
_SWEEP = "DELETE FROM cds_token_uses WHERE expires_at < %s"
# A batch whose tokens are all new, chained after the head this process knows, in one call
# sent alone (autocommit): the procedure (migration 0013) stores the uses, the entries and the
# head, or nothing. MS001: a token was used before; MS002: the head moved (the head found in
# the error's detail, "<seq> <hash>").
_RECORD_IN_ONE_CALL = (
    "CALL mesoscreen_cds_record(%s::json, %s::json, %s::json, %s, %s, %s, %s, NULL, NULL, NULL)"
)
_USED_BEFORE, _HEAD_MOVED = "MS001", "MS002"
# The server ended the session (shutdown, termination, restart) before it ran the call.
_SESSION_ENDED = "57P"


class PostgresCallRecorder:
    """Writes batches of token uses and audit entries on one held PostgreSQL connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._held: Any = None  # the pool's connection record, checked out while in use
        # The writer thread records; a test or an idle exit may touch it from another thread.
        self._lock = threading.Lock()

    def _connection(self) -> psycopg.Connection[Any]:
        # The server ending the session (a restart, an administrator) sends its reason and
        # closes the socket: a held connection it has spoken on while idle is replaced before
        # anything is sent on it.
        if self._held is not None and server_spoke(self._held.driver_connection):
            self._discard()
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
                return self._write(
                    self._engine, self._connection(), uses, entries_for, sweep_before, answered
                )
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
        engine: Engine,
        connection: psycopg.Connection[Any],
        uses: Sequence[tuple[str, str, datetime]],
        entries_for: Callable[[set[tuple[str, str]]], list[AuditEntry]],
        sweep_before: datetime | None,
        answered: list[bool],
    ) -> set[tuple[str, str]]:
        # In the order of their key, whichever path takes them (see _USE_TOKENS_AND_LOCK_HEAD).
        used = [{"issuer": issuer, "jti": jti, "expires_at": aware(expires)}
                for issuer, jti, expires in sorted(uses)]  # fmt: skip
        if sweep_before is None:
            recorded = _record_in_one_call(engine, connection, used, entries_for, answered)
            if recorded is not None:
                return recorded
        else:
            connection.execute(_SWEEP, (sweep_before,))
        rows = connection.execute(_USE_TOKENS_AND_LOCK_HEAD, (rows_document(used),)).fetchall()
        answered[0] = True
        if not rows:
            raise RuntimeError("audit_head has no row: the schema is not migrated")
        first = {(row[2], row[3]) for row in rows if row[2] is not None}
        entries = entries_for(first)
        if entries:
            after = (rows[0][0], rows[0][1])
            stored = chain(*after, entries)
            answer = connection.execute(APPEND_ENTRIES_SQL, append_parameters(after, stored))
            done, seq, head_hash = answer.fetchone() or (False, 0, "")
            if not done:
                # The first statement locked the head: no other transaction can move it.
                raise RuntimeError("audit_head moved while this transaction held its lock")
            connection.commit()
            remember_head(engine, (seq, head_hash))  # the requests' appends chain after it
        else:
            connection.commit()
        return first


def _record_in_one_call(
    engine: Engine,
    connection: psycopg.Connection[Any],
    used: list[dict[str, Any]],
    entries_for: Callable[[set[tuple[str, str]]], list[AuditEntry]],
    answered: list[bool],
) -> set[tuple[str, str]] | None:
    """Record the batch as if every token were new, in one call outside a transaction block,
    chained after the head this process knows (once more after the head the call found, if
    it moved); the pairs first used, or None when the batch must take the transaction (a
    token used before, or the head moved twice), nothing of it stored."""
    everyone = {(use["issuer"], use["jti"]) for use in used}
    entries = entries_for(everyone)
    if not entries:
        return None
    after = known_head(engine)
    connection.autocommit = True
    try:
        for _attempt in (1, 2):
            stored = chain(*after, entries)
            parameters = (rows_document(used), *append_parameters(after, stored))
            # Sent alone, the call commits as it ends: a connection lost before its answer
            # leaves the batch unknown, so it is never sent again (the callers get the error).
            answered[0] = True
            try:
                connection.execute(_RECORD_IN_ONE_CALL, parameters)
            except psycopg.Error as error:
                if error.sqlstate == _USED_BEFORE:
                    answered[0] = False  # nothing stored: the transaction starts afresh
                    return None
                if (error.sqlstate or "").startswith(_SESSION_ENDED):
                    answered[0] = False  # ended before the call could run: nothing stored
                if error.sqlstate != _HEAD_MOVED:
                    raise
                seq, head_hash = (error.diag.message_detail or "").split(" ")
                after = (int(seq), head_hash)
                remember_head(engine, after)
                continue
            remember_head(engine, (stored[-1].seq, stored[-1].hash))
            return everyone
        answered[0] = False  # nothing stored: the transaction starts afresh
        return None
    finally:
        if not connection.broken:  # a broken one is discarded, never given back to the pool
            try:
                connection.autocommit = False
            except psycopg.Error:
                connection.close()  # not idle: never used again (the recorder discards it)
