"""Outcome measures on fakes: who may record them, links to the patient's own sessions,
corrections, and the audit of every read and refusal."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mesoscreen.domain.access import Role
from mesoscreen.domain.audit import AuditOutcome
from mesoscreen.domain.errors import ConflictError, InputError, PermissionDeniedError
from mesoscreen.domain.outcomes import Measurements
from mesoscreen.domain.records import Patient, RecordStatus, TreatmentSession
from mesoscreen.knowledge.outcome_scales_loader import default_outcome_scales
from mesoscreen.services.outcome_measures import OutcomeDetails, OutcomeMeasureRecords
from mesoscreen.services.patients import PatientDetails, PatientRecords
from tests.factories import ClinicStaff
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock


@pytest.fixture
def outcomes(uow: FakeUnitOfWorkFactory, clock: FrozenClock) -> OutcomeMeasureRecords:
    """The use cases on the fakes with the packaged scales."""
    return OutcomeMeasureRecords(uow, clock, default_outcome_scales())


def _patient(uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff) -> Patient:
    details = PatientDetails(family_name="Tran", given_name="Mai")
    return PatientRecords(uow, clock).register(
        staff.principal(Role.RECEPTION), staff.clinic.id, details
    )


def _session(uow: FakeUnitOfWorkFactory, staff: ClinicStaff, patient: Patient) -> str:
    """A signed session of ``patient``, stored directly (its own rules are tested elsewhere)."""
    at = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    user = staff.users[Role.CLINICIAN].id
    session = TreatmentSession(
        id="s-1", clinic_id=patient.clinic_id, patient_id=patient.id, plan_id=None,
        performed_at=at, operator_id=user, points=[], products=[], depth_mm=1.5,
        total_volume_ml=0.0, notes=None, status=RecordStatus.SIGNED.value, replaces_id=None,
        created_by=user, created_at=at, updated_at=at, signed_by=user, signed_at=at,
    )  # fmt: skip
    with uow() as work:
        work.treatment_sessions.add(session)
        work.commit()
    return session.id


def _count(count: int, on: date = date(2026, 11, 20), **links: str) -> OutcomeDetails:
    return OutcomeDetails(on, Measurements(hair_count=count, area_cm2=1.0), **links)  # type: ignore[arg-type]


def test_a_nurse_records_a_count_and_the_density_is_worked_out(
    uow: FakeUnitOfWorkFactory,
    clock: FrozenClock,
    staff: ClinicStaff,
    outcomes: OutcomeMeasureRecords,
) -> None:
    """The stored measure has the density, the recorder and an audit entry."""
    patient = _patient(uow, clock, staff)
    details = OutcomeDetails(date(2026, 11, 20), Measurements(hair_count=176, area_cm2=0.8))
    measure = outcomes.record(staff.principal(Role.NURSE), patient.id, details)
    assert measure.density_per_cm2 == 220.0
    assert measure.created_by == staff.users[Role.NURSE].id
    last = uow.store.audit[-1].entry
    assert (last.event_type, last.patient_id, last.entity_id) == (
        "outcome.create", patient.id, measure.id
    )  # fmt: skip


def test_reception_may_neither_record_nor_read_measures(
    uow: FakeUnitOfWorkFactory,
    clock: FrozenClock,
    staff: ClinicStaff,
    outcomes: OutcomeMeasureRecords,
) -> None:
    """Both refusals are audited as denied."""
    patient = _patient(uow, clock, staff)
    reception = staff.principal(Role.RECEPTION)
    with pytest.raises(PermissionDeniedError):
        outcomes.record(reception, patient.id, _count(150))
    with pytest.raises(PermissionDeniedError):
        outcomes.list_for_patient(reception, patient.id)
    denied = [e.entry.event_type for e in uow.store.audit
              if e.entry.outcome == AuditOutcome.DENIED]  # fmt: skip
    assert denied == ["outcome.create", "outcome.search"]


def test_a_measure_may_name_a_session_of_the_same_patient_only(
    uow: FakeUnitOfWorkFactory,
    clock: FrozenClock,
    staff: ClinicStaff,
    outcomes: OutcomeMeasureRecords,
) -> None:
    """Another patient's session is refused; the patient's own is linked."""
    mine = _patient(uow, clock, staff)
    other = _patient(uow, clock, staff)
    session = _session(uow, staff, mine)
    clinician = staff.principal(Role.CLINICIAN)
    assert (
        outcomes.record(clinician, mine.id, _count(150, session_id=session)).session_id == session
    )
    with pytest.raises(InputError, match="session_id"):
        outcomes.record(clinician, other.id, _count(150, session_id=session))


def test_a_date_after_today_is_refused(
    uow: FakeUnitOfWorkFactory,
    clock: FrozenClock,
    staff: ClinicStaff,
    outcomes: OutcomeMeasureRecords,
) -> None:
    """Today is allowed; tomorrow is not."""
    patient = _patient(uow, clock, staff)
    clinician = staff.principal(Role.CLINICIAN)
    outcomes.record(clinician, patient.id, _count(150, clock.today()))
    with pytest.raises(InputError, match="measured_on"):
        outcomes.record(clinician, patient.id, _count(150, date(2026, 11, 26)))


def test_a_correction_replaces_a_measure_once(
    uow: FakeUnitOfWorkFactory,
    clock: FrozenClock,
    staff: ClinicStaff,
    outcomes: OutcomeMeasureRecords,
) -> None:
    """The list and the trend show the correction; the original is kept; a second is refused."""
    patient = _patient(uow, clock, staff)
    clinician = staff.principal(Role.CLINICIAN)
    typo = outcomes.record(
        clinician, patient.id, _count(510)
    )  # 510 typed for 150: plausible, so only a person catches it
    fixed = outcomes.record(clinician, patient.id, _count(150, replaces_id=typo.id))
    listed = outcomes.list_for_patient(clinician, patient.id)
    assert [m.id for m in listed] == [fixed.id]
    assert typo.id in uow.store.table("outcomes")  # kept, never deleted
    (density,) = outcomes.trends_of(listed)
    assert [p.value for p in density.points] == [150.0]
    with pytest.raises(ConflictError, match="already corrected"):
        outcomes.record(clinician, patient.id, _count(151, replaces_id=typo.id))
