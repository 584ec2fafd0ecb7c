"""The patient header's use case on fakes: age, alerts of the latest signed screening, consent
standing, next due date, latest photo; demographics only for reception."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from mesoscreen.bootstrap import intake_reader
from mesoscreen.domain.access import Role
from mesoscreen.domain.consent import ConsentTemplates
from mesoscreen.domain.dates import age_in_years
from mesoscreen.domain.errors import NotFoundError
from mesoscreen.domain.records import Patient
from mesoscreen.domain.vocabulary import Language
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.consent_loader import default_consent_templates
from mesoscreen.services.accounts import Accounts
from mesoscreen.services.consents import ConsentRecords, PatientSignature
from mesoscreen.services.patient_header import ConsentStanding, PatientHeaders
from mesoscreen.services.patients import PatientDetails, PatientRecords
from mesoscreen.services.photos import PhotoDetails, PhotoRecords
from mesoscreen.services.plans import TreatmentPlanRecords
from mesoscreen.services.screening import ScreeningService
from mesoscreen.services.screening_records import ScreeningRecords
from tests.factories import ClinicStaff, plan_gate, plan_request, seed_clinic
from tests.fakes import (
    FakeHasher,
    FakeRecords,
    FakeUnitOfWork,
    FakeUnitOfWorkFactory,
    FrozenClock,
)
from tests.intakes import intake
from tests.unit.services.test_photos import FakeSanitiser

KB = default_knowledge_base()


class Clinic:
    """A clinic on fakes with one patient born 12 Apr 1990."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWorkFactory()
        self.clock = FrozenClock()
        self.staff: ClinicStaff = seed_clinic(Accounts(self.uow, self.clock, FakeHasher()))
        self.clinician = self.staff.principal(Role.CLINICIAN)
        self.screenings = ScreeningRecords(
            self.uow, self.clock, ScreeningService(KB), intake_reader(KB)
        )
        self.plans = TreatmentPlanRecords(self.uow, self.clock, plan_gate())
        templates = ConsentTemplates(default_consent_templates().templates)
        self.consents = ConsentRecords(self.uow, self.clock, KB, templates)
        self.headers = PatientHeaders(self.uow, self.clock)
        details = PatientDetails("Nguyen", "Lan", birth_date=date(1990, 4, 12), sex="male")
        self.patient: Patient = PatientRecords(self.uow, self.clock).register(
            self.clinician, self.staff.clinic.id, details
        )

    def signed(self, answers: dict[str, object]) -> str:
        screening = self.screenings.screen_intake(self.clinician, self.patient.id, answers)
        self.screenings.sign(self.clinician, screening.id, screening.version)
        return screening.id


def test_ages_count_whole_years_up_to_the_birthday() -> None:
    """The day before the birthday is a year less than the birthday itself."""
    assert age_in_years(date(1990, 4, 12), date(2026, 4, 11)) == 35
    assert age_in_years(date(1990, 4, 12), date(2026, 4, 12)) == 36
    assert age_in_years(date(2000, 2, 29), date(2026, 2, 28)) == 25


def test_a_new_patient_has_an_age_and_no_alerts_consent_or_due_date() -> None:
    """Nothing recorded yet: the age, consent none, no alerts and nothing due."""
    clinic = Clinic()
    header = clinic.headers.for_patient(clinic.clinician, clinic.patient.id)
    assert header.age_years == 36
    assert header.clinical
    assert (header.alerts.screening_id, header.alerts.any) == (None, False)
    assert header.consent is ConsentStanding.NONE
    assert header.next_due is None
    assert header.photo is None


def test_alerts_come_from_the_latest_signed_screening_only() -> None:
    """The allergy named and the ingredients excluded are shown once signed; an unsigned later
    screening does not change them."""
    clinic = Clinic()
    allergic = intake("male", allergy_history="yes", allergens=["lidocaine"])
    screening_id = clinic.signed(allergic)
    clinic.screenings.screen_intake(clinic.clinician, clinic.patient.id, intake("male"))
    alerts = clinic.headers.for_patient(clinic.clinician, clinic.patient.id).alerts
    assert alerts.screening_id == screening_id
    assert alerts.allergies == ("lidocaine",)
    assert "lidocaine" in [e.ingredient for e in alerts.exclusions]
    assert alerts.contraindications == ()


def test_a_contraindicating_finding_is_an_alert_by_its_category() -> None:
    """A history of cancer contraindicates: its category is an alert; a deferral is not."""
    clinic = Clinic()
    clinic.signed(intake("male", cancer_history="yes"))
    alerts = clinic.headers.for_patient(clinic.clinician, clinic.patient.id).alerts
    assert alerts.contraindications == ("cancer",)


