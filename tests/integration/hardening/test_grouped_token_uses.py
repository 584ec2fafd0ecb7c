"""Group commit of CDS Hooks calls: batched token uses and audit entries stay exact.

Each token id is accepted once, whether its earlier use is stored or in the same batch;
only accepted calls write an audit entry, the chain verifies, and a failed commit reaches
every caller waiting on it. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from mesoscreen.adapters.db import grouped_token_uses, tables
from mesoscreen.adapters.db.engine import create_database_engine
from mesoscreen.adapters.db.grouped_token_uses import GroupCommitTokenReplayGuard, PendingCall
from mesoscreen.bootstrap import Services
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from tests.event_loops import on_a_loop_of_its_own

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(minutes=5)
ISSUER = "https://ehr.example.org"
T = TypeVar("T")


def _entry(marker: str) -> AuditEntry:
    """An audit entry of a CDS call, told apart by ``marker``."""
    return AuditEntry(
        event_type="cds.hook",
        action=AuditAction.EXECUTE,
        outcome=AuditOutcome.SUCCESS,
        recorded_at=NOW,
        actor_role="cds-client",
        entity_type="cds-service",
        entity_id="mesotherapy-order-sign",
        source="https://ehr.example.org",
        detail={"hook_instance": marker},
    )


@pytest.fixture
def guard(services: Services) -> Iterator[GroupCommitTokenReplayGuard]:
    """The service's recorder on the test database, its held connection given back after."""
    made = GroupCommitTokenReplayGuard(services.engine)
    yield made
    made.close()


def _entries_marked(services: Services, markers: set[str]) -> list[str]:
    """The markers of stored audit entries among ``markers``, in chain order."""
    found = []
    for stored in services.audit.all_entries():
        marker = stored.entry.detail.get("hook_instance")
        if marker in markers:
            found.append(marker)
    return found


def _record(
    guard: GroupCommitTokenReplayGuard, jti: str, marker: str, issuer: str = ISSUER
) -> bool:
    """One call recorded the way the service records it, awaited on a loop of its own."""
    return on_a_loop_of_its_own(
        lambda: guard.record_call(issuer, jti, EXPIRES, NOW, _entry(marker))
    )


def test_a_batch_accepts_each_token_once_and_audits_only_accepted_calls(
    services: Services, guard: GroupCommitTokenReplayGuard
) -> None:
    """One batch: a new token, the same token again, and a token stored before: only the
    first is accepted and only its entry is written."""
    issuer, new, old = "https://ehr.example.org", uuid.uuid4().hex, uuid.uuid4().hex
    assert _record(guard, old, f"old-{old}", issuer)
    batch = [PendingCall(issuer, new, EXPIRES, NOW, _entry(f"first-{new}")),
             PendingCall(issuer, new, EXPIRES, NOW, _entry(f"again-{new}")),
             PendingCall(issuer, old, EXPIRES, NOW, _entry(f"reused-{old}"))]  # fmt: skip
    guard.write_batch(batch)
    assert [call.first_use for call in batch] == [True, False, False]
    assert all(call.done.is_set() and call.error is None for call in batch)
    markers = {f"old-{old}", f"first-{new}", f"again-{new}", f"reused-{old}"}
    assert _entries_marked(services, markers) == [f"old-{old}", f"first-{new}"]
    assert services.audit.verify().intact


def test_concurrent_calls_with_reused_tokens_are_accepted_exactly_once_each(
    services: Services, guard: GroupCommitTokenReplayGuard
) -> None:
    """16 threads, 400 calls over 100 token ids (each sent four times, at once or later):
    100 accepted, 100 entries, an intact chain."""
    run = uuid.uuid4().hex[:8]
    jtis = [f"{run}-{n}" for n in range(100)] * 4

    def call(jti: str) -> tuple[str, bool]:
        return jti, _record(guard, jti, f"c-{jti}")

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, jtis))
    accepted = [jti for jti, first in results if first]
    assert sorted(accepted) == sorted(set(jtis))
    assert len(_entries_marked(services, {f"c-{jti}" for jti in jtis})) == 100
    with services.engine.connect() as connection:
        stored = connection.execute(
            select(func.count()).where(tables.cds_token_uses.c.jti.like(f"{run}-%"))
        ).scalar_one()
    assert stored == 100
    assert services.audit.verify().intact


