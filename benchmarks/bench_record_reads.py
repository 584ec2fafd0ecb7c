"""CPU of reading one record by its id through its repository (the row path: a plan page, a
session page, a screening page), in process, apart from the rest of a request's noise.

Run: .venv/bin/python -m benchmarks.bench_record_reads [--reads 2000] [--rounds 5]

Builds the services on a fresh PostgreSQL schema (MESOSCREEN_BENCH_POSTGRES_URL or the local
test server; else SQLite), makes a patient in treatment as ``bench_pages`` does (a signed
screening, plan and consent, a session, an adverse event), then, inside one unit of work (no
transaction's round trips, no audit entry), reads the screening, the plan and the consent by
id ``--reads`` times a round each. Prints this process's CPU time per read (user+system,
``time.process_time``) for each round, the lowest and the median, and the size of the
record's JSON documents (what the driver decodes). Run it against two source trees
(PYTHONPATH) in turns to compare.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
from typing import Any

import orjson

from benchmarks.bench_header_reads import clinician_of_new_clinic
from benchmarks.bench_pages import _treated, cpu_rounds, fresh_services, rounds_text
from mesoscreen.adapters.db.unit_of_work import SqlUnitOfWorkFactory


def _json_bytes(record: Any) -> int:
    """The bytes of the record's dict and list fields written as JSON."""
    values = (getattr(record, field.name) for field in dataclasses.fields(record))
    return sum(len(orjson.dumps(v)) for v in values if isinstance(v, dict | list | tuple))


def main() -> None:
    """Time reads by id of a screening, a plan and a consent; print CPU per read."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with fresh_services() as services:
        clinic, clinician = clinician_of_new_clinic(services, "reads")
        screening, _ = services.screenings.get(clinician, _treated(services, clinician, clinic.id))
        with SqlUnitOfWorkFactory(services.engine)() as uow:
            mine = {"patient_id": screening.patient_id}
            plan = uow.plans.page([clinic.id], mine, 0, 1).items[0]
            consent = uow.consents.page([clinic.id], mine, 0, 1).items[0]
            for name, records, record in (
                ("screening", uow.screenings, screening),
                ("plan", uow.plans, plan),
                ("consent", uow.consents, consent),
            ):
                read = functools.partial(records.get, record.id, [clinic.id])
                per_read = cpu_rounds(read, args.reads, args.rounds)
                print(
                    f"{name} by id ({services.engine.dialect.name}, "
                    f"{_json_bytes(record) / 1024:.1f} KB of JSON), {args.reads} a round: "
                    + rounds_text(per_read, "a read")
                )


if __name__ == "__main__":
    main()
