"""The completions of a screening, asked for by its id or with the screening a page has just
read: the same page and the same audit entry, the screening not read again, and a screening
of a clinic the reader is not in refused alike."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mesoscreen.bootstrap import intake_reader
from mesoscreen.domain.access import Role
from mesoscreen.domain.audit import AuditOutcome
from mesoscreen.domain.errors import NotFoundError
from mesoscreen.domain.records import ActionResult, Screening
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.accounts import Accounts
from mesoscreen.services.patients import PatientDetails, PatientRecords
from mesoscreen.services.required_actions import ActionReport, RequiredActionRecords
from mesoscreen.services.screening import ScreeningService
from mesoscreen.services.screening_records import ScreeningRecords
from tests.factories import ClinicStaff, allergy_answers, seed_clinic
from tests.fakes import FakeHasher, FakeUnitOfWorkFactory, FrozenClock


def _screened(uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff) -> Screening:
    """A screening with one completion recorded (the allergy test)."""
    clinician = staff.principal(Role.CLINICIAN)
    patient = PatientRecords(uow, clock).register(
        clinician, staff.clinic.id, PatientDetails("Vo", "Ha")
    )
    kb = default_knowledge_base()
    screenings = ScreeningRecords(uow, clock, ScreeningService(kb), intake_reader(kb))
    screening = screenings.screen_intake(clinician, patient.id, allergy_answers())
    action = str(screening.decision["required_actions"][0]["id"])
    report = ActionReport(action, ActionResult.NEGATIVE, clock.today())
    RequiredActionRecords(uow, clock).record(clinician, screening.id, report)
    return screening


def _last_entry(uow: FakeUnitOfWorkFactory) -> dict[str, Any]:
    entry = uow.store.audit[-1].entry
    return {**entry.plain_fields(), "at": entry.recorded_at}


def test_the_screening_itself_gives_what_its_id_gives_without_reading_it_again(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff
) -> None:
    screening = _screened(uow, clock, staff)
    actions = RequiredActionRecords(uow, clock)
    nurse = staff.principal(Role.NURSE)
    by_id = actions.list_for_screening(nurse, screening.id, limit=200)
    entry_by_id = _last_entry(uow)
    del uow.store.tables["screenings"][screening.id]  # a second read would not find it
    with_record = actions.list_for_screening(nurse, screening, limit=200)
    assert with_record == by_id
    assert len(with_record.items) == 1
    assert _last_entry(uow) == entry_by_id


def test_a_screening_of_another_clinic_is_refused_as_its_id_is(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff
) -> None:
    screening = _screened(uow, clock, staff)
    elsewhere = seed_clinic(Accounts(uow, clock, FakeHasher())).principal(Role.CLINICIAN)
    actions = RequiredActionRecords(uow, clock)
    for asked in (screening.id, screening, replace(screening, patient_id="someone-else")):
        with pytest.raises(NotFoundError, match="not found"):
            actions.list_for_screening(elsewhere, asked)
        assert uow.store.audit[-1].entry.outcome is AuditOutcome.FAILURE
        assert uow.store.audit[-1].entry.event_type == "action.search"
