"""Consent on fakes: sessions refused without current consent and after withdrawal, a new
template version requiring consent again, countersigning, and the FHIR Consent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from fhir.resources.R4B import get_fhir_model_class

from mesoscreen.adapters.fhir.consent_resource import consent_resource
from mesoscreen.bootstrap import intake_reader
from mesoscreen.domain.access import Role
from mesoscreen.domain.consent import ConsentTemplates
from mesoscreen.domain.errors import (
    ConflictError,
    ConsentRequiredError,
    InputError,
    PermissionDeniedError,
)
from mesoscreen.domain.records import Patient
from mesoscreen.domain.vocabulary import Language
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.consent_loader import default_consent_templates
from mesoscreen.services.accounts import Accounts
from mesoscreen.services.consents import ConsentRecords, PatientSignature
from mesoscreen.services.patients import PatientDetails, PatientRecords
from mesoscreen.services.plans import TreatmentPlanRecords
from mesoscreen.services.screening import ScreeningService
from mesoscreen.services.screening_records import ScreeningRecords
from mesoscreen.services.treatment_sessions import SessionDetails, TreatmentSessionRecords
from tests.factories import ClinicStaff, eligible_answers, plan_gate, plan_request, seed_clinic
from tests.fakes import FakeHasher, FakeUnitOfWorkFactory, FrozenClock

KB = default_knowledge_base()
V1 = default_consent_templates().templates[0]
V2 = replace(V1, version="2", effective_from=date(2026, 12, 1), hash="sha256:version-two")


class Clinic:
    """The use cases of one clinic on fakes, with versions 1 and 2 of the template."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWorkFactory()
        self.clock = FrozenClock()
        self.staff: ClinicStaff = seed_clinic(Accounts(self.uow, self.clock, FakeHasher()))
        templates = ConsentTemplates((V1, V2))
        self.patients = PatientRecords(self.uow, self.clock)
        self.screenings = ScreeningRecords(
            self.uow, self.clock, ScreeningService(KB), intake_reader(KB)
        )
        gate = plan_gate()
        self.plans = TreatmentPlanRecords(self.uow, self.clock, gate)
        self.sessions = TreatmentSessionRecords(self.uow, self.clock, templates, gate)
        self.consents = ConsentRecords(self.uow, self.clock, KB, templates)
        self.clinician = self.staff.principal(Role.CLINICIAN)

    def patient(self) -> Patient:
        details = PatientDetails(family_name="Nguyen", given_name="Lan")
        return self.patients.register(self.clinician, self.staff.clinic.id, details)

    def signed_screening(self, patient: Patient) -> str:
        screening = self.screenings.screen_intake(self.clinician, patient.id, eligible_answers())
        return self.screenings.sign(self.clinician, screening.id, screening.version).id

    def consent(self, patient: Patient, countersign: bool = True) -> str:
        typed = PatientSignature("typed", "Nguyen Lan", True)
        taken = self.consents.take(
            self.clinician, self.signed_screening(patient), Language.EN, typed
        )
        if countersign:
            self.consents.countersign(self.clinician, taken.id, taken.version)
        return taken.id

    def plan(self, patient: Patient) -> str:
        plan = self.plans.create(self.clinician, self.signed_screening(patient), plan_request())
        return self.plans.sign(self.clinician, plan.id, plan.version).id

    def session(self, patient: Patient, plan_id: str | None = None) -> str:
        details = SessionDetails(
            performed_at=self.clock.now() - timedelta(minutes=5),
            points=[{"label": "v1", "volume_ml": 0.05}],
            products=[{"name": "Biotin", "lot_number": "L1", "expiry": "2027-06-30"}],
            depth_mm=1.5,
            plan_id=plan_id,
        )
        return self.sessions.create(self.clinician, patient.id, details).id


@pytest.fixture
def clinic() -> Clinic:
    """One clinic on fakes, on 25 Nov 2026 (version 1 in force until 1 Dec)."""
    return Clinic()


def test_a_session_is_refused_without_consent_and_after_withdrawal(clinic: Clinic) -> None:
    """None, then patient-signed only, are refused; countersigned allows; withdrawn stops."""
    patient = clinic.patient()
    with pytest.raises(ConsentRequiredError, match="got none"):
        clinic.session(patient)
    consent = clinic.consent(patient, countersign=False)
    with pytest.raises(ConsentRequiredError):
        clinic.session(patient)
    clinic.consents.countersign(clinic.clinician, consent, 1)
    clinic.session(patient)
    clinic.consents.withdraw(clinic.clinician, consent, "changed her mind")
    with pytest.raises(ConsentRequiredError, match="withdrew"):
        clinic.session(patient)
    assert not clinic.consents.get(clinic.clinician, consent).active


