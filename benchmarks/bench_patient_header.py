"""What the patient header costs a patient page: server CPU per page without and with it.

Run: .venv/bin/python -m benchmarks.bench_patient_header [--pages 200] [--plans 5]

Serves the patient timeline (``/patients/{id}``) in process on a temporary SQLite database to a
signed-in clinician, for a patient with a signed screening, a countersigned consent and
``--plans`` plans, first with the header switched off (as before the header existed), then
with it. Prints the CPU time per page (``time.process_time``: the machine is shared, wall
time is noise), the difference, and the SQL statements the header adds (the same for any
history: one query set, no query per record).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import event
from tests.conftest import migrated_database
from tests.factories import give_consent, records_settings, seed_clinic
from tests.integration.web.conftest import sign_in

from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.domain.planner.plan import PlanRequest
from mesoscreen.entrypoints.api import create_app
from mesoscreen.services.patients import PatientDetails

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def _cpu_per_page(client: TestClient, path: str, pages: int) -> float:
    """Seconds of this process's CPU per page, after a few pages of warm-up."""
    for _ in range(5):
        client.get(path)
    start = time.process_time()
    for _ in range(pages):
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
    return (time.process_time() - start) / pages


def _statements(services: Services, run: Any) -> int:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(services.engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(services.engine, "before_cursor_execute", count)
    return len(seen)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--plans", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, migrated_database("sqlite", Path(folder)) as url:
        services = build_services(records_settings(url))
        staff = seed_clinic(services.accounts)
        clinician = staff.principal(Role.CLINICIAN)
        details = PatientDetails("Nguyen", "Lan", birth_date=date(1990, 4, 12), sex="male")
        patient = services.patients.register(clinician, staff.clinic.id, details)
        give_consent(services.patients, services.screenings, services.consents, staff, patient.id)
        screening = services.screenings.list_for_patient(clinician, patient.id).items[-1]
        request = PlanRequest((), "norwood-1", 1.0, "dutasteride_0_01", services.clock.today())
        for _ in range(args.plans):
            services.plans.create(clinician, screening.id, request)
        path = f"/patients/{patient.id}"
        with TestClient(create_app(services.settings, services=services),
                        base_url="https://testserver") as client:  # fmt: skip
            sign_in(client, staff, Role.CLINICIAN)
            headers = services.patient_headers
            real = headers.for_patient
            headers.for_patient = lambda *_: None  # type: ignore[assignment,method-assign]
            before = _cpu_per_page(client, path, args.pages)
            headers.for_patient = real  # type: ignore[method-assign]
            after = _cpu_per_page(client, path, args.pages)
            added = _statements(services, lambda: real(clinician, patient.id))
        services.close()
    print(f"patient page, {args.pages} pages, {args.plans} plans, SQLite:")
    print(f"  without header  {before * 1000:6.2f} ms CPU per page")
    print(f"  with header     {after * 1000:6.2f} ms CPU per page")
    print(f"  header costs    {(after - before) * 1000:6.2f} ms CPU per page "
          f"({(after / before - 1) * 100:+.0f}%), {added} SQL statements")  # fmt: skip


if __name__ == "__main__":
    main()
