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
import functools
from typing import Any

from sqlalchemy import event
from tests.factories import principal_for
from tests.intakes import intake

from benchmarks.bench_pages import _treated, cpu_rounds, fresh_services, rounds_text
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
            header = functools.partial(services.patient_headers.for_patient, clinician, patient)
            per_header = cpu_rounds(header, args.headers, args.rounds)
            statements = {"n": 0}

            def count(*_: Any, seen: dict[str, int] = statements) -> None:
                seen["n"] += 1

            event.listen(services.engine, "before_cursor_execute", count)
            header()
            event.remove(services.engine, "before_cursor_execute", count)
            print(
                f"patient header, a patient {name} ({services.engine.dialect.name}), "
                f"{args.headers} a round: " + rounds_text(per_header, "a header")
                + f"; {statements['n']} statements a header"
            )  # fmt: skip


if __name__ == "__main__":
    main()