def test_a_new_template_version_requires_consent_again_before_a_new_course(
    clinic: Clinic,
) -> None:
    """From 1 Dec (version 2), a plan's first session needs version 2; a later session of a
    plan begun under version 1 goes on under it."""
    patient = clinic.patient()
    clinic.consent(patient)
    started = clinic.plan(patient)
    clinic.session(patient, started)
    clinic.clock.advance(timedelta(days=7))  # 2 Dec: version 2 in force
    clinic.session(patient, started)  # the course goes on
    new_course = clinic.plan(patient)
    with pytest.raises(ConsentRequiredError, match="template version 2"):
        clinic.session(patient, new_course)
    with pytest.raises(ConsentRequiredError, match="template version 2"):
        clinic.session(patient)  # a session without a plan is a first session
    clinic.consent(patient)
    clinic.session(patient, new_course)
    states = clinic.consents.list_for_patient(clinic.clinician, patient.id)
    assert [(s.consent.template_version, s.current_version) for s in states] == [
        ("1", False), ("2", True)
    ]  # fmt: skip


def test_the_text_read_must_be_the_version_signed(clinic: Clinic) -> None:
    """If version 2 came into force while the patient read version 1, signing is refused."""
    patient = clinic.patient()
    screening = clinic.signed_screening(patient)
    clinic.clock.current = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    typed = PatientSignature("typed", "Nguyen Lan", True)
    with pytest.raises(ConflictError, match="version 2 is now in force"):
        clinic.consents.take(clinic.clinician, screening, Language.EN, typed, "1")


def test_signature_and_roles_are_checked(clinic: Clinic) -> None:
    """Wrong typed name, no confirmation, a nurse countersigning, reception reading: refused."""
    patient = clinic.patient()
    screening = clinic.signed_screening(patient)
    for signature, field in (
        (PatientSignature("typed", "Someone Else", True), "signature"),
        (PatientSignature("typed", "Nguyen Lan", False), "confirmed"),
        (PatientSignature("voice", "Nguyen Lan", True), "signature_method"),
    ):
        with pytest.raises(InputError, match=field):
            clinic.consents.take(clinic.clinician, screening, Language.EN, signature)  # fmt: skip
    nurse = clinic.staff.principal(Role.NURSE)
    taken = clinic.consents.take(nurse, screening, Language.VI,
                                 PatientSignature("typed", "Lan Nguyen", True))  # fmt: skip
    with pytest.raises(PermissionDeniedError):
        clinic.consents.countersign(nurse, taken.id, taken.version)
    with pytest.raises(PermissionDeniedError):
        clinic.consents.get(clinic.staff.principal(Role.RECEPTION), taken.id)
    signed = clinic.consents.countersign(clinic.clinician, taken.id, taken.version)
    with pytest.raises(ConflictError, match="already countersigned"):
        clinic.consents.countersign(clinic.clinician, taken.id, signed.version)
    assert signed.document == taken.document  # frozen as the patient signed it
    state = clinic.consents.get(clinic.clinician, taken.id)
    assert state.intact
    altered = replace(state, consent=replace(signed, document=dict(signed.document) | {"x": 1}))
    assert not altered.intact
    assert signed.language == "vi"


def test_consent_needs_a_signed_screening_that_permits_treatment(clinic: Clinic) -> None:
    """An unsigned screening is a conflict; a contraindicated one is refused."""
    patient = clinic.patient()
    unsigned = clinic.screenings.screen_intake(clinic.clinician, patient.id, eligible_answers())
    typed = PatientSignature("typed", "Nguyen Lan", True)
    with pytest.raises(ConflictError, match="signed"):
        clinic.consents.take(clinic.clinician, unsigned.id, Language.EN, typed)
    barred = clinic.screenings.screen_intake(
        clinic.clinician, patient.id, eligible_answers() | {"cancer_history": "yes"}
    )
    clinic.screenings.sign(clinic.clinician, barred.id, barred.version)
    with pytest.raises(InputError, match="permit treatment"):
        clinic.consents.take(clinic.clinician, barred.id, Language.EN, typed)


def test_the_fhir_consent_is_valid_r4_and_follows_the_lifecycle(clinic: Clinic) -> None:
    """proposed, then active with the countersigner, then inactive with the period ended."""
    patient = clinic.patient()
    screening = clinic.signed_screening(patient)
    taken = clinic.consents.take(clinic.clinician, screening, Language.EN,
                                 PatientSignature("typed", "Nguyen Lan", True))  # fmt: skip
    model = get_fhir_model_class("Consent")
    assert model.model_validate(consent_resource(taken, None)).status == "proposed"
    signed = clinic.consents.countersign(clinic.clinician, taken.id, taken.version)
    active = consent_resource(signed, None)
    model.model_validate(active)
    assert active["status"] == "active"
    assert active["verification"][0]["verifiedWith"]["reference"] == f"Patient/{patient.id}"
    (countersigned,) = [e for e in active["extension"] if e["url"].endswith("countersigned-by")]
    practitioner = countersigned["extension"][0]["valueReference"]["reference"]
    assert practitioner == f"Practitioner/{signed.signed_by}"
    assert active["identifier"][0]["value"] == signed.document_hash
    assert "/1#sha256:" in active["policy"][0]["uri"]
    clinic.clock.advance(timedelta(days=1))
    withdrawal = clinic.consents.withdraw(clinic.clinician, taken.id, "moving abroad")
    inactive = consent_resource(signed, withdrawal)
    model.model_validate(inactive)
    assert inactive["status"] == "inactive"
    assert inactive["provision"]["period"]["end"] == withdrawal.withdrawn_at.isoformat()
