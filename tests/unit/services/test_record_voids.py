"""Voiding a record entered in error, and what the worklist and the Today page then count."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mesoscreen.domain.access import Role
from mesoscreen.domain.consent import ConsentTemplates
from mesoscreen.domain.errors import ConflictError, InputError, PermissionDeniedError
from mesoscreen.domain.records import EventOutcome, Patient
from mesoscreen.knowledge.consent_loader import default_consent_templates
from mesoscreen.services.adverse_events import EventDetails
from mesoscreen.services.follow_up import (
    FollowUps,
    follow_ups_of,
    read_follow_up_records,
    read_patient_follow_up_records,
)
from mesoscreen.services.treatment_sessions import SessionDetails, TreatmentSessionRecords
from tests.factories import give_consent, plan_gate
from tests.unit.services.test_day import TODAY, Clinic

SESSION = SessionDetails(
    performed_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
    points=[{"number": 1, "volume_ml": 0.1}],
    products=[{"name": "Dutasteride", "lot_number": "L1", "expiry": "2027-06-30"}],
    depth_mm=1.0,
)


class VoidingClinic(Clinic):
    """The Today page's clinic with sessions and the worklist too."""

    def __init__(self) -> None:
        super().__init__()
        templates = ConsentTemplates(default_consent_templates().templates)
        self.sessions = TreatmentSessionRecords(self.uow, self.clock, templates, plan_gate())
        self.follow_ups = FollowUps(self.uow, self.clock)

    def treated(self, family: str) -> Patient:
        """A patient with a signed plan from 18 Nov and a countersigned consent."""
        patient = self.planned(family, date(2026, 11, 18))
        plan = self.plans.list_for_patient(self.clinician, patient.id).items[0]
        self.plans.sign(self.clinician, plan.id, plan.version)
        give_consent(self.patients, self.screenings, self.consents, self.staff, patient.id)
        return patient

    def next_session(self, patient: Patient) -> list[str]:
        items = self.follow_ups.worklist(self.clinician, TODAY, 365)
        return [i.detail for i in items if i.kind == "session" and i.patient.id == patient.id]


@pytest.fixture
def clinic() -> VoidingClinic:
    """A clinic on fakes."""
    return VoidingClinic()


def _event(follow_up_on: date | None = date(2026, 11, 24)) -> EventDetails:
    return EventDetails(onset_at=datetime(2026, 11, 20, 8, tzinfo=UTC), severity_grade=1,
                        outcome=EventOutcome.RECOVERING, complication_id="bruising",
                        follow_up_on=follow_up_on)  # fmt: skip


def test_a_duplicate_session_voided_gives_the_planned_next_session_back(
    clinic: VoidingClinic,
) -> None:
    """Two records of one session skip a planned session; voiding one brings it back."""
    patient = clinic.treated("Twice")
    assert clinic.next_session(patient)[0].startswith("session 1 ")
    clinic.sessions.create(clinic.clinician, patient.id, SESSION)
    duplicate = clinic.sessions.create(clinic.clinician, patient.id, SESSION)
    assert clinic.next_session(patient)[0].startswith("session 3 ")
    clinic.sessions.void(clinic.clinician, duplicate.id, "entered twice")
    assert clinic.next_session(patient)[0].startswith("session 2 ")


def test_a_voided_or_resolved_adverse_event_leaves_the_worklist_and_the_day(
    clinic: VoidingClinic,
) -> None:
    """A voided event and a resolved one are no longer followed up; an open one is."""
    patient = clinic.patient("Bruised")
    kept = clinic.events.report(clinic.clinician, patient.id, _event())
    voided = clinic.events.report(clinic.clinician, patient.id, _event())
    clinic.events.void(clinic.clinician, voided.id, "duplicate report")
    follow_ups = clinic.day.for_user(clinic.clinician, TODAY).follow_ups
    assert [e.record_id for e in follow_ups] == [kept.id]
    drafts = clinic.day.for_user(clinic.clinician, TODAY).drafts
    assert voided.id not in {d.record_id for d in drafts}


def test_an_amended_adverse_event_is_followed_up_once(clinic: VoidingClinic) -> None:
    """A signed event and its correction are one event on the worklist (the latest)."""
    patient = clinic.patient("Amended")
    event = clinic.events.report(clinic.clinician, patient.id, _event())
    signed = clinic.events.sign(clinic.clinician, event.id, event.version)
    amended = clinic.events.amend(clinic.clinician, signed.id)
    items = clinic.follow_ups.worklist(clinic.clinician, TODAY, 30)
    assert [i.record_id for i in items if i.kind == "adverse_event_follow_up"] == [amended.id]


