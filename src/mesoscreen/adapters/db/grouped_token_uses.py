"""CDS Hooks calls recorded by group commit: many calls' token uses and audit entries, one
transaction.

Each call must record its token's ``jti`` (replay protection) and its audit entry durably
before it is answered. Done one transaction per call, every call takes the audit chain's head
lock and waits for its own flush to disk while holding it, so the whole service records at
most one call per commit, however many cores and connections it has. Here the calls that
arrive while a commit is under way wait together and go into the next transaction: one head
lock, one flush, and each waiting call is answered only once that commit has succeeded (if
it fails, each of them gets the error). A token used twice is refused whether the first use
is already stored or in the same batch. Nothing is kept in memory beyond the calls waiting
for their commit, so several server processes still share one database safely.

``await record_call(...)`` on the event loop: the call waits for its commit without holding
a thread, and the writer hands it its result through the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, delete
from sqlalchemy.dialects import postgresql, sqlite

from mesoscreen.adapters.db import tables
from mesoscreen.adapters.db.audit import append_entries
from mesoscreen.adapters.db.call_records_sql import PostgresCallRecorder
from mesoscreen.domain.audit import AuditEntry

# Expired token ids are swept in one batch in this many (the sweep is idempotent).
SWEEP_EVERY_BATCHES = 64
MAX_BATCH = 256
WRITER_IDLE_SECONDS = 30.0


@dataclass(eq=False)
class PendingCall:
    """One call waiting for its batch to commit."""

    issuer: str
    jti: str
    expires_at: datetime
    now: datetime
    entry: AuditEntry
    done: threading.Event = field(default_factory=threading.Event)  # set when its batch ended
    first_use: bool = False
    error: BaseException | None = None
    # The loop and the future of the task awaiting the call: once the batch has ended the
    # writer settles the futures of each loop with one wake-up of that loop.
    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None


class GroupCommitTokenReplayGuard:
    """Records each call's token use and audit entry, batching concurrent calls per commit."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine
        # PostgreSQL: plain SQL on a held connection (ADR 0014); SQLite: SQLAlchemy Core.
        self._sql = PostgresCallRecorder(engine) if engine.dialect.name == "postgresql" else None
        self._max_batch = max_batch
        self._waiting: queue.SimpleQueue[PendingCall] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._batches = 0

    async def record_call(
        self, issuer: str, jti: str, expires_at: datetime, now: datetime, entry: AuditEntry
    ) -> bool:
        """Record the token's first use with the call's audit entry, durably, then return;
        False, and no entry written, if the token was used before. Awaited on the event loop:
        the call holds no thread while it waits for its commit."""
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[None] = loop.create_future()
        call = PendingCall(issuer, jti, expires_at, now, entry, waiter=(loop, committed))
        self._waiting.put(call)
        self._ensure_writer()
        # Shielded: a client that goes away does not cancel a write already queued, and the
        # answer still waits for the commit it depends on.
        await asyncio.shield(committed)
        if call.error is not None:
            raise call.error
        return call.first_use

    def close(self) -> None:
        """Give back the connection the plain-SQL recorder holds (the next batch takes one)."""
        if self._sql is not None:
            self._sql.release()

    def _ensure_writer(self) -> None:
        # Started on demand, in the process that serves (server workers are spawned), and
        # gone again once idle. The caller has queued its call before this check, and the
        # writer only leaves holding the same lock with nothing queued, so no call is stranded.
        with self._start_lock:
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_forever, name="cds-call-recorder", daemon=True
                )
                self._writer.start()

    def _write_forever(self) -> None:
        while True:
            try:
                batch = [self._waiting.get(timeout=WRITER_IDLE_SECONDS)]
            except queue.Empty:
                with self._start_lock:
                    if self._waiting.empty():
                        self._writer = None
                        if self._sql is not None:
                            self._sql.release()
                        return
                continue
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            self.write_batch(batch)

    def write_batch(self, batch: list[PendingCall]) -> None:
        """Store one batch in one transaction and wake its callers (with the error, if any)."""
        try:
            if self._sql is not None:
                self._record_sql(self._sql, batch)
            else:
                with self._engine.begin() as connection:
                    self._store(connection, batch)
        except Exception as error:  # every waiting caller must hear how its commit ended
            for call in batch:
                call.first_use = False
                call.error = error
        finally:
            _finish(batch)

    def _record_sql(self, recorder: PostgresCallRecorder, batch: list[PendingCall]) -> None:
        self._batches += 1
        sweep = batch[0].now if self._batches % SWEEP_EVERY_BATCHES == 0 else None
        firsts: dict[tuple[str, str], PendingCall] = {}
        for call in batch:
            firsts.setdefault((call.issuer, call.jti), call)

        def entries_for(first: set[tuple[str, str]]) -> list[AuditEntry]:
            for key, call in firsts.items():
                call.first_use = key in first
            return [call.entry for call in batch if call.first_use]

        uses = [(c.issuer, c.jti, c.expires_at) for c in firsts.values()]
        recorder.record(uses, entries_for, sweep)

    def _store(self, connection: Connection, batch: list[PendingCall]) -> None:
        table = tables.cds_token_uses
        self._batches += 1
        if self._batches % SWEEP_EVERY_BATCHES == 0:
            connection.execute(delete(table).where(table.c.expires_at < batch[0].now))
        firsts: dict[tuple[str, str], PendingCall] = {}
        for call in batch:
            firsts.setdefault((call.issuer, call.jti), call)
        dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
        statement = (
            dialect.insert(table)
            .on_conflict_do_nothing(index_elements=[table.c.issuer, table.c.jti])
            .returning(table.c.issuer, table.c.jti)
        )
        rows = [
            {"issuer": c.issuer, "jti": c.jti, "expires_at": c.expires_at} for c in firsts.values()
        ]
        inserted = {(row.issuer, row.jti) for row in connection.execute(statement, rows)}
        for key, call in firsts.items():
            call.first_use = key in inserted
        append_entries(connection, [call.entry for call in batch if call.first_use])


def _finish(batch: list[PendingCall]) -> None:
    """Mark the calls of a batch ended and wake the tasks awaiting them, one wake-up per loop."""
    waiting: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for call in batch:
        call.done.set()
        if call.waiter is not None:
            loop, committed = call.waiter
            waiting.setdefault(loop, []).append(committed)
    for loop, futures in waiting.items():
        # A loop that has closed has nobody waiting on it any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, futures)


def _settle(futures: list[asyncio.Future[None]]) -> None:
    """Resolve awaiting calls' futures on their loop (unless cancelled meanwhile)."""
    for committed in futures:
        if not committed.done():
            committed.set_result(None)
