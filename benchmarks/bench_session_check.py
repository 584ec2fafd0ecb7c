"""CPU of every request's session check (the session read and the touch of its last use) in
process, with its SQL statements, apart from the rest of a request's noise.

Run: .venv/bin/python -m benchmarks.bench_session_check [--checks 2000] [--rounds 5]

Builds the services on a fresh PostgreSQL schema (MESOSCREEN_BENCH_POSTGRES_URL or the local
test server; else SQLite), signs a clinician in, and calls
``Authentication.authenticate`` ``--checks`` times a round, one after another, the clock
moving a second each time. Prints this process's CPU time per check (user+system,
``time.process_time``) for each round, the lowest and the median, and the statements per
check. Run it against two source trees (PYTHONPATH) back to back to compare them.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from tests.factories import principal_for
from tests.fakes import FrozenClock

from benchmarks.bench_load import PASSWORD
from benchmarks.bench_pages import fresh_services
from mesoscreen.domain.access import Role


def main() -> None:
    """Time the session check; print CPU per check and statements per check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    clock = FrozenClock()
    with fresh_services(clock) as services:
        clinic = services.accounts.create_clinic_locally(f"Check {uuid.uuid4().hex[:6]}")
        admin = services.accounts.create_admin_locally(
            f"admin-{uuid.uuid4().hex[:6]}", PASSWORD, [clinic.name]
        )
        services.accounts.create_user(
            principal_for(admin), f"doc-{uuid.uuid4().hex[:6]}", PASSWORD, Role.CLINICIAN,
            [clinic.id],
        )  # fmt: skip
        token = services.authentication.login(admin.username, PASSWORD, "bearer", None).token
        statements = {"n": 0}

        def count(*_: Any) -> None:
            statements["n"] += 1

        authenticate = services.authentication.authenticate
        for _ in range(200):  # warm the pool and the statement caches
            clock.advance(timedelta(seconds=1))
            authenticate(token, "127.0.0.1")
        per_check: list[float] = []
        for _ in range(args.rounds):
            start = time.process_time()
            for _ in range(args.checks):
                clock.advance(timedelta(seconds=1))
                authenticate(token, "127.0.0.1")
            per_check.append(1e6 * (time.process_time() - start) / args.checks)
        event.listen(services.engine, "before_cursor_execute", count)
        clock.advance(timedelta(seconds=1))
        authenticate(token, "127.0.0.1")
        event.remove(services.engine, "before_cursor_execute", count)
        print(
            f"session check ({services.engine.dialect.name}), {args.checks} checks a round: "
            + ", ".join(f"{us:.0f}" for us in per_check)
            + f" us CPU a check; lowest {min(per_check):.0f}, median "
            f"{statistics.median(per_check):.0f}; {statements['n']} statements a check"
        )


if __name__ == "__main__":
    main()