def test_a_void_needs_a_reason_and_happens_once(clinic: VoidingClinic) -> None:
    """No reason, or a second void, is refused; the record itself is kept unchanged."""
    patient = clinic.patient("Once")
    event = clinic.events.report(clinic.clinician, patient.id, _event())
    with pytest.raises(InputError, match="'reason'"):
        clinic.events.void(clinic.clinician, event.id, "   ")
    void = clinic.events.void(clinic.clinician, event.id, "wrong  patient")
    assert (void.reason, void.record_type, void.voided_by) == (
        "wrong patient", "adverse_event", clinic.clinician.user_id)  # fmt: skip
    with pytest.raises(ConflictError, match="already voided"):
        clinic.events.void(clinic.clinician, event.id, "again")
    opened = clinic.events.open(clinic.clinician, event.id)
    assert opened.record == event
    assert opened.void == void


def test_a_signed_record_is_voided_only_by_a_role_that_signs(clinic: VoidingClinic) -> None:
    """A nurse may void a draft adverse event she may write but not a signed one (she does
    not sign them); reception voids nothing."""
    patient = clinic.patient("Signed")
    nurse = clinic.staff.principal(Role.NURSE)
    draft = clinic.events.report(nurse, patient.id, _event())
    signed_one = clinic.events.report(nurse, patient.id, _event())
    signed = clinic.events.sign(clinic.clinician, signed_one.id, signed_one.version)
    with pytest.raises(PermissionDeniedError):
        clinic.events.void(clinic.staff.principal(Role.RECEPTION), draft.id, "error")
    with pytest.raises(PermissionDeniedError):
        clinic.events.void(nurse, signed.id, "error")
    clinic.events.void(nurse, draft.id, "error")
    clinic.events.void(clinic.clinician, signed.id, "error")
    assert clinic.events.voided_ids(clinic.clinician, patient.id) == {draft.id, signed.id}


def test_every_void_is_audited_without_its_reason(clinic: VoidingClinic) -> None:
    """The void is in the chain as session.void; the reason's words are not."""
    patient = clinic.treated("Audited")
    session = clinic.sessions.create(clinic.clinician, patient.id, SESSION)
    clinic.sessions.void(clinic.clinician, session.id, "Nguyen Lan typed twice")
    (entry,) = [s.entry for s in clinic.uow.store.audit if s.entry.event_type == "session.void"]
    assert entry.entity_id == session.id
    assert "Nguyen" not in repr(entry)


def test_the_patient_header_reads_only_what_can_change_its_answers(clinic: VoidingClinic) -> None:
    """For patients with nothing, a plan and sessions (one voided), a withdrawn consent and a
    voided event, the header's reader gives the follow-ups and consents the full reader gives,
    and skips sessions, withdrawals and voids where no plan, consent or voidable record is."""
    new = clinic.patient("Nothing")
    treated = clinic.treated("Treated")
    clinic.sessions.create(clinic.clinician, treated.id, SESSION)
    twice = clinic.sessions.create(clinic.clinician, treated.id, SESSION)
    clinic.sessions.void(clinic.clinician, twice.id, "entered twice")
    withdrawn = clinic.treated("Withdrawn")
    consent = clinic.consents.list_for_patient(clinic.clinician, withdrawn.id)[0]
    clinic.consents.withdraw(clinic.clinician, consent.consent.id, None)
    bruised = clinic.patient("Bruised")
    event = clinic.events.report(clinic.clinician, bruised.id, _event())
    clinic.events.void(clinic.clinician, event.id, "wrong patient")
    clinic_ids = clinic.clinician.clinic_ids
    for patient in (new, treated, withdrawn, bruised):
        with clinic.uow() as uow:
            full = read_follow_up_records(uow, clinic_ids, {"patient_id": patient.id})
            lean, also = read_patient_follow_up_records(uow, clinic_ids, patient.id)
        assert also == []
        assert follow_ups_of(lean) == follow_ups_of(full), patient.family_name
        newest = max(full.screenings, key=lambda s: (s.created_at, s.id), default=None)
        assert lean.consents == full.consents
        assert lean.screenings == ([newest] if newest else [])
        assert {w.consent_id for w in lean.withdrawals} == {w.consent_id for w in full.withdrawals}
    with clinic.uow() as uow:
        nothing, _ = read_patient_follow_up_records(uow, clinic_ids, new.id)
    assert (nothing.sessions, nothing.withdrawals, nothing.voided) == ([], [], frozenset())
