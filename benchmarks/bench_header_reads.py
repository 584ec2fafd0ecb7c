"""CPU of the patient header (on every patient page) alone, in process, with its SQL
statements, apart from the rest of a request's noise.

Run: .venv/bin/python -m benchmarks.bench_header_reads [--headers 2000] [--rounds 5]

Builds the services on a fresh PostgreSQL schema (MESOSCREEN_BENCH_POSTGRES_URL or the local
test server; else SQLite), makes a clinician, a patient with one screening and a patient in
treatment (a signed screening, plan and consent, a session and an adverse event, as
``bench_pages`` makes them), and calls ``PatientHeaders.for_patient`` ``--headers`` times a
round for each, given the Patient as a page gives it. Prints this process's CPU time per
header (user+system, ``time.process_time``) for each round, the lowest and the median, and
the statements per header. Run it against two source trees (PYTHONPATH) in turns to compare.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from sqlalchemy import event
from tests.factories import principal_for
from tests.intakes import intake

from benchmarks.bench_pages import _treated, fresh_services
from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Principal, Role
from mesoscreen.domain.records import Clinic
from mesoscreen.services.patients import PatientDetails


def clinician_of_new_clinic(services: Services, name: str) -> tuple[Clinic, Principal]:
    """A new clinic (made locally, with its administrator) and a clinician of it."""
    clinic = services.accounts.create_clinic_locally(name.title())
    admin = services.accounts.create_admin_locally(f"admin-{name}", "a long passphrase 1",
                                                   [clinic.name])  # fmt: skip
    clinician = principal_for(services.accounts.create_user(
        principal_for(admin), f"doc-{name}", "a long passphrase 1", Role.CLINICIAN,
        [clinic.id]))  # fmt: skip
    return clinic, clinician


def main() -> None:
    """Time the header for both patients; print CPU and statements per header."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--headers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with fresh_services() as services:
        clinic, clinician = clinician_of_new_clinic(services, "header")
        screened = services.patients.register(clinician, clinic.id,
                                              PatientDetails("Header", "Screened"))  # fmt: skip
        services.screenings.screen_intake(clinician, screened.id, intake("female"))
        treated_screening, _ = services.screenings.get(
            clinician, _treated(services, clinician, clinic.id)
        )
        treated = services.patients.get(clinician, treated_screening.patient_id)
        for name, patient in (("with one screening", screened), ("in treatment", treated)):
            header = services.patient_headers.for_patient
            for _ in range(200):  # warm the pool and the statement caches
                header(clinician, patient)
            per_header: list[float] = []
            for _ in range(args.rounds):
                start = time.process_time()
                for _ in range(args.headers):
                    header(clinician, patient)
                per_header.append(1e6 * (time.process_time() - start) / args.headers)
            statements = {"n": 0}

            def count(*_: Any, seen: dict[str, int] = statements) -> None:
                seen["n"] += 1

            event.listen(services.engine, "before_cursor_execute", count)
            header(clinician, patient)
            event.remove(services.engine, "before_cursor_execute", count)
            print(
                f"patient header, a patient {name} ({services.engine.dialect.name}), "
                f"{args.headers} a round: "
                + ", ".join(f"{us:.0f}" for us in per_header)
                + f" us CPU a header; lowest {min(per_header):.0f}, median "
                f"{statistics.median(per_header):.0f}; {statements['n']} statements a header"
            )


if __name__ == "__main__":
    main()