def test_a_commit_that_fails_reaches_every_call_waiting_on_it(tmp_path: Path) -> None:
    """No table to write to: each waiting caller gets the database error, none an answer."""
    engine = create_database_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    guard = GroupCommitTokenReplayGuard(engine)
    try:
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(_record, guard, f"j{n}", str(n), "iss") for n in range(8)]
            for future in futures:
                with pytest.raises(OperationalError):
                    future.result(timeout=30)
    finally:
        engine.dispose()


def test_awaiting_callers_on_the_event_loop_are_accepted_exactly_once_each(
    services: Services, guard: GroupCommitTokenReplayGuard
) -> None:
    """The event loop's callers: 200 awaits at once over 50 token ids, none holding a
    thread: 50 accepted, 50 entries, an intact chain."""
    run = uuid.uuid4().hex[:8]
    jtis = [f"{run}-{n}" for n in range(50)] * 4

    async def calls() -> list[bool]:
        return await asyncio.gather(
            *(
                guard.record_call("https://ehr.example.org", jti, EXPIRES, NOW, _entry(f"a-{jti}"))
                for jti in jtis
            )
        )

    results = on_a_loop_of_its_own(calls)
    accepted = [jti for jti, first in zip(jtis, results, strict=True) if first]
    assert sorted(accepted) == sorted(set(jtis))
    assert len(_entries_marked(services, {f"a-{jti}" for jti in jtis})) == 50
    assert services.audit.verify().intact


def test_a_commit_that_fails_reaches_every_awaiting_caller(tmp_path: Path) -> None:
    """The same failure on the event loop: every await raises the database error."""
    engine = create_database_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    guard = GroupCommitTokenReplayGuard(engine)

    async def calls() -> list[bool | BaseException]:
        return await asyncio.gather(
            *(guard.record_call("iss", f"j{n}", EXPIRES, NOW, _entry(str(n))) for n in range(8)),
            return_exceptions=True,
        )

    try:
        results = on_a_loop_of_its_own(calls)
        assert all(isinstance(result, OperationalError) for result in results)
    finally:
        engine.dispose()


# The name of the guard's writer thread.
WRITER_NAME = "cds-call-recorder"


def test_the_writer_leaves_when_idle_and_comes_back_for_the_next_call(
    guard: GroupCommitTokenReplayGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No thread lingers for an idle service, and a call after that is still recorded."""
    monkeypatch.setattr(grouped_token_uses, "WRITER_IDLE_SECONDS", 0.01)
    run = uuid.uuid4().hex[:8]
    assert _record(guard, f"{run}-1", "i1")
    # Polled, not joined: on a busy machine the writer may be gone before it can be looked at.
    deadline = time.monotonic() + 10
    while guard._writer is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert guard._writer is None
    assert _record(guard, f"{run}-2", "i2")
    assert not _record(guard, f"{run}-1", "i3")


def test_a_connection_that_died_while_idle_is_replaced_and_the_call_recorded_once(
    services: Services, guard: GroupCommitTokenReplayGuard
) -> None:
    """PostgreSQL: the recorder's held connection is killed between calls (as a database
    restart would); the next call is recorded on a new connection, once, chain intact."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("the plain-SQL recorder holds a connection on PostgreSQL only")
    run = uuid.uuid4().hex[:8]
    assert _record(guard, f"{run}-1", f"d1-{run}")
    recorder = guard._sql
    assert recorder is not None
    backend = recorder._held.driver_connection.info.backend_pid
    with services.engine.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    assert _record(guard, f"{run}-2", f"d2-{run}")
    assert not _record(guard, f"{run}-2", f"d3-{run}")
    assert recorder._held.driver_connection.info.backend_pid != backend
    assert _entries_marked(services, {f"d1-{run}", f"d2-{run}", f"d3-{run}"}) == [
        f"d1-{run}", f"d2-{run}"
    ]  # fmt: skip
    assert services.audit.verify().intact
