"""The audit append on SQLite and PostgreSQL: what is stored is what was chained, field for
field, with each entry's other clinics (PostgreSQL sends a batch's entries, their clinics and
the new head as one call of JSON documents after the head's lock, SQLite Core statements)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError

from mesoscreen.adapters.db import tables
from mesoscreen.adapters.db.audit import (
    APPEND_ENTRIES_SQL,
    SqlAuditTrail,
    append_entries,
    append_parameters,
)
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


def test_a_batch_is_stored_by_two_statements_on_postgresql(services: Services) -> None:
    """On PostgreSQL the append is the head's lock and one call, whatever the batch's size."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite appends with Core statements")
    sent: list[str] = []

    def seen(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(services.engine, "before_cursor_execute", seen)
    try:
        with services.engine.begin() as connection:
            append_entries(connection, _entries(unique("test.append"), unique("clinic")))
    finally:
        event.remove(services.engine, "before_cursor_execute", seen)
    assert len(sent) == 2
    assert "FOR UPDATE" in sent[0]
    assert sent[1] == APPEND_ENTRIES_SQL
    assert services.audit.verify().intact


@pytest.mark.parametrize("wrong", ["a hash the log does not hold", "a head moved back"])
def test_the_heads_trigger_still_refuses_a_head_the_call_would_move_wrongly(
    services: Services, wrong: str
) -> None:
    """The call's move of the head runs after its inserts, so the head's trigger checks it
    against the stored entries: a head naming another hash, or an earlier entry, is refused
    and nothing of the call is kept."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("the append call is PostgreSQL's")
    event_type = unique("test.append")
    log = tables.audit_log
    found = select(log.c.seq).where(log.c.event_type == event_type)
    with services.engine.begin() as connection:
        seq, last_hash = SqlAuditTrail(connection).head()
        stored = chain(seq, last_hash, _entries(event_type, unique("clinic")))
        entries, clinics, new_seq, new_hash = append_parameters(stored)
        if wrong == "a hash the log does not hold":
            new_hash = "0" * 64
        else:
            new_seq, new_hash = seq - 1, last_hash
        refused = pytest.raises(DBAPIError, match="audit_head only moves forward")
        with refused, connection.begin_nested():
            call = (entries, clinics, new_seq, new_hash)
            connection.exec_driver_sql(APPEND_ENTRIES_SQL, call)
        # Back in the transaction that made the call: none of it is there.
        assert connection.execute(found).all() == []
        assert SqlAuditTrail(connection).head() == (seq, last_hash)
    assert services.audit.verify().intact
