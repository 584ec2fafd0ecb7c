"""Client CPU of an audit append on PostgreSQL: a request's (Core path) and a CDS batch's.

Run: .venv/bin/python -m benchmarks.bench_audit_append [--appends 2000] [--rounds 5]

On a fresh schema of the local test server (MESOSCREEN_BENCH_POSTGRES_URL or the default),
times in this process, on the CPU clock (user+system, ``time.process_time``):

- a request's append: a transaction that appends 1 or 4 entries with ``append_entries`` (one
  call that locks the head, once the process knows it) and commits, as a page or an API call
  ends;
- a CDS batch: ``PostgresCallRecorder.record`` with 1 or 4 first token uses, each with its
  entry (one call sent alone: the uses, the entries and the head's move, once the process
  knows the head).

Prints the CPU per append (per call for the CDS batches) of each round, the median, and the
statements each sends. Run it against two source trees (PYTHONPATH) in turns to compare.
"""

from __future__ import annotations

import argparse
import statistics
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event

from benchmarks.bench_load import _database
from benchmarks.bench_pages import _drop, cpu_rounds
from mesoscreen.adapters.db.audit import append_entries
from mesoscreen.adapters.db.call_records_sql import PostgresCallRecorder
from mesoscreen.adapters.db.engine import create_database_engine
from mesoscreen.bootstrap import prepare_database
from mesoscreen.config import Settings
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome


def _entries(count: int) -> list[AuditEntry]:
    now = datetime.now(UTC)
    return [
        AuditEntry("bench.append", AuditAction.READ, AuditOutcome.SUCCESS, now,
                   actor_id="user", actor_role="clinician", clinic_id="clinic",
                   patient_id="patient", entity_type="Screening", entity_id=f"s-{i}")
        for i in range(count)
    ]  # fmt: skip


def _request_append(engine: Engine, count: int) -> Callable[[], None]:
    def append() -> None:
        with engine.begin() as connection:
            append_entries(connection, _entries(count))

    return append


def _cds_batch(recorder: PostgresCallRecorder, count: int) -> Callable[[], None]:
    expires = datetime.now(UTC) + timedelta(minutes=5)

    def record() -> None:
        uses = [("bench-issuer", uuid.uuid4().hex, expires) for _ in range(count)]
        recorder.record(uses, lambda first: _entries(len(first)))

    return record


def _statements(engine: Engine, work: Callable[[], None]) -> int:
    seen = {"n": 0}

    def count(*_: Any) -> None:
        seen["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen["n"]


def _report(name: str, cpu: list[float], per: str, more: str) -> None:
    print(f"{name}: " + ", ".join(f"{us:.0f}" for us in cpu)
          + f" us CPU {per}; median {statistics.median(cpu):.0f}{more}")  # fmt: skip


def main() -> None:
    """Time the appends; print CPU per append and the statements each sends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url, schema = _database()
    if schema is None:
        raise SystemExit("bench_audit_append needs PostgreSQL (MESOSCREEN_BENCH_POSTGRES_URL)")
    prepare_database(Settings(database_url=url))
    engine = create_database_engine(url)
    recorder = PostgresCallRecorder(engine)
    try:
        for count in (1, 4):
            request = _request_append(engine, count)
            cpu = cpu_rounds(request, args.appends, args.rounds, warm=args.appends // 10)
            _report(f"request append (Core), {count} entries", cpu, "an append",
                    f"; {_statements(engine, request)} statements")  # fmt: skip
            # The recorder writes on the driver: its statements are not seen by the engine.
            batch = _cds_batch(recorder, count)
            cpu = cpu_rounds(batch, args.appends, args.rounds, warm=args.appends // 10)
            cpu = [us / count for us in cpu]
            _report(f"CDS batch (recorder), {count} entries", cpu, "a call", "")
    finally:
        recorder.release()
        engine.dispose()
        _drop(url, schema)


if __name__ == "__main__":
    main()
