"""The SQL unit of work: one connection, one transaction, every repository, audit at commit.

Within ``SqlUnitOfWorkFactory.reads_batched()`` (one web page: several use cases, each a
transaction of its own), the audit entries of a transaction that wrote nothing are chained
together once, when the block ends, in a transaction of their own, before the page is
answered; a transaction that wrote chains its entries with its writes, as always. The page's
reads are audited entry for entry as before, with one append to the chain instead of one
per use case (the chain head is the one row every request locks).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine, RootTransaction, event

from mesoscreen.adapters.db import tables
from mesoscreen.adapters.db.accounts import SqlAuthSessions, SqlUsers
from mesoscreen.adapters.db.audit import BufferedAuditLog, SqlAuditTrail, append_entries
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
    RecordRepository,
    SourceThrottleRepository,
    ThrottleRepository,
    UserRepository,
)

# The entries of this context's read-only transactions, while reads_batched() is open.
_READS: ContextVar[list[AuditEntry] | None] = ContextVar("mesoscreen_read_entries", default=None)
_WROTE = "mesoscreen_wrote"  # key in a connection's info: a write ran in this transaction


def _note_writes(connection: Connection, _cursor: Any, _statement: str, _parameters: Any,
                 context: Any, _executemany: bool) -> None:  # fmt: skip
    """Mark the connection's transaction as one that wrote (insert, update or delete)."""
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        connection.info[_WROTE] = True


class SqlUnitOfWork:
    """A transaction over every repository; audit entries are chained just before commit.

    Writing the audit entries last keeps the lock on the chain head as short as
    possible and always taken after any record lock, so transactions cannot
    deadlock on it.
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

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pending = BufferedAuditLog()
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None

    def __enter__(self) -> Self:
        """Open the connection and begin the transaction."""
        connection = self._engine.connect()
        self._connection = connection
        connection.info[_WROTE] = False
        self._transaction = connection.begin()
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
        self.audit = self._pending
        self.audit_trail = SqlAuditTrail(connection)
        return self

    def commit(self) -> None:
        """Chain the pending audit entries, then commit."""
        if self._connection is None or self._transaction is None:
            raise RuntimeError("commit() outside the unit of work's with block")
        batch = _READS.get()
        if batch is not None and not self._connection.info.get(_WROTE, True):
            batch.extend(self._pending.pending)  # chained when the page's block ends
        else:
            append_entries(self._connection, self._pending.pending)
        self._pending.pending.clear()
        self._transaction.commit()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed and return the connection to the pool."""
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
        if self._connection is not None:
            self._connection.close()
        self._connection = self._transaction = None


class SqlUnitOfWorkFactory:
    """Makes units of work on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        if not event.contains(engine, "before_cursor_execute", _note_writes):
            event.listen(engine, "before_cursor_execute", _note_writes)

    def __call__(self) -> SqlUnitOfWork:
        """A new unit of work."""
        return SqlUnitOfWork(self.engine)

    @contextmanager
    def reads_batched(self) -> Iterator[None]:
        """Chain the audit entries of the read-only transactions inside once, at the end of
        the block (also when it raises: a refused read is audited too), so that the caller
        answers only after they are stored. Blocks do not nest."""
        if _READS.get() is not None:
            raise RuntimeError("reads_batched() is already open in this context")
        entries: list[AuditEntry] = []
        token = _READS.set(entries)
        try:
            yield
        finally:
            _READS.reset(token)
            if entries:
                with self.engine.begin() as connection:
                    append_entries(connection, entries)
