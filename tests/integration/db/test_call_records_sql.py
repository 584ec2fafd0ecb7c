"""PostgreSQL: the CDS recorder's batch in one call sent alone (``mesoscreen_cds_record``):
one round trip once the process knows the head, everything or nothing stored, and the
transaction as before for a token used before."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import select, text

from mesoscreen.adapters.db import call_records_sql, tables
from mesoscreen.adapters.db.audit import append_parameters, rows_document
from mesoscreen.adapters.db.call_records_sql import PostgresCallRecorder
from mesoscreen.bootstrap import Services
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.services.audit_chain import chain

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(minutes=5)
ISSUER = "https://ehr.example.org"
RECORD = call_records_sql._RECORD_IN_ONE_CALL


@pytest.fixture
def recorder(services: Services) -> Iterator[PostgresCallRecorder]:
    """A recorder on the test database (PostgreSQL only), its connection given back after."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("the plain-SQL recorder is PostgreSQL's")
    made = PostgresCallRecorder(services.engine)
    yield made
    made.release()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Each statement the recorder sends on its connection, with whether it went alone
    (autocommit) or inside a transaction; ``("COMMIT", ...)`` for each commit."""
    seen: list[tuple[str, bool]] = []
    execute, commit = psycopg.Connection.execute, psycopg.Connection.commit

    def executed(self: psycopg.Connection[Any], query: Any, *args: Any, **options: Any) -> Any:
        seen.append((str(query), self.autocommit))
        return execute(self, query, *args, **options)

    def committed(self: psycopg.Connection[Any]) -> None:
        seen.append(("COMMIT", self.autocommit))
        commit(self)

    monkeypatch.setattr(psycopg.Connection, "execute", executed)
    monkeypatch.setattr(psycopg.Connection, "commit", committed)
    return seen


def _entry(marker: str) -> AuditEntry:
    return AuditEntry("cds.hook", AuditAction.EXECUTE, AuditOutcome.SUCCESS, NOW,
                      actor_role="cds-client", entity_type="cds-service",
                      detail={"hook_instance": marker})  # fmt: skip


def _batch(recorder: PostgresCallRecorder, jtis: list[str]) -> set[tuple[str, str]]:
    """Record one batch of calls, one per token id, each audited with its id as marker."""

    def entries_for(first: set[tuple[str, str]]) -> list[AuditEntry]:
        return [_entry(jti) for jti in jtis if (ISSUER, jti) in first]

    return recorder.record([(ISSUER, jti, EXPIRES) for jti in jtis], entries_for)


def _marked(services: Services, markers: list[str]) -> list[str]:
    found = [s.entry.detail.get("hook_instance") for s in services.audit.all_entries()]
    return [m for m in found if m in markers]


def _used(services: Services, jtis: list[str]) -> set[str]:
    uses = tables.cds_token_uses
    with services.engine.connect() as connection:
        return set(connection.execute(select(uses.c.jti).where(uses.c.jti.in_(jtis))).scalars())


def test_a_batch_of_new_tokens_is_one_call_sent_alone_once_the_head_is_known(
    services: Services, recorder: PostgresCallRecorder, sent: list[tuple[str, bool]]
) -> None:
    """The process's first batch learns the head from the first call's refusal (two calls),
    the next is one call; both alone, no transaction; every use and entry stored."""
    run = uuid.uuid4().hex[:8]
    first, second = [f"{run}-a", f"{run}-b"], [f"{run}-c"]
    assert _batch(recorder, first) == {(ISSUER, jti) for jti in first}
    learned = list(sent)
    sent.clear()
    assert _batch(recorder, second) == {(ISSUER, f"{run}-c")}
    assert learned == [(RECORD, True)] * 2
    assert sent == [(RECORD, True)]
    assert _marked(services, first + second) == first + second
    assert _used(services, first + second) == set(first + second)
    assert services.audit.verify().intact


def test_a_token_used_before_sends_the_batch_through_the_transaction(
    services: Services, recorder: PostgresCallRecorder, sent: list[tuple[str, bool]]
) -> None:
    """A batch with a token already used: the call stores nothing, and the transaction
    records the new token alone, with its entry."""
    run = uuid.uuid4().hex[:8]
    _batch(recorder, [f"{run}-old"])
    sent.clear()
    assert _batch(recorder, [f"{run}-old", f"{run}-new"]) == {(ISSUER, f"{run}-new")}
    assert sent[0] == (RECORD, True)
    assert [autocommit for _, autocommit in sent[1:]] == [False] * (len(sent) - 1)
    assert sent[-1][0] == "COMMIT"
    assert recorder._connection().autocommit is False  # as the pool and the next batch expect
    assert _marked(services, [f"{run}-old", f"{run}-new"]) == [f"{run}-old", f"{run}-new"]
    assert services.audit.verify().intact


@pytest.mark.parametrize("refused", ["a token used before", "a head that moved"])
def test_a_refused_call_stores_nothing(
    services: Services, recorder: PostgresCallRecorder, refused: str
) -> None:
    """The call raises MS001 for a token used before and MS002 (with the head found) for a
    head that moved, and keeps nothing of the batch: no use, no entry, the head unmoved."""
    run = uuid.uuid4().hex[:8]
    _batch(recorder, [f"{run}-old"])
    with services.engine.connect() as connection:
        head = tuple(connection.execute(text("SELECT seq, hash FROM audit_head")).one())
    jtis = [f"{run}-new", f"{run}-old" if refused == "a token used before" else f"{run}-two"]
    after = head if refused == "a token used before" else (head[0] - 1, "f" * 64)
    stored = chain(*after, [_entry(jti) for jti in jtis])
    uses = [{"issuer": ISSUER, "jti": jti, "expires_at": EXPIRES} for jti in jtis]
    connection = recorder._connection()
    connection.autocommit = True
    try:
        with pytest.raises(psycopg.Error) as raised:
            connection.execute(RECORD, (rows_document(uses), *append_parameters(after, stored)))
    finally:
        connection.autocommit = False
    if refused == "a token used before":
        assert raised.value.sqlstate == "MS001"
    else:
        assert raised.value.sqlstate == "MS002"
        assert raised.value.diag.message_detail == f"{head[0]} {head[1]}"
    assert _used(services, [f"{run}-new", f"{run}-two"]) == set()
    assert _marked(services, jtis) == ([f"{run}-old"] if f"{run}-old" in jtis else [])
    with services.engine.connect() as connection:
        assert tuple(connection.execute(text("SELECT seq, hash FROM audit_head")).one()) == head


def test_a_session_ended_before_the_call_ran_is_replaced_and_the_batch_recorded_once(
    services: Services, recorder: PostgresCallRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ended the held session, and the recorder does not see it before sending
    (its closing message not yet read): the call fails as the session ended, nothing ran,
    so the batch goes again on a new connection, once."""
    run = uuid.uuid4().hex[:8]
    _batch(recorder, [f"{run}-1"])
    backend = recorder._connection().info.backend_pid
    with services.engine.begin() as connection:
        ended = connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"),
                                   {"pid": backend}).scalar_one()  # fmt: skip
    assert ended
    monkeypatch.setattr(call_records_sql, "server_spoke", lambda _connection: False)
    assert _batch(recorder, [f"{run}-2"]) == {(ISSUER, f"{run}-2")}
    assert recorder._connection().info.backend_pid != backend
    assert _marked(services, [f"{run}-1", f"{run}-2"]) == [f"{run}-1", f"{run}-2"]
    assert services.audit.verify().intact


