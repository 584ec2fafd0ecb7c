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
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from tests.factories import principal_for
from tests.fakes import FrozenClock

from benchmarks.bench_load import PASSWORD
from benchmarks.bench_pages import cpu_rounds, fresh_services, rounds_text
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

        def check() -> None:
            clock.advance(timedelta(seconds=1))
            authenticate(token, "127.0.0.1")

        per_check = cpu_rounds(check, args.checks, args.rounds)
        event.listen(services.engine, "before_cursor_execute", count)
        check()
        event.remove(services.engine, "before_cursor_execute", count)
        print(
            f"session check ({services.engine.dialect.name}), {args.checks} checks a round: "
            + rounds_text(per_check, "a check") + f"; {statements['n']} statements a check"
        )  # fmt: skip


if __name__ == "__main__":
    main()