def test_consent_standing_and_the_next_session_due() -> None:
    """A plan from 1 Dec makes its first session the next due; a patient-signed consent awaits
    the countersignature, then is active."""
    clinic = Clinic()
    screening_id = clinic.signed(intake("male"))
    clinic.plans.create(clinic.clinician, screening_id, plan_request())
    typed = PatientSignature("typed", "Nguyen Lan", True)
    taken = clinic.consents.take(clinic.clinician, screening_id, Language.EN, typed)
    header = clinic.headers.for_patient(clinic.clinician, clinic.patient.id)
    assert header.consent is ConsentStanding.AWAITING_COUNTERSIGNATURE
    assert header.next_due is not None
    assert (header.next_due.kind, header.next_due.due_on) == ("session", date(2026, 12, 1))
    clinic.consents.countersign(clinic.clinician, taken.id, taken.version)
    signed = clinic.headers.for_patient(clinic.clinician, clinic.patient.id)
    assert signed.consent is ConsentStanding.ACTIVE
    clinic.consents.withdraw(clinic.clinician, taken.id, None)
    withdrawn = clinic.headers.for_patient(clinic.clinician, clinic.patient.id)
    assert withdrawn.consent is ConsentStanding.WITHDRAWN
    assert withdrawn.next_due is None  # no further session once consent is withdrawn


def test_the_latest_photo_is_the_thumbnail() -> None:
    """Of two photos, the one taken later."""
    clinic = Clinic()
    photos = PhotoRecords(clinic.uow, clinic.clock, FakeSanitiser())
    for day in (date(2026, 11, 20), date(2026, 11, 24)):
        photos.upload(clinic.clinician, clinic.patient.id,
                      PhotoDetails("vertex", day), b"JPEG")  # fmt: skip
    header = clinic.headers.for_patient(clinic.clinician, clinic.patient.id)
    assert header.photo is not None
    assert header.photo.taken_on == date(2026, 11, 24)


def test_the_photo_shown_is_the_latest_taken_that_no_photo_corrects() -> None:
    """A photo taken earlier but stored later is not shown; a photo corrected by one of an
    earlier day gives way to the next latest one that nothing corrects."""
    clinic = Clinic()
    photos = PhotoRecords(clinic.uow, clinic.clock, FakeSanitiser())
    latest = photos.upload(clinic.clinician, clinic.patient.id,
                           PhotoDetails("vertex", date(2026, 11, 24)), b"JPEG")  # fmt: skip
    clinic.clock.advance(timedelta(minutes=1))
    photos.upload(clinic.clinician, clinic.patient.id,
                  PhotoDetails("vertex", date(2026, 11, 20)), b"JPEG")  # fmt: skip
    header = clinic.headers.for_patient(clinic.clinician, clinic.patient.id)
    assert header.photo == latest
    clinic.clock.advance(timedelta(minutes=1))
    middle = photos.upload(clinic.clinician, clinic.patient.id,
                           PhotoDetails("vertex", date(2026, 11, 22)), b"JPEG")  # fmt: skip
    clinic.clock.advance(timedelta(minutes=1))
    photos.correct(clinic.clinician, latest.id, PhotoDetails("vertex", date(2026, 11, 21)))
    header = clinic.headers.for_patient(clinic.clinician, clinic.patient.id)
    assert header.photo == middle


def test_a_newer_draft_after_a_deferral_means_the_patient_was_screened_again() -> None:
    """The follow-up rule reads the newest screening, signed or not: a deferral signed, then
    a newer draft, leaves no re-screening due."""
    clinic = Clinic()
    deferred = intake("female", breastfeeding="no", recently_weaned="yes",
                      weaned_on="2026-10-15")  # fmt: skip
    clinic.signed(deferred)
    due = clinic.headers.for_patient(clinic.clinician, clinic.patient.id).next_due
    assert due is not None
    assert due.kind == "rescreen"
    clinic.clock.advance(timedelta(minutes=1))
    clinic.screenings.screen_intake(clinic.clinician, clinic.patient.id, intake("male"))
    assert clinic.headers.for_patient(clinic.clinician, clinic.patient.id).next_due is None


def test_reception_gets_the_demographics_alone() -> None:
    """No alerts, consent, due date or photo for a role without clinical access."""
    clinic = Clinic()
    clinic.signed(intake("male", allergy_history="yes", allergens=["lidocaine"]))
    header = clinic.headers.for_patient(clinic.staff.principal(Role.RECEPTION), clinic.patient.id)
    assert (header.clinical, header.age_years) == (False, 36)
    assert not header.alerts.any
    assert header.next_due is None


