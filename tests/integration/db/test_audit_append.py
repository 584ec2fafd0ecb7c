"""The audit append on SQLite and PostgreSQL: what is stored is what was chained, field for
field, with each entry's other clinics (PostgreSQL sends a batch's entries and their clinics
as one statement of JSON documents, SQLite as Core inserts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import pytest
from sqlalchemy import select

from mesoscreen.adapters.db import tables
from mesoscreen.adapters.db.audit import SqlAuditTrail, append_entries
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
