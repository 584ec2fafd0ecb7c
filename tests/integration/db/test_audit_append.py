"""The audit append on SQLite and PostgreSQL: what is stored is what was chained, field for
field, with each entry's other clinics (PostgreSQL sends a batch's entries, their clinics and
the new head as one call of JSON documents, the call locking the head and storing only after
the head the entries were chained from; SQLite Core statements)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.exc import DBAPIError

from mesoscreen.adapters.db import tables
from mesoscreen.adapters.db.audit import (
    APPEND_ENTRIES_SQL,
    SqlAuditTrail,
    _known_heads,
    append_entries,
    append_parameters,
)
from mesoscreen.adapters.db.engine import create_database_engine
from mesoscreen.bootstrap import Services
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.services.audit_chain import chain
from mesoscreen.services.ports import AuditReadScope
from tests.factories import unique

# Microseconds, an offset that is not UTC, and texts JSON must escape.
MOMENT = datetime(2026, 11, 25, 16, 0, 0, 123457, tzinfo=timezone(timedelta(hours=7)))
DETAIL = {"note": 'Nguyễn "quoted" \\ back\nslash 🙂', "empty": ""}


def _entries(event: str, clinic: str) -> list[AuditEntry]:
    others = [frozenset(), frozenset({f"{clinic}-b", f"{clinic}-c"}), frozenset({f"{clinic}-b"})]
    return [
        AuditEntry(
            event,
            AuditAction.READ,
            AuditOutcome.SUCCESS,
            MOMENT + timedelta(microseconds=i),
            actor_id=f"user-{i}",
            actor_role="clinician",
            clinic_id=clinic,
            patient_id=None if i == 2 else f"patient-{i}",
            entity_type="Screening",
            entity_id=f"s-{i}",
            source=None if i else "api",
            detail=MappingProxyType({**DETAIL, "n": str(i)}),
            other_clinic_ids=kept,
        )
        for i, kept in enumerate(others)
    ]


@pytest.mark.parametrize("count", [1, 3])
def test_a_batch_is_stored_as_it_was_chained_with_its_other_clinics(
    services: Services, count: int
) -> None:
    event = unique("test.append")
    entries = _entries(event, unique("clinic"))[:count]
    with services.engine.begin() as connection:
        seq, last_hash = SqlAuditTrail(connection).head()
        append_entries(connection, entries)
    with services.engine.connect() as connection:
        trail = SqlAuditTrail(connection)
        stored = trail.page(AuditReadScope(frozenset(), everything=True), None, None, 0, 10,
                            event=event).items  # fmt: skip
        assert trail.head() == (stored[-1].seq, stored[-1].hash)
    assert list(stored) == chain(seq, last_hash, entries)
    assert services.audit.verify().intact


def test_a_naive_moment_is_refused_and_nothing_is_stored(services: Services) -> None:
    event = unique("test.append")
    naive = AuditEntry(event, AuditAction.READ, AuditOutcome.SUCCESS, datetime(2026, 11, 25))
    with pytest.raises(Exception, match="timezone"), services.engine.begin() as connection:
        append_entries(connection, [naive])
    with services.engine.connect() as connection:
        log = tables.audit_log
        assert connection.execute(select(log.c.seq).where(log.c.event_type == event)).all() == []
    assert services.audit.verify().intact


def test_an_aware_moment_in_utc_is_kept_to_the_microsecond(services: Services) -> None:
    event = unique("test.append")
    moment = datetime(2026, 11, 25, 23, 59, 59, 999999, tzinfo=UTC)
    entry = AuditEntry(event, AuditAction.CREATE, AuditOutcome.FAILURE, moment)
    with services.engine.begin() as connection:
        append_entries(connection, [entry])
    with services.engine.connect() as connection:
        stored = SqlAuditTrail(connection).page(
            AuditReadScope(frozenset(), everything=True), None, None, 0, 10, event=event
        )
    assert [s.entry for s in stored.items] == [entry]


def _statements(engine: Engine, entries: list[AuditEntry]) -> list[str]:
    """The statements ``append_entries`` sends for ``entries`` in a transaction of ``engine``."""
    sent: list[str] = []

    def seen(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with engine.begin() as connection:
            append_entries(connection, entries)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return sent


def _postgres_only(services: Services) -> None:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("the append call is PostgreSQL's; SQLite appends with Core statements")


def test_a_batch_is_stored_by_one_call_once_the_process_knows_the_head(services: Services) -> None:
    """On PostgreSQL an append is one call whatever the batch's size, once the process has
    seen the head (its first append learns it: two calls)."""
    _postgres_only(services)
    _known_heads.pop(services.engine, None)
    first = _statements(services.engine, _entries(unique("test.append"), unique("clinic")))
    event_type = unique("test.append")
    sent = _statements(services.engine, _entries(event_type, unique("clinic")))
    assert first == [APPEND_ENTRIES_SQL] * 2
    assert sent == [APPEND_ENTRIES_SQL]
    with services.engine.connect() as connection:
        trail = SqlAuditTrail(connection)
        stored = trail.page(AuditReadScope(frozenset(), everything=True), None, None, 0, 10,
                            event=event_type).items  # fmt: skip
        assert trail.head() == (stored[-1].seq, stored[-1].hash)
    assert services.audit.verify().intact


def test_an_append_after_another_process_moved_the_head_is_chained_after_it(
    services: Services,
) -> None:
    """Another engine (another process) appends between two of this engine's appends: the
    second is chained after the other's entries, in two calls, and the chain stays whole."""
    _postgres_only(services)
    _statements(services.engine, _entries(unique("test.append"), unique("clinic")))
    other = create_database_engine(services.settings.database_url)
    try:
        elsewhere = unique("test.append")
        _statements(other, _entries(elsewhere, unique("clinic")))
    finally:
        other.dispose()
    mine = unique("test.append")
    sent = _statements(services.engine, _entries(mine, unique("clinic")))
    assert sent == [APPEND_ENTRIES_SQL] * 2
    log = tables.audit_log
    with services.engine.connect() as connection:
        rows = connection.execute(
            select(log.c.seq, log.c.event_type, log.c.prev_hash, log.c.hash)
            .where(log.c.event_type.in_([elsewhere, mine]))
            .order_by(log.c.seq)
        ).all()
    assert [row.event_type for row in rows] == [elsewhere] * 3 + [mine] * 3
    assert rows[3].prev_hash == rows[2].hash
    assert services.audit.verify().intact


