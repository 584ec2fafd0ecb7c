"""Every record read filters on the caller's clinics in SQL, on SQLite (an expanding IN) and
on PostgreSQL (one array parameter, ``= ANY``): a record of a clinic not among them is not
found, whatever else is among them, and no clinics at all find nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mesoscreen.adapters.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.errors import NotFoundError
from mesoscreen.domain.records import Screening
from mesoscreen.services.patients import PatientDetails
from tests.factories import seed_clinic, unique
from tests.intakes import intake

Read = Callable[[SqlUnitOfWork, Screening, list[str]], Any]

# Each read of SqlRecords, as a function of the unit of work, the screening and the clinics;
# each gives the screening (or its page, or None) when its clinic is among them.
READS: dict[str, Read] = {
    "get": lambda uow, s, clinics: uow.screenings.get(s.id, clinics),
    "get_with_replaced": lambda uow, s, clinics: uow.screenings.get_with_replaced(s.id, clinics)[0],
    "page": lambda uow, s, clinics: uow.screenings.page(clinics, {"patient_id": s.patient_id},
                                                        0, 10).items,
    "page that counts": lambda uow, s, clinics: uow.screenings.page(
        clinics, {"patient_id": s.patient_id}, 0, 1).total,
    "latest": lambda uow, s, clinics: uow.screenings.latest(clinics, {"patient_id": s.patient_id}),
    "latest signed, current": lambda uow, s, clinics: uow.screenings.latest(
        clinics, {"patient_id": s.patient_id}, signed=False, current=True),
}  # fmt: skip


def _found(read: Read, uow: SqlUnitOfWork, screening: Screening, clinics: list[str]) -> bool:
    try:
        found = read(uow, screening, clinics)
    except NotFoundError:
        return False
    if isinstance(found, tuple):
        return found == (screening,)
    if isinstance(found, int):
        return found == 1
    return found == screening if found is not None else False


@pytest.mark.parametrize("name", sorted(READS))
def test_a_record_is_found_only_among_its_clinics(services: Services, name: str) -> None:
    own, other = seed_clinic(services.accounts), seed_clinic(services.accounts)
    clinician = own.principal(Role.CLINICIAN)
    details = PatientDetails(family_name=unique("Tran"), given_name="Lan")
    patient = services.patients.register(clinician, own.clinic.id, details)
    screening = services.screenings.screen_intake(clinician, patient.id, intake("female"))
    read = READS[name]
    with SqlUnitOfWorkFactory(services.engine)() as uow:
        assert _found(read, uow, screening, [own.clinic.id])
        assert _found(read, uow, screening, [other.clinic.id, own.clinic.id])
        assert not _found(read, uow, screening, [other.clinic.id])
        assert not _found(read, uow, screening, [])
