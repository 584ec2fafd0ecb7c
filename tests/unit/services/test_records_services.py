"""Records use cases on fakes: sessions, throttling, plan gates, the signed lifecycle, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mesoscreen.bootstrap import intake_reader
from mesoscreen.domain.access import (
    AuthenticationError,
    Permission,
    Role,
    TooManyAttemptsError,
    allows,
)
from mesoscreen.domain.audit import AuditOutcome
from mesoscreen.domain.errors import ConflictError, NotFoundError, PermissionDeniedError, PlanError
from mesoscreen.domain.records import ActionResult, StaleVersionError
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.audit_chain import verify_chain
from mesoscreen.services.authentication import Authentication, SessionPolicy
from mesoscreen.services.patients import PatientDetails, PatientRecords
from mesoscreen.services.plans import TreatmentPlanRecords
from mesoscreen.services.required_actions import ActionReport, RequiredActionRecords
from mesoscreen.services.screening import ScreeningService
from mesoscreen.services.screening_records import ScreeningRecords
from tests.factories import (
    PASSWORD,
    ClinicStaff,
    allergy_answers,
    eligible_answers,
    plan_gate,
    plan_request,
)
from tests.fakes import FakeHasher, FakeUnitOfWorkFactory, FrozenClock


def test_the_matrix_keeps_clinical_data_from_admins_and_reception() -> None:
    """Admins and reception never read clinical data; only clinicians sign plans and screenings."""
    for role in (Role.ADMIN, Role.RECEPTION):
        assert not allows(role, Permission.CLINICAL_READ)
    signers = {
        r for r in Role if allows(r, Permission.PLAN_SIGN) or allows(r, Permission.SCREENING_SIGN)
    }
    assert signers == {Role.CLINICIAN}


def test_a_session_expires_exactly_at_the_idle_limit(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff
) -> None:
    """One second under the idle limit passes; one second over is refused."""
    auth = Authentication(uow, clock, FakeHasher(), SessionPolicy())
    signed_in = auth.login(staff.users[Role.NURSE].username, PASSWORD, "bearer", None)
    clock.advance(timedelta(minutes=15) - timedelta(seconds=1))
    auth.authenticate(signed_in.token, None)
    clock.advance(timedelta(minutes=15, seconds=1))
    with pytest.raises(AuthenticationError):
        auth.authenticate(signed_in.token, None)


def test_sign_in_failures_are_audited_and_slowed(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff
) -> None:
    """Each failure writes a failure entry; the fourth quick try is throttled."""
    auth = Authentication(uow, clock, FakeHasher(), SessionPolicy())
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            auth.login(staff.users[Role.NURSE].username, "wrong password!", "bearer", "10.0.0.9")
    with pytest.raises(TooManyAttemptsError):
        auth.login(staff.users[Role.NURSE].username, PASSWORD, "bearer", "10.0.0.9")
    outcomes = [s.entry.outcome for s in uow.store.audit if s.entry.event_type == "user.login"]
    assert outcomes == [AuditOutcome.FAILURE] * 3 + [AuditOutcome.DENIED]


def test_a_plan_waits_for_the_blocking_allergy_test(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff
) -> None:
    """PlanError while the allergy test is open; a plan once it is recorded negative."""
    clinician = staff.principal(Role.CLINICIAN)
    patient = PatientRecords(uow, clock).register(
        clinician, staff.clinic.id, PatientDetails("Ly", "Na")
    )
    screenings = ScreeningRecords(
        uow,
        clock,
        ScreeningService(default_knowledge_base()),
        intake_reader(default_knowledge_base()),
    )
    screening = screenings.screen_intake(clinician, patient.id, allergy_answers())
    screenings.sign(clinician, screening.id, 1)
    plans = TreatmentPlanRecords(uow, clock, plan_gate())
    with pytest.raises(PlanError, match="allergy"):
        plans.create(clinician, screening.id, plan_request())
    action = str(screening.decision["required_actions"][0]["id"])
    report = ActionReport(action, ActionResult.NEGATIVE, clock.today())
    RequiredActionRecords(uow, clock).record(clinician, screening.id, report)
    plan = plans.create(clinician, screening.id, plan_request())
    signed = plans.sign(clinician, plan.id, 1)
    with pytest.raises(ConflictError):
        plans.update(clinician, plan.id, signed.version, {"request": plan_request()})
    amendment = plans.amend(clinician, plan.id)
    assert amendment.replaces_id == plan.id
    with pytest.raises(ConflictError):
        plans.amend(clinician, plan.id)
    with pytest.raises(StaleVersionError):
        plans.update(clinician, amendment.id, 7, {"request": plan_request(spacing_cm=1.5)})


def test_refusals_are_audited_after_the_rollback(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff
) -> None:
    """A permission refusal and a missing record each leave one audit entry and no data."""
    patients = PatientRecords(uow, clock)
    screenings = ScreeningRecords(
        uow,
        clock,
        ScreeningService(default_knowledge_base()),
        intake_reader(default_knowledge_base()),
    )
    with pytest.raises(PermissionDeniedError):
        screenings.screen_intake(staff.principal(Role.RECEPTION), "p-1", eligible_answers())
    with pytest.raises(NotFoundError):
        patients.get(staff.principal(Role.NURSE), "missing")
    last_two = [s.entry.outcome for s in uow.store.audit[-2:]]
    assert last_two == [AuditOutcome.DENIED, AuditOutcome.FAILURE]
    assert verify_chain(uow.store.audit, (uow.store.audit[-1].seq, uow.store.audit[-1].hash)).intact
