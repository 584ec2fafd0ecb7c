"""Every record read filters on the caller's clinics in SQL, on SQLite (an expanding IN) and
on PostgreSQL (one array parameter, ``= ANY``): a record of a clinic not among them is not
found, whatever else is among them, and no clinics at all find nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from mesoscreen.adapters.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.errors import NotFoundError
from mesoscreen.domain.records import Screening
from mesoscreen.services.patients import PatientDetails
from mesoscreen.services.ports import RecordRead
from tests.factories import ClinicStaff, seed_clinic, unique
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
        clinics, {"patient_id": s.patient_id}, signed=True, current=True),
    "read together": lambda uow, s, clinics: uow.read_together(
        clinics, [RecordRead("screenings", {"patient_id": s.patient_id})])[0],
    "read together, latest signed, current": lambda uow, s, clinics: uow.read_together(
        clinics, [RecordRead("screenings", {"patient_id": s.patient_id}, ("created_at",),
                             signed=True, current=True)])[0],
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


@pytest.fixture
def statements(services: Services) -> Iterator[list[str]]:
    """The SQL texts the engine sends during the test."""
    sent: list[str] = []

    def seen(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(services.engine, "before_cursor_execute", seen)
    yield sent
    event.remove(services.engine, "before_cursor_execute", seen)


def _registered(services: Services, staff: ClinicStaff) -> Screening:
    clinician = staff.principal(Role.CLINICIAN)
    details = PatientDetails(family_name=unique("Tran"), given_name="Lan")
    patient = services.patients.register(clinician, staff.clinic.id, details)
    return services.screenings.screen_intake(clinician, patient.id, intake("female"))


@pytest.mark.parametrize("name", sorted(READS))
def test_a_record_is_found_only_among_its_clinics(
    services: Services, statements: list[str], name: str
) -> None:
    own, other = seed_clinic(services.accounts), seed_clinic(services.accounts)
    screened = _registered(services, own)
    clinician = own.principal(Role.CLINICIAN)
    screening = services.screenings.sign(clinician, screened.id, screened.version)
    read = READS[name]
    with SqlUnitOfWorkFactory(services.engine)() as uow:
        assert _found(read, uow, screening, [own.clinic.id])
        # PostgreSQL binds the clinics as one array, SQLite as an expanding IN.
        wanted = "= ANY (" if services.engine.dialect.name == "postgresql" else "clinic_id IN ("
        assert wanted in statements[-1]
        assert _found(read, uow, screening, [other.clinic.id, own.clinic.id])
        assert not _found(read, uow, screening, [other.clinic.id])
        assert not _found(read, uow, screening, [])


def test_the_count_of_a_full_page_counts_only_the_callers_clinics(services: Services) -> None:
    """A page that is full is counted: the count filters on the clinics too."""
    own, other = seed_clinic(services.accounts), seed_clinic(services.accounts)
    mine = _registered(services, own)
    theirs = _registered(services, other)
    assert theirs.outcome == mine.outcome
    where = {"outcome": mine.outcome}  # every clinic of the shared database has such screenings
    with SqlUnitOfWorkFactory(services.engine)() as uow:
        page = uow.screenings.page([own.clinic.id], where, 0, 1)
        assert page.items == (mine,)
        assert page.total == 1
        assert uow.screenings.page([own.clinic.id, other.clinic.id], where, 0, 1).total == 2
