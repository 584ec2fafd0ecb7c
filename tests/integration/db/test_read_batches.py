"""A page's reads are audited entry for entry, chained once when the page's block ends; a
transaction that writes still chains its entries with its writes (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mesoscreen.adapters.db import tables
from mesoscreen.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Principal, Role
from mesoscreen.domain.errors import NotFoundError
from mesoscreen.domain.records import Patient
from mesoscreen.services.patients import PatientDetails
from tests.factories import seed_clinic, unique


def _stored_for(services: Services, patient_id: str) -> list[tuple[str, str]]:
    """(event type, outcome) of the stored audit entries about ``patient_id``, in order."""
    log = tables.audit_log
    query = select(log.c.event_type, log.c.outcome).where(log.c.patient_id == patient_id)
    with services.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(log.c.seq))]


def _head(services: Services) -> int:
    with services.engine.connect() as connection:
        return int(connection.execute(select(func.max(tables.audit_log.c.seq))).scalar_one())


def _registered(services: Services) -> tuple[Patient, Principal]:
    staff = seed_clinic(services.accounts)
    clinician = staff.principal(Role.CLINICIAN)
    details = PatientDetails(family_name=unique("Le"), given_name="Mai")
    return services.patients.register(clinician, staff.clinic.id, details), clinician


def test_reads_in_a_batch_are_stored_when_it_ends_each_as_its_own_entry(
    services: Services,
) -> None:
    patient, clinician = _registered(services)
    before = _stored_for(services, patient.id)
    with services.reads_batched():
        services.patients.get(clinician, patient.id)
        services.patient_headers.for_patient(clinician, patient.id)
        assert _stored_for(services, patient.id) == before  # not yet: the page is not answered
    after = _stored_for(services, patient.id)
    assert after[len(before) :] == [("patient.read", "success"), ("patient.header", "success")]
    assert services.audit.verify().intact


def test_a_write_inside_a_batch_is_chained_with_its_transaction(services: Services) -> None:
    patient, clinician = _registered(services)
    with services.reads_batched():
        services.patients.get(clinician, patient.id)
        head = _head(services)
        details = PatientDetails(family_name=patient.family_name, given_name="Mai Anh")
        services.patients.update(clinician, patient.id, patient.version, details)
        # The update's entry is stored with the update, before the block ends.
        assert _head(services) == head + 1
        assert _stored_for(services, patient.id)[-1] == ("patient.update", "success")
    # The read is stored after, at the end of the block.
    assert _stored_for(services, patient.id)[-1] == ("patient.read", "success")


def test_a_refused_read_is_stored_when_the_block_ends_by_the_error(services: Services) -> None:
    patient, clinician = _registered(services)
    missing = unique("nobody")
    before = _head(services)

    def page() -> None:
        with services.reads_batched():
            services.patients.get(clinician, patient.id)
            services.patients.get(clinician, missing)

    with pytest.raises(NotFoundError):
        page()
    log = tables.audit_log
    with services.engine.connect() as connection:
        rows = connection.execute(
            select(log.c.event_type, log.c.outcome, log.c.entity_id)
            .where(log.c.seq > before)
            .order_by(log.c.seq)
        ).all()
    assert [(r.event_type, r.outcome) for r in rows] == [
        ("patient.read", "success"),
        ("patient.read", "failure"),
    ]
    assert rows[1].entity_id == missing


def test_batches_do_not_nest(services: Services) -> None:
    factory = SqlUnitOfWorkFactory(services.engine)
    with factory.reads_batched():
        nested = factory.reads_batched()
        with pytest.raises(RuntimeError, match="already open"):
            nested.__enter__()
