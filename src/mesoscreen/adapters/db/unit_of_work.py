"""The SQL unit of work: one connection, one transaction, every repository, audit at commit.

Within ``SqlUnitOfWorkFactory.reads_batched()`` (one web page: several use cases, each a
unit of work of its own) the units of work share one connection, and a transaction that
only read stays open for the next one instead of committing: its audit entries wait, and
all of them are chained together once, when the block ends, before the page is answered
(on SQLite, whose transactions lock the whole database, each unit of work keeps its own
connection and transaction; only the entries wait).
A unit of work that wrote commits as always, its audit entries chained with its writes (and
with it whatever the shared transaction read before, which changed nothing); one that fails
rolls back only reads and its own writes. So a page costs one connection, one transaction
and one append to the chain (the chain head is the one row every request locks) instead of
one of each per use case, and its reads are audited entry for entry as before. A unit of work
without a transaction (``without_transaction``: the session check) never joins the block.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine, RootTransaction, event

from mesoscreen.adapters.db import tables
from mesoscreen.adapters.db.accounts import SqlAuthSessions, SqlUsers
from mesoscreen.adapters.db.audit import BufferedAuditLog, SqlAuditTrail, append_entries
from mesoscreen.adapters.db.reads_together import read_together_sql
from mesoscreen.adapters.db.repositories import (
    SqlClinics,
    SqlFormKeys,
    SqlIdempotencyKeys,
    SqlKeptForms,
    SqlPatients,
    SqlPhotoContents,
    SqlRecords,
    SqlSourceThrottles,
    SqlThrottles,
)
from mesoscreen.domain.audit import AuditEntry
from mesoscreen.domain.records import (
    ActionCompletion,
    AdverseEvent,
    Consent,
    ConsentWithdrawal,
    OutcomeMeasure,
    Photo,
    PlanRecord,
    RecordVoid,
    Screening,
    TreatmentSession,
)
from mesoscreen.services.ports import (
    AuditLog,
    AuditTrail,
    AuthSessionRepository,
    ClinicRepository,
    FormKeyRepository,
    IdempotencyRepository,
    KeptFormRepository,
    PatientRepository,
    PhotoContentRepository,
    RecordRead,
    RecordRepository,
    SourceThrottleRepository,
    ThrottleRepository,
    UserRepository,
)
from mesoscreen.services.recording import read_each

_WROTE = "mesoscreen_wrote"  # key in a connection's info: a write ran in this transaction


@dataclass
class _PageBatch:
    """What the units of work of one ``reads_batched()`` block share."""

    entries: list[AuditEntry] = field(default_factory=list)  # of transactions that only read
    connection: Connection | None = None
    transaction: RootTransaction | None = None
    # A unit of work is using the connection (a nested one gets its own); always, when the
    # connection is not shared.
    busy: bool = False

    def begin(self, engine: Engine) -> tuple[Connection, RootTransaction]:
        """The shared connection, in a transaction (a new one after a commit or rollback)."""
        if self.connection is None:
            self.connection = engine.connect()
        if self.transaction is None or not self.transaction.is_active:
            self.connection.info[_WROTE] = False
            self.transaction = self.connection.begin()
        self.busy = True
        return self.connection, self.transaction


_BATCH: ContextVar[_PageBatch | None] = ContextVar("mesoscreen_page_batch", default=None)


def _note_writes(connection: Connection, _cursor: Any, _statement: str, _parameters: Any,
                 context: Any, _executemany: bool) -> None:  # fmt: skip
    """Mark the connection's transaction as one that wrote (insert, update or delete, also
    inside a statement marked ``tables.WRITES``)."""
    if context is not None and (
        context.isinsert
        or context.isupdate
        or context.isdelete
        or context.execution_options.get(tables.WRITES, False)
    ):
        connection.info[_WROTE] = True


class _NoAuditLog:
    """The audit log of a unit of work without a transaction: it takes no entry, since an
    entry is chained in the transaction of what it records."""

    def append(self, entry: AuditEntry) -> None:
        """Refuse ``entry``."""
        raise RuntimeError(
            f"{entry.event_type}: a unit of work without a transaction takes no audit entry"
        )


class SqlUnitOfWork:
    """A transaction over every repository; audit entries are chained just before commit.

    Writing the audit entries last keeps the lock on the chain head as short as
    possible and always taken after any record lock, so transactions cannot
    deadlock on it.

    Made ``alone`` (``SqlUnitOfWorkFactory.without_transaction``), it has a connection of its
    own (never a page's) on which each statement commits as it runs: in autocommit on
    PostgreSQL, so no ``BEGIN`` and no ``COMMIT`` are sent; on SQLite, whose writes are
    local and whose transactions begin holding the write lock, in a transaction that ends
    committed however the block ends. Either way nothing is undone, and it takes no audit
    entry.
    """

    clinics: ClinicRepository
    users: UserRepository
    auth_sessions: AuthSessionRepository
    throttles: ThrottleRepository
    patients: PatientRepository
    screenings: RecordRepository[Screening]
    action_completions: RecordRepository[ActionCompletion]
    plans: RecordRepository[PlanRecord]
    treatment_sessions: RecordRepository[TreatmentSession]
    adverse_events: RecordRepository[AdverseEvent]
    consents: RecordRepository[Consent]
    consent_withdrawals: RecordRepository[ConsentWithdrawal]
    photos: RecordRepository[Photo]
    photo_contents: PhotoContentRepository
    outcome_measures: RecordRepository[OutcomeMeasure]
    idempotency_keys: IdempotencyRepository
    form_keys: FormKeyRepository
    kept_forms: KeptFormRepository
    record_voids: RecordRepository[RecordVoid]
    source_throttles: SourceThrottleRepository
    audit: AuditLog
    audit_trail: AuditTrail

    def __init__(self, engine: Engine, *, alone: bool = False) -> None:
        self._engine = engine
        self._alone = alone
        self._pending = BufferedAuditLog()
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None
        self._shared: _PageBatch | None = None  # the page's batch whose connection this uses

    def __enter__(self) -> Self:
        """Open the connection and begin the transaction."""
        batch = None if self._alone else _BATCH.get()
        if batch is not None and not batch.busy:
            self._shared = batch
            connection, self._transaction = batch.begin(self._engine)
        else:
            connection = self._engine.connect()
            if self._alone and connection.dialect.name == "postgresql":
                # Client-side only (the driver sends no BEGIN); the pool sets the
                # connection back to transactions when it is returned.
                connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.info[_WROTE] = False
            self._transaction = connection.begin()
        self._connection = connection
        self.clinics = SqlClinics(connection)
        self.users = SqlUsers(connection)
        self.auth_sessions = SqlAuthSessions(connection)
        self.throttles = SqlThrottles(connection)
        self.patients = SqlPatients(connection)
        self.screenings = SqlRecords(connection, tables.screenings, Screening, "screening")
        self.action_completions = SqlRecords(
            connection,
            tables.action_completions,
            ActionCompletion,
            "action completion",
            order_column="recorded_at",
        )
        self.plans = SqlRecords(connection, tables.treatment_plans, PlanRecord, "plan")
        self.treatment_sessions = SqlRecords(
            connection, tables.treatment_sessions, TreatmentSession, "treatment session"
        )
        self.adverse_events = SqlRecords(
            connection, tables.adverse_events, AdverseEvent, "adverse event"
        )
        self.consents = SqlRecords(connection, tables.consents, Consent, "consent")
        self.consent_withdrawals = SqlRecords(
            connection, tables.consent_withdrawals, ConsentWithdrawal, "consent withdrawal"
        )
        self.photos = SqlRecords(connection, tables.photos, Photo, "photo")
        self.photo_contents = SqlPhotoContents(connection)
        self.outcome_measures = SqlRecords(
            connection, tables.outcome_measures, OutcomeMeasure, "outcome measure"
        )
        self.idempotency_keys = SqlIdempotencyKeys(connection)
        self.form_keys = SqlFormKeys(connection)
        self.kept_forms = SqlKeptForms(connection)
        self.record_voids = SqlRecords(
            connection, tables.record_voids, RecordVoid, "void", order_column="voided_at"
        )
        self.source_throttles = SqlSourceThrottles(connection)
        self._pending = BufferedAuditLog()
        self.audit = _NoAuditLog() if self._alone else self._pending
        self.audit_trail = SqlAuditTrail(connection)
        return self

    def read_together(
        self, clinic_ids: Collection[str], reads: Sequence[RecordRead]
    ) -> list[tuple[Any, ...]]:
        """What each of ``reads`` finds: one statement on PostgreSQL, else one read after
        another through the repositories."""
        if self._connection is None:
            raise RuntimeError("read_together() outside the unit of work's with block")
        if self._connection.dialect.name != "postgresql":
            return read_each(self, clinic_ids, reads)
        repositories = [getattr(self, read.records) for read in reads]
        return read_together_sql(self._connection, repositories, clinic_ids, reads)

    def commit(self) -> None:
        """Chain the pending audit entries, then commit (in a page's batch, a transaction that
        only read leaves its entries to the batch and stays open for the next unit of work)."""
        if self._connection is None or self._transaction is None:
            raise RuntimeError("commit() outside the unit of work's with block")
        batch = None if self._alone else _BATCH.get()
        if batch is not None and not self._connection.info.get(_WROTE, True):
            batch.entries.extend(self._pending.pending)  # chained when the block ends
            self._pending.pending.clear()
            if self._shared is None:
                self._transaction.commit()
            return
        append_entries(self._connection, self._pending.pending)
        self._pending.pending.clear()
        self._transaction.commit()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed and return the connection to the pool (a
        page's shared connection goes back when the page's block ends)."""
        transaction, connection = self._transaction, self._connection
        # Shared and left without a failure or a write, the transaction stays open for the
        # next unit of work; otherwise it rolls back (in a page's batch: its own writes and
        # reads, nothing else, since every earlier write was committed).
        kept = self._shared is not None and exc_type is None
        if kept and connection is not None and connection.info.get(_WROTE, True):
            kept = False
        try:
            if self._alone and transaction is not None and transaction.is_active:
                if connection is not None and connection.invalidated:
                    # Lost (the driver's error is on its way out): nothing to keep or undo.
                    transaction.rollback()
                else:
                    transaction.commit()  # nothing is undone (on PostgreSQL nothing is sent)
            elif not kept and transaction is not None and transaction.is_active:
                transaction.rollback()
        finally:
            if self._shared is not None:
                self._shared.busy = False
            elif connection is not None:
                connection.close()
            self._connection = self._transaction = self._shared = None


class SqlUnitOfWorkFactory:
    """Makes units of work on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        if not event.contains(engine, "before_cursor_execute", _note_writes):
            event.listen(engine, "before_cursor_execute", _note_writes)

    def __call__(self) -> SqlUnitOfWork:
        """A new unit of work."""
        return SqlUnitOfWork(self.engine)

    def without_transaction(self) -> SqlUnitOfWork:
        """A new unit of work whose statements each commit as they run (``SqlUnitOfWork``)."""
        return SqlUnitOfWork(self.engine, alone=True)

    @contextmanager
    def reads_batched(self) -> Iterator[None]:
        """Run the units of work inside on one connection and chain the audit entries of
        those that only read once, at the end of the block (also when it raises: a refused
        read is audited too), so that the caller answers only after they are stored. Blocks
        do not nest."""
        if _BATCH.get() is not None:
            raise RuntimeError("reads_batched() is already open in this context")
        # SQLite transactions take the database's write lock when they begin (BEGIN
        # IMMEDIATE): one held for a whole page would keep every other writer waiting, so
        # there each unit of work keeps a transaction of its own.
        batch = _PageBatch(busy=self.engine.dialect.name == "sqlite")
        token = _BATCH.set(batch)
        try:
            yield
        finally:
            _BATCH.reset(token)
            try:
                if batch.entries and batch.connection is None:
                    with self.engine.begin() as connection:
                        append_entries(connection, batch.entries)
                elif batch.entries:
                    connection, transaction = batch.begin(self.engine)
                    append_entries(connection, batch.entries)
                    transaction.commit()
            finally:
                if batch.connection is not None:
                    batch.connection.close()  # rolls back a transaction left open
