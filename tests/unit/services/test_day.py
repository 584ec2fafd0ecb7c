"""The Today page's use case on fakes: what is due, for whom, and what each role may see."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mesoscreen.bootstrap import intake_reader
from mesoscreen.domain.access import Role
from mesoscreen.domain.consent import ConsentTemplates
from mesoscreen.domain.records import EventOutcome, Patient
from mesoscreen.domain.vocabulary import Language
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.consent_loader import default_consent_templates
from mesoscreen.services.accounts import Accounts
from mesoscreen.services.adverse_events import AdverseEventRecords, EventDetails
from mesoscreen.services.consents import ConsentRecords, PatientSignature
from mesoscreen.services.day import ClinicDay, DraftKind
from mesoscreen.services.patients import PatientDetails, PatientRecords
from mesoscreen.services.plans import TreatmentPlanRecords
from mesoscreen.services.screening import ScreeningService
from mesoscreen.services.screening_records import ScreeningRecords
from tests.factories import ClinicStaff, plan_gate, plan_request, seed_clinic
from tests.fakes import FakeHasher, FakeUnitOfWorkFactory, FrozenClock
from tests.intakes import intake

KB = default_knowledge_base()
TODAY = date(2026, 11, 25)  # the frozen clock's day


class Clinic:
    """A clinic on fakes with the records a day is read from."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWorkFactory()
        self.clock = FrozenClock()
        self.staff: ClinicStaff = seed_clinic(Accounts(self.uow, self.clock, FakeHasher()))
        self.patients = PatientRecords(self.uow, self.clock)
        self.screenings = ScreeningRecords(
            self.uow, self.clock, ScreeningService(KB), intake_reader(KB)
        )
        self.plans = TreatmentPlanRecords(self.uow, self.clock, plan_gate())
        self.events = AdverseEventRecords(self.uow, self.clock, [c.id for c in KB.complications])
        templates = ConsentTemplates(default_consent_templates().templates)
        self.consents = ConsentRecords(self.uow, self.clock, KB, templates)
        self.day = ClinicDay(self.uow, self.clock)
        self.clinician = self.staff.principal(Role.CLINICIAN)

    def patient(self, family: str) -> Patient:
        details = PatientDetails(family_name=family, given_name="Lan")
        return self.patients.register(self.clinician, self.staff.clinic.id, details)

    def planned(self, family: str, first_session: date) -> Patient:
        """A patient with a signed eligible screening and a plan starting ``first_session``."""
        patient = self.patient(family)
        screening = self.screenings.screen_intake(self.clinician, patient.id, intake("male"))
        self.screenings.sign(self.clinician, screening.id, screening.version)
        self.plans.create(self.clinician, screening.id, plan_request(first_session=first_session))
        return patient


@pytest.fixture
def clinic() -> Clinic:
    """An empty clinic on fakes."""
    return Clinic()


def _families(entries: list[object]) -> list[str]:
    return [e.patient.family_name for e in entries]  # type: ignore[attr-defined]


def test_the_day_lists_sessions_due_today_and_overdue_but_not_later(clinic: Clinic) -> None:
    """A first session today and one last week are listed (the second as overdue); one next
    week is not."""
    clinic.planned("Today", TODAY)
    clinic.planned("Late", date(2026, 11, 18))
    clinic.planned("Later", date(2026, 12, 2))
    day = clinic.day.for_user(clinic.clinician, TODAY)
    assert _families(day.sessions) == ["Late", "Today"]
    assert [e.overdue for e in day.sessions] == [True, False]
    assert all(e.record_id for e in day.sessions)


def test_a_deferral_ending_within_two_weeks_is_listed_and_a_later_one_is_not(
    clinic: Clinic,
) -> None:
    """Weaned in mid-October: the deferral ends in April, so it shows from 1 April on."""
    weaned = clinic.patient("Weaned")
    answers = intake("female", breastfeeding="no", recently_weaned="yes", weaned_on="2026-10-15")
    clinic.screenings.screen_intake(clinic.clinician, weaned.id, answers)
    assert clinic.day.for_user(clinic.clinician, TODAY).deferrals_ending == []
    april = clinic.day.for_user(clinic.clinician, date(2027, 4, 5))
    assert _families(april.deferrals_ending) == ["Weaned"]
    assert april.deferrals_ending[0].due_on == date(2027, 4, 15)


