"""One-use form keys and voids on SQLite and PostgreSQL: a form submitted twice, or twice at
once, makes one record; a void is never changed or deleted, even bypassing the application."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import Role
from mesoscreen.domain.errors import DuplicateRequestError
from mesoscreen.domain.records import EventOutcome
from mesoscreen.services.adverse_events import EventDetails
from mesoscreen.services.patients import PatientDetails
from mesoscreen.services.recording import FormKey
from tests.factories import ClinicStaff, seed_clinic, seed_two_clinics, unique

EVENT = EventDetails(onset_at=datetime(2026, 11, 20, 8, tzinfo=UTC), severity_grade=1,
                     outcome=EventOutcome.RECOVERING, complication_id="bruising",
                     follow_up_on=date(2026, 11, 24))  # fmt: skip


def _patient(services: Services, staff: ClinicStaff) -> str:
    details = PatientDetails(family_name=unique("Tran"), given_name="Mai")
    return services.patients.register(staff.principal(Role.CLINICIAN), staff.clinic.id, details).id


def _events(services: Services, staff: ClinicStaff, patient_id: str) -> list[str]:
    clinician = staff.principal(Role.CLINICIAN)
    return [e.id for e in services.adverse_events.list_for_patient(clinician, patient_id).items]


def test_a_second_submission_of_a_form_makes_nothing(services: Services) -> None:
    """The same key again is refused inside the transaction; the first record is found."""
    staff = seed_clinic(services.accounts)
    clinician = staff.principal(Role.CLINICIAN)
    patient_id = _patient(services, staff)
    key = FormKey("adverse_event", unique("key-").ljust(20, "x"))
    first = services.adverse_events.report(clinician, patient_id, EVENT, key)
    with pytest.raises(DuplicateRequestError):
        services.adverse_events.report(clinician, patient_id, EVENT, key)
    assert _events(services, staff, patient_id) == [first.id]
    assert services.form_keys.earlier(clinician, key) == first.id


def test_concurrent_submissions_of_one_form_make_one_record(services: Services) -> None:
    """Six threads post the same form at once: one record, and every one of them is sent to
    it (as the page does: its own record, or on a duplicate the first one's)."""
    staff = seed_clinic(services.accounts)
    clinician = staff.principal(Role.CLINICIAN)
    patient_id = _patient(services, staff)
    key = FormKey("adverse_event", unique("race-").ljust(20, "x"))
    start = threading.Barrier(6)
    answers: list[str] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            start.wait(timeout=10)
            try:
                answers.append(services.adverse_events.report(clinician, patient_id, EVENT, key).id)
            except DuplicateRequestError:
                found = services.form_keys.earlier(clinician, key)
                assert found is not None
                answers.append(found)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = _events(services, staff, patient_id)
    assert len(stored) == 1
    assert answers == stored * 6


def test_a_form_key_is_found_only_in_its_own_clinic(services: Services) -> None:
    """Another clinic's user submitting a copied key finds nothing of the first clinic."""
    clinics = seed_two_clinics(services.accounts)
    patient_id = _patient(services, clinics.a)
    key = FormKey("adverse_event", unique("copied-").ljust(20, "x"))
    services.adverse_events.report(clinics.a.principal(Role.CLINICIAN), patient_id, EVENT, key)
    assert services.form_keys.earlier(clinics.b.principal(Role.CLINICIAN), key) is None


def _refused(services: Services, statement: str, record_id: str) -> None:
    with pytest.raises(DBAPIError), services.engine.begin() as connection:
        connection.execute(text(statement), {"id": record_id})


def test_a_void_is_never_changed_or_deleted(services: Services) -> None:
    """UPDATE and DELETE on a void are refused by the database itself."""
    staff = seed_clinic(services.accounts)
    clinician = staff.principal(Role.CLINICIAN)
    event = services.adverse_events.report(clinician, _patient(services, staff), EVENT)
    void = services.adverse_events.void(clinician, event.id, "entered for the wrong patient")
    _refused(services, "UPDATE record_voids SET reason = 'x' WHERE id = :id", void.id)
    _refused(services, "DELETE FROM record_voids WHERE id = :id", void.id)
    opened = services.adverse_events.open(clinician, event.id)
    assert opened.void is not None
    assert opened.void.reason == "entered for the wrong patient"