@pytest.mark.parametrize("path", ["one call", "transaction"])
def test_a_batch_waiting_for_a_token_another_batch_holds_does_not_hold_the_head(
    services: Services, recorder: PostgresCallRecorder, path: str
) -> None:
    """Another transaction holds an uncommitted use of the batch's second token. The batch
    waits for it with the head still free, by either path (a sweep sends it through the
    transaction): both take the uses in the order of their key and then the head, so no two
    batches wait for each other. Once the other rolls back, both tokens are the batch's."""
    run = uuid.uuid4().hex[:8]
    jtis = [f"{run}-a", f"{run}-b"]
    uses = tables.cds_token_uses
    sweep = NOW - timedelta(days=1) if path == "transaction" else None
    pid = recorder._connection().info.backend_pid
    with services.engine.connect() as blocker, ThreadPoolExecutor(1) as pool:
        blocker.execute(uses.insert().values(issuer=ISSUER, jti=jtis[1], expires_at=EXPIRES))
        batch = pool.submit(
            lambda: recorder.record(
                [(ISSUER, jti, EXPIRES) for jti in reversed(jtis)],
                lambda first: [_entry(jti) for jti in jtis if (ISSUER, jti) in first],
                sweep,
            )
        )
        try:
            _wait_for_a_lock_wait(services, pid)
            with services.engine.connect() as other:
                head = "SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT"
                other.exec_driver_sql(head).one()  # free: no wait, no error
                other.rollback()
        finally:
            blocker.rollback()  # the batch goes on, whatever the check found
        assert batch.result(timeout=30) == {(ISSUER, jti) for jti in jtis}
    assert _marked(services, jtis) == jtis
    assert services.audit.verify().intact


def _wait_for_a_lock_wait(services: Services, pid: int) -> None:
    """Until the server process ``pid`` waits for a lock (at most 10 s)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid AND wait_event_type = 'Lock'"
    )
    for _ in range(1000):
        with services.engine.connect() as connection:
            if connection.execute(query, {"pid": pid}).scalar_one():
                return
        time.sleep(0.01)
    raise AssertionError("no session waited for a lock")