def test_open_adverse_events_due_for_follow_up_are_listed_and_resolved_ones_are_not(
    clinic: Clinic,
) -> None:
    """A recovering bruise due yesterday is listed with its complication; a resolved one and
    one due next week are not."""
    patient = clinic.patient("Bruised")
    for outcome, follow_up in ((EventOutcome.RECOVERING, date(2026, 11, 24)),
                               (EventOutcome.RESOLVED, date(2026, 11, 24)),
                               (EventOutcome.ONGOING, date(2026, 12, 2))):  # fmt: skip
        clinic.events.report(clinic.clinician, patient.id, EventDetails(
            onset_at=datetime(2026, 11, 20, 8, tzinfo=UTC), severity_grade=1, outcome=outcome,
            complication_id="bruising", follow_up_on=follow_up))  # fmt: skip
    (entry,) = clinic.day.for_user(clinic.clinician, TODAY).follow_ups
    assert (entry.complication_id, entry.due_on, entry.overdue) == (
        "bruising", date(2026, 11, 24), True)  # fmt: skip


def test_unsigned_drafts_are_listed_by_kind_for_those_who_may_sign_them(clinic: Clinic) -> None:
    """An unsigned screening is the clinician's to sign, not the nurse's; once signed it leaves
    the list."""
    patient = clinic.patient("Draft")
    screening = clinic.screenings.screen_intake(clinic.clinician, patient.id, intake("male"))
    day = clinic.day.for_user(clinic.clinician, TODAY)
    assert [(e.draft_kind, e.record_id) for e in day.drafts] == [
        (DraftKind.SCREENING, screening.id)
    ]
    assert clinic.day.for_user(clinic.staff.principal(Role.NURSE), TODAY).drafts == []
    clinic.screenings.sign(clinic.clinician, screening.id, screening.version)
    assert clinic.day.for_user(clinic.clinician, TODAY).drafts == []


def test_a_consent_waiting_for_countersignature_is_listed_until_countersigned(
    clinic: Clinic,
) -> None:
    """Signed by the patient: listed for the clinician, not for the nurse; countersigned: gone."""
    patient = clinic.patient("Nguyen")
    screening = clinic.screenings.screen_intake(clinic.clinician, patient.id, intake("male"))
    clinic.screenings.sign(clinic.clinician, screening.id, screening.version)
    typed = PatientSignature("typed", "Nguyen Lan", True)
    taken = clinic.consents.take(clinic.clinician, screening.id, Language.EN, typed)
    day = clinic.day.for_user(clinic.clinician, TODAY)
    assert [e.record_id for e in day.countersignatures] == [taken.id]
    assert clinic.day.for_user(clinic.staff.principal(Role.NURSE), TODAY).countersignatures == []
    clinic.consents.countersign(clinic.clinician, taken.id, taken.version)
    assert clinic.day.for_user(clinic.clinician, TODAY).countersignatures == []


def test_reception_sees_who_is_due_today_and_no_clinical_detail(clinic: Clinic) -> None:
    """The front desk sees the patient due, not the plan; no drafts, events or deferrals."""
    patient = clinic.planned("Today", TODAY)
    clinic.events.report(clinic.clinician, patient.id, EventDetails(
        onset_at=datetime(2026, 11, 20, 8, tzinfo=UTC), severity_grade=1,
        outcome=EventOutcome.ONGOING, complication_id="bruising",
        follow_up_on=date(2026, 11, 24)))  # fmt: skip
    clinic.screenings.screen_intake(clinic.clinician, clinic.patient("Draft").id, intake("male"))
    day = clinic.day.for_user(clinic.staff.principal(Role.RECEPTION), TODAY)
    assert not day.clinical
    assert _families(day.sessions) == ["Today"]
    assert day.sessions[0].record_id is None
    assert (day.deferrals_ending, day.follow_ups, day.drafts, day.countersignatures) == (
        [], [], [], [])  # fmt: skip


def test_an_administrator_has_an_empty_day_and_the_view_is_audited(clinic: Clinic) -> None:
    """No patient data for an admin; every reading of the day leaves an audit entry."""
    clinic.planned("Today", TODAY)
    day = clinic.day.for_user(clinic.staff.principal(Role.ADMIN), TODAY)
    assert day.empty
    clinic.day.for_user(clinic.clinician, TODAY)
    viewed = [s.entry for s in clinic.uow.store.audit if s.entry.event_type == "day.view"]
    assert [e.actor_role for e in viewed] == ["admin", "clinician"]


def test_another_clinics_records_stay_out_of_the_day(clinic: Clinic) -> None:
    """A clinician of another clinic sees nothing of this clinic's day."""
    clinic.planned("Today", TODAY)
    other = seed_clinic(Accounts(clinic.uow, clinic.clock, FakeHasher()))
    assert clinic.day.for_user(other.principal(Role.CLINICIAN), TODAY).empty
