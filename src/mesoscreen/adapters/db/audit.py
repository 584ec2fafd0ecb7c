"""The audit log in storage: chained appends serialised on the chain head, and the read side.

Appends lock the single ``audit_head`` row (``FOR UPDATE`` inside the append's call on
PostgreSQL, which stores only after the head the entries were chained from; SQLite
transactions already hold the write lock from ``BEGIN IMMEDIATE``), so servers sharing one
database extend one chain without forks.

Every read for a person filters on the clinics the reader may see, in SQL, here: an entry
is visible when its own clinic or one of its other clinics (``audit_entry_clinics``) is
among them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    RowMapping,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from mesoscreen.adapters.db import tables
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.domain.records import Page
from mesoscreen.services.audit_chain import chain
from mesoscreen.services.ports import AuditReadScope, StoredAuditEntry

_log = tables.audit_log
_head = tables.audit_head
_clinics = tables.audit_entry_clinics
_BATCH = 1000

# The append's statements, built once: every request that reads patient data appends.
_LOCK_HEAD = select(_head.c.seq, _head.c.hash).where(_head.c.id == 1).with_for_update()
_INSERT_ENTRIES = insert(_log)
_MOVE_HEAD = (
    update(_head)
    .where(_head.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
#: PostgreSQL: the chained entries, their other clinics and the new head in one call of the
#: procedure ``mesoscreen_audit_append`` (migration 0012): each set of rows is one JSON document
#: (``json_populate_recordset`` types each field as its column), so the text never changes
#: and the server runs it prepared whatever the number of entries. The procedure locks the
#: head, and stores only if it is the head the entries were chained after; it answers one
#: row: whether it stored, and the head after the call. It runs the inserts and the head's
#: move as commands of their own, so the head's trigger sees the entry the new head names.
#: The CDS recorder sends the same text (call_records_sql).
APPEND_ENTRIES_SQL = (
    "CALL mesoscreen_audit_append(%s::json, %s::json, %s, %s, %s, %s, NULL, NULL, NULL)"
)
# The head this process last saw its appends leave, per engine: the head to chain the next
# append after. Only a guess (another process may have appended since): the procedure checks
# it under the head's lock, and a wrong guess costs one more call. No head has this one.
_UNKNOWN_HEAD = (-1, "")
_known_heads: WeakKeyDictionary[Engine, tuple[int, str]] = WeakKeyDictionary()


def append_entries(connection: Connection, entries: Sequence[AuditEntry]) -> None:
    """Chain ``entries`` after the current head and store them, in ``connection``'s transaction."""
    if not entries:
        return
    if connection.dialect.name == "postgresql":
        _call_append(connection, entries)
        return
    seq, last_hash = connection.execute(_LOCK_HEAD).one()
    stored = chain(seq, last_hash, entries)
    connection.execute(_INSERT_ENTRIES, [audit_row(s) for s in stored])
    others = other_clinic_rows(stored)
    if others:
        connection.execute(insert(_clinics), others)
    connection.execute(_MOVE_HEAD, {"new_seq": stored[-1].seq, "new_hash": stored[-1].hash})


def _call_append(connection: Connection, entries: Sequence[AuditEntry]) -> None:
    """PostgreSQL: one call, chained after the head this process last left; when another
    process has moved it since, the call stores nothing, answers the head (its lock now held
    by this transaction) and a second call chains after that head."""
    engine = connection.engine
    after = known_head(engine)
    for _attempt in (1, 2):
        stored = chain(*after, entries)
        done, seq, head_hash = connection.exec_driver_sql(
            APPEND_ENTRIES_SQL,
            append_parameters(after, stored),
            execution_options={tables.WRITES: True},
        ).one()
        if done:
            remember_head(engine, (seq, head_hash))
            return
        after = (seq, head_hash)
    # The first call took the head's lock, so no other transaction can have moved it.
    raise RuntimeError("audit_head moved while this transaction held its lock")


def known_head(engine: Engine) -> tuple[int, str]:
    """The head this process's appends last left on ``engine``'s database (a guess: no head
    has it when none is known)."""
    return _known_heads.get(engine, _UNKNOWN_HEAD)


def remember_head(engine: Engine, head: tuple[int, str]) -> None:
    """The head an append of this process left on ``engine``'s database: the next is chained
    after it (the CDS recorder, which locks the head itself, tells it too)."""
    _known_heads[engine] = head


def append_parameters(
    after: tuple[int, str], stored: Sequence[StoredAuditEntry]
) -> tuple[str, str, int, str, int, str]:
    """The parameters of ``APPEND_ENTRIES_SQL`` for entries chained after the head ``after``:
    their rows, their other clinics' rows, that head and the new one; ValueError for a naive
    time, before anything is sent."""
    rows = [audit_row(s) for s in stored]
    for row in rows:
        aware(row["recorded_at"])
    others = other_clinic_rows(stored)
    return (rows_document(rows), rows_document(others), *after,
            stored[-1].seq, stored[-1].hash)  # fmt: skip


def other_clinic_rows(stored: Sequence[StoredAuditEntry]) -> list[dict[str, Any]]:
    """The audit_entry_clinics rows of chained entries: each entry's other clinics."""
    return [{"seq": s.seq, "clinic_id": clinic_id}
            for s in stored for clinic_id in sorted(s.entry.other_clinic_ids)]  # fmt: skip


def rows_document(rows: list[dict[str, Any]]) -> str:
    """Rows as one JSON document for ``json_populate_recordset`` (``APPEND_ENTRIES_SQL``, the
    CDS recorder's token uses): timestamps in RFC 3339 with their offset, microseconds kept."""
    return orjson.dumps(rows).decode()