def test_the_patient_a_page_has_read_gives_the_same_header_and_stays_in_its_clinic() -> None:
    """Given the Patient a page has just read, the header is the one read by id; a patient of
    a clinic the user is not in is not found, and the refusal is audited."""
    clinic = Clinic()
    clinic.signed(intake("male", allergy_history="yes", allergens=["lidocaine"]))
    by_id = clinic.headers.for_patient(clinic.clinician, clinic.patient.id)
    assert clinic.headers.for_patient(clinic.clinician, clinic.patient) == by_id
    elsewhere = replace(clinic.patient, clinic_id="another-clinic")
    with pytest.raises(NotFoundError):
        clinic.headers.for_patient(clinic.clinician, elsewhere)
    last = clinic.uow.store.audit[-1].entry
    assert (last.event_type, last.outcome.value) == ("patient.header", "failure")


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Record each read the header makes from now on: a read of records together as the kinds
    it reads, any other read of records as the repository's kind and method (the reads the
    fake makes inside another are not counted)."""
    reads: list[tuple[str, ...]] = []
    depth = [0]

    def counting(method: Any, name: str) -> Any:
        def counted(self: Any, *args: Any, **options: Any) -> Any:
            if depth[0] == 0:
                kinds = [r.records for r in args[1]] if name == "together" else [self.kind]
                reads.append((name, *kinds))
            depth[0] += 1
            try:
                return method(self, *args, **options)
            finally:
                depth[0] -= 1

        return counted

    for name in ("get", "page", "latest"):
        monkeypatch.setattr(FakeRecords, name, counting(getattr(FakeRecords, name), name))
    together = counting(FakeUnitOfWork.read_together, "together")
    monkeypatch.setattr(FakeUnitOfWork, "read_together", together)
    return reads


def test_the_header_reads_the_records_together_and_the_ones_they_make_count_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A patient with screenings alone: one read of every kind the header shows together.
    With a plan and a consent: a second read, of the sessions, withdrawals and voids only.
    Nothing is read one kind at a time."""
    clinic = Clinic()
    screening_id = clinic.signed(intake("male"))
    reads = _reads(monkeypatch)
    clinic.headers.for_patient(clinic.clinician, clinic.patient)
    first = ("together", "plans", "consents", "adverse_events", "screenings", "screenings",
             "photos")  # fmt: skip
    assert reads == [first]
    clinic.plans.create(clinic.clinician, screening_id, plan_request())
    typed = PatientSignature("typed", "Nguyen Lan", True)
    clinic.consents.take(clinic.clinician, screening_id, Language.EN, typed)
    reads.clear()
    header = clinic.headers.for_patient(clinic.clinician, clinic.patient)
    assert header.consent is ConsentStanding.AWAITING_COUNTERSIGNATURE
    then = ("together", "treatment_sessions", "consent_withdrawals", "record_voids")
    assert reads == [first, then]


def test_the_alerts_stay_the_latest_signed_screenings_whatever_the_newest_is() -> None:
    """No screening, no alerts; a signed one gives them; a newer draft leaves them."""
    clinic = Clinic()
    assert (
        clinic.headers.for_patient(clinic.clinician, clinic.patient.id).alerts.screening_id is None
    )
    screening_id = clinic.signed(intake("male", allergy_history="yes", allergens=["lidocaine"]))
    alerts = clinic.headers.for_patient(clinic.clinician, clinic.patient.id).alerts
    assert (alerts.screening_id, alerts.allergies) == (screening_id, ("lidocaine",))
    clinic.clock.advance(timedelta(minutes=1))
    clinic.screenings.screen_intake(clinic.clinician, clinic.patient.id, intake("male"))
    alerts = clinic.headers.for_patient(clinic.clinician, clinic.patient.id).alerts
    assert (alerts.screening_id, alerts.allergies) == (screening_id, ("lidocaine",))


def test_a_newest_screening_that_a_correction_replaces_never_gives_the_alerts() -> None:
    """A signed screening corrected under a clock set back is still the newest, but replaced:
    the alerts are the signed correction's (no allergy), never the replaced one's."""
    clinic = Clinic()
    first = clinic.signed(intake("male", allergy_history="yes", allergens=["lidocaine"]))
    clinic.clock.advance(timedelta(minutes=-1))
    correction = clinic.screenings.correct(clinic.clinician, first, intake("male"))
    clinic.screenings.sign(clinic.clinician, correction.id, correction.version)
    alerts = clinic.headers.for_patient(clinic.clinician, clinic.patient.id).alerts
    assert (alerts.screening_id, alerts.allergies) == (correction.id, ())