def test_a_head_guessed_by_a_transaction_that_rolled_back_is_not_trusted(
    services: Services,
) -> None:
    """This engine's append rolls back after its call, so the head it remembers was never
    committed; another engine then stores the entry at that position. The next append has
    the right position but not the right hash: it is chained after the other's entry."""
    _postgres_only(services)
    _statements(services.engine, _entries(unique("test.append"), unique("clinic")))
    with services.engine.connect() as connection:
        append_entries(connection, _entries(unique("test.append"), unique("clinic"))[:1])
        connection.rollback()
    other = create_database_engine(services.settings.database_url)
    try:
        _statements(other, _entries(unique("test.append"), unique("clinic"))[:1])
    finally:
        other.dispose()
    mine = unique("test.append")
    assert (
        _statements(services.engine, _entries(mine, unique("clinic"))) == [APPEND_ENTRIES_SQL] * 2
    )
    assert services.audit.verify().intact


@pytest.mark.parametrize("moved", ["position and hash", "hash alone"])
def test_a_call_after_a_head_that_moved_stores_nothing_and_holds_the_heads_lock(
    services: Services, moved: str
) -> None:
    """The procedure answers the head it found and stores nothing when it is not the head the
    entries were chained after (another position, or the same position with another hash);
    the head stays locked until the transaction ends, so the caller's second call cannot be
    overtaken."""
    _postgres_only(services)
    event_type = unique("test.append")
    log = tables.audit_log
    with services.engine.begin() as connection:
        head = SqlAuditTrail(connection).head()
    stale = (head[0] - 1 if moved == "position and hash" else head[0], "f" * 64)
    stored = chain(*stale, _entries(event_type, unique("clinic")))
    with services.engine.begin() as connection:
        answer = connection.exec_driver_sql(APPEND_ENTRIES_SQL, append_parameters(stale, stored))
        assert tuple(answer.one()) == (False, *head)
        assert (
            connection.execute(select(log.c.seq).where(log.c.event_type == event_type)).all() == []
        )
        lock = "SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT"
        with services.engine.connect() as elsewhere, pytest.raises(DBAPIError, match="lock"):
            elsewhere.exec_driver_sql(lock)
        assert SqlAuditTrail(connection).head() == head
    assert services.audit.verify().intact


@pytest.mark.parametrize("wrong", ["a hash the log does not hold", "a head moved back"])
def test_the_heads_trigger_still_refuses_a_head_the_call_would_move_wrongly(
    services: Services, wrong: str
) -> None:
    """The call's move of the head runs after its inserts, so the head's trigger checks it
    against the stored entries: a head naming another hash, or an earlier entry, is refused
    and nothing of the call is kept."""
    _postgres_only(services)
    event_type = unique("test.append")
    log = tables.audit_log
    found = select(log.c.seq).where(log.c.event_type == event_type)
    with services.engine.begin() as connection:
        seq, last_hash = SqlAuditTrail(connection).head()
        stored = chain(seq, last_hash, _entries(event_type, unique("clinic")))
        call = list(append_parameters((seq, last_hash), stored))
        if wrong == "a hash the log does not hold":
            call[5] = "0" * 64
        else:
            call[4:6] = [seq - 1, last_hash]
        refused = pytest.raises(DBAPIError, match="audit_head only moves forward")
        with refused, connection.begin_nested():
            connection.exec_driver_sql(APPEND_ENTRIES_SQL, tuple(call))
        # Back in the transaction that made the call: none of it is there.
        assert connection.execute(found).all() == []
        assert SqlAuditTrail(connection).head() == (seq, last_hash)
    assert services.audit.verify().intact