def aware(moment: datetime) -> datetime:
    """A timestamp to store: refused when naive, as the Core column type refuses it."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment


def audit_row(stored: StoredAuditEntry) -> dict[str, Any]:
    """The audit_log row of a chained entry (the one place its columns are filled)."""
    entry = stored.entry
    return {
        "seq": stored.seq,
        "recorded_at": entry.recorded_at,
        **entry.plain_fields(),
        "detail": json.dumps(dict(entry.detail), sort_keys=True),
        "prev_hash": stored.prev_hash,
        "hash": stored.hash,
    }


def _stored(row: RowMapping, others: frozenset[str] = frozenset()) -> StoredAuditEntry:
    entry = AuditEntry(
        event_type=row["event_type"],
        action=AuditAction(row["action"]),
        outcome=AuditOutcome(row["outcome"]),
        recorded_at=row["recorded_at"],
        actor_id=row["actor_id"],
        actor_role=row["actor_role"],
        clinic_id=row["clinic_id"],
        patient_id=row["patient_id"],
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
        source=row["source"],
        detail=MappingProxyType(json.loads(row["detail"])),
        other_clinic_ids=others,
    )
    return StoredAuditEntry(row["seq"], entry, row["prev_hash"], row["hash"])


class BufferedAuditLog:
    """The AuditLog of a unit of work: entries wait and are chained when it commits."""

    def __init__(self) -> None:
        self.pending: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> None:
        """Queue ``entry`` for the commit of this unit of work."""
        self.pending.append(entry)


class EngineAuditLog:
    """An AuditLog that writes each entry in a transaction of its own (for other services)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(self, entry: AuditEntry) -> None:
        """Chain and store ``entry`` now."""
        with self._engine.begin() as connection:
            append_entries(connection, [entry])


def _visible_to(scope: AuditReadScope) -> list[ColumnElement[bool]]:
    """The condition for entries ``scope`` may read (none for a reader of everything)."""
    if scope.everything:
        return []
    clinic_ids = sorted(scope.clinic_ids)
    concerned = select(_clinics.c.seq).where(_clinics.c.clinic_id.in_(clinic_ids))
    return [or_(_log.c.clinic_id.in_(clinic_ids), _log.c.seq.in_(concerned))]


def _in_range(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    conditions = []
    if since is not None:
        conditions.append(_log.c.recorded_at >= since)
    if until is not None:
        conditions.append(_log.c.recorded_at < until)
    return conditions


class SqlAuditTrail:
    """Reads of the audit log: reports and exports for a reader, the whole chain, the head."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _with_clinics(self, rows: Sequence[RowMapping]) -> list[StoredAuditEntry]:
        """Stored entries of ``rows`` with their other clinics, read in one query."""
        others: dict[int, set[str]] = {}
        if rows:
            found = self._connection.execute(
                select(_clinics.c.seq, _clinics.c.clinic_id).where(
                    _clinics.c.seq.in_([r["seq"] for r in rows])
                )
            )
            for seq, clinic_id in found:
                others.setdefault(seq, set()).add(clinic_id)
        return [_stored(r, frozenset(others.get(r["seq"], ()))) for r in rows]

    def page(
        self,
        scope: AuditReadScope,
        since: datetime | None,
        until: datetime | None,
        offset: int,
        limit: int,
        newest_first: bool = False,
        patient_id: str | None = None,
        actor_id: str | None = None,
        event: str | None = None,
    ) -> Page[StoredAuditEntry]:
        """Entries ``scope`` may read recorded in [since, until) (and about ``patient_id``, by
        ``actor_id``, of the ``event`` type or its family, e.g. ``consent``, when given), in
        chain order (or newest first)."""
        conditions = _visible_to(scope) + _in_range(since, until)
        if patient_id is not None:
            conditions.append(_log.c.patient_id == patient_id)
        if actor_id is not None:
            conditions.append(_log.c.actor_id == actor_id)
        if event is not None:
            conditions.append(
                or_(_log.c.event_type == event, _log.c.event_type.startswith(f"{event}.",
                                                                            autoescape=True))
            )  # fmt: skip
        total = self._connection.execute(
            select(func.count()).select_from(_log).where(*conditions)
        ).scalar_one()
        rows = list(
            self._connection.execute(
                select(_log)
                .where(*conditions)
                .order_by(_log.c.seq.desc() if newest_first else _log.c.seq)
                .offset(offset)
                .limit(limit)
            ).mappings()
        )
        return Page(tuple(self._with_clinics(rows)), offset, limit, total)

    def select(
        self, scope: AuditReadScope, since: datetime | None, until: datetime | None
    ) -> Iterator[StoredAuditEntry]:
        """Every entry ``scope`` may read recorded in [since, until), in chain order."""
        return self._batches(_visible_to(scope) + _in_range(since, until))

    def entries(self) -> Iterator[StoredAuditEntry]:
        """Every entry in chain order, read in batches (the chain check reads them all)."""
        return self._batches([])

    def _batches(self, conditions: list[ColumnElement[bool]]) -> Iterator[StoredAuditEntry]:
        last = 0
        while True:
            rows = list(
                self._connection.execute(
                    select(_log)
                    .where(_log.c.seq > last, *conditions)
                    .order_by(_log.c.seq)
                    .limit(_BATCH)
                ).mappings()
            )
            yield from self._with_clinics(rows)
            if len(rows) < _BATCH:
                return
            last = rows[-1]["seq"]

    def head(self) -> tuple[int, str]:
        """The last sequence number and its hash, holding appends back until the transaction ends.

        The share lock keeps the chain still while it is read, so a check running
        next to busy servers sees a consistent log.
        """
        seq, digest = self._connection.execute(
            select(_head.c.seq, _head.c.hash).where(_head.c.id == 1).with_for_update(read=True)
        ).one()
        return int(seq), str(digest)
