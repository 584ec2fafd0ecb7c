"""The plan gate on fakes: every write, signature and session from a plan passes through it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest

from mesoscreen.bootstrap import intake_reader
from mesoscreen.domain.access import Principal, Role
from mesoscreen.domain.audit import AuditOutcome
from mesoscreen.domain.consent import ConsentTemplates
from mesoscreen.domain.errors import ConflictError, InputError, PlanError
from mesoscreen.domain.reasons import Reason
from mesoscreen.domain.records import ActionResult, PlanRecord, Screening
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.consent_loader import default_consent_templates
from mesoscreen.services.consents import ConsentRecords
from mesoscreen.services.patients import PatientDetails, PatientRecords
from mesoscreen.services.plans import TreatmentPlanRecords
from mesoscreen.services.required_actions import ActionReport, RequiredActionRecords
from mesoscreen.services.screening import ScreeningService
from mesoscreen.services.screening_records import ScreeningRecords
from mesoscreen.services.treatment_sessions import SessionDetails, TreatmentSessionRecords
from tests.factories import (
    ClinicStaff,
    eligible_answers,
    give_consent,
    plan_gate,
    plan_request,
)
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock
from tests.intakes import CLEAR_MALE

KB = default_knowledge_base()
HEART = dict(CLEAR_MALE) | {"cardiovascular_disease": "yes", "cardiovascular_stable": "yes"}
CLEARANCES = ("cardiologist_clearance", "dermatologist_supervision")


@dataclass
class Clinic:
    """The use cases of one clinic on fakes, sharing one plan gate."""

    uow: FakeUnitOfWorkFactory
    clock: FrozenClock
    staff: ClinicStaff

    def __post_init__(self) -> None:
        gate = plan_gate()
        templates: ConsentTemplates = default_consent_templates()
        self.patients = PatientRecords(self.uow, self.clock)
        self.screenings = ScreeningRecords(
            self.uow, self.clock, ScreeningService(KB), intake_reader(KB)
        )
        self.actions = RequiredActionRecords(self.uow, self.clock)
        self.plans = TreatmentPlanRecords(self.uow, self.clock, gate)
        self.sessions = TreatmentSessionRecords(self.uow, self.clock, templates, gate)
        self.consents = ConsentRecords(self.uow, self.clock, KB, templates)
        self.clinician: Principal = self.staff.principal(Role.CLINICIAN)

    def patient(self) -> str:
        details = PatientDetails(family_name="Tran", given_name="Minh")
        return self.patients.register(self.clinician, self.staff.clinic.id, details).id

    def screening(self, patient_id: str, answers: dict[str, Any], sign: bool = True) -> Screening:
        screening = self.screenings.screen_intake(self.clinician, patient_id, answers)
        if sign:
            screening = self.screenings.sign(self.clinician, screening.id, screening.version)
        return screening

    def done(self, screening: Screening, *actions: str) -> None:
        for action in actions:
            report = ActionReport(action, ActionResult.CLEARED, self.clock.today(), "Dr A",
                                  self.clock.now())  # fmt: skip
            self.actions.record(self.clinician, screening.id, report)

    def stored(self, table: str, record_id: str) -> Any:
        return self.uow.store.tables[table][record_id]

    def tamper(self, table: str, record_id: str, **changes: Any) -> None:
        """What someone with database access could do behind the service's back."""
        self.uow.store.tables[table][record_id] = replace(self.stored(table, record_id), **changes)

    def session(self, patient_id: str, plan_id: str) -> None:
        details = SessionDetails(
            performed_at=self.clock.now() - timedelta(minutes=5),
            points=[{"label": "p1", "volume_ml": 0.01}],
            products=[{"name": "Dutasteride", "lot_number": "L1", "expiry": "2027-06-30"}],
            depth_mm=1.5,
            plan_id=plan_id,
        )
        self.sessions.create(self.clinician, patient_id, details)


@pytest.fixture
def clinic(uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff) -> Clinic:
    """One clinic on fakes, on 25 Nov 2026."""
    return Clinic(uow, clock, staff)


def _refused_create(clinic: Clinic, screening_id: str, error: type[Exception], **request: Any
                    ) -> Exception:  # fmt: skip
    plans_before = dict(clinic.uow.store.tables.get("plans", {}))
    with pytest.raises(error) as refused:
        clinic.plans.create(clinic.clinician, screening_id, plan_request(**request))
    assert clinic.uow.store.tables.get("plans", {}) == plans_before
    last = clinic.uow.store.audit[-1].entry
    assert (last.event_type, last.outcome) == ("plan.create", AuditOutcome.FAILURE)
    return refused.value


def test_the_planner_makes_the_stored_document_from_the_request(clinic: Clinic) -> None:
    """The document holds the request, the dose in mg and the caps; the gate passes it."""
    screening = clinic.screening(clinic.patient(), eligible_answers())
    plan = clinic.plans.create(clinic.clinician, screening.id, plan_request())
    assert plan.document["request"]["stage"] == "norwood-1"
    assert plan.document["dose"]["unit"] == "mg"
    assert plan.document["point_count"] == 55
    assert clinic.plans.get_checked(clinic.clinician, plan.id)[2] is None


def test_an_excluded_ingredient_is_refused_and_nothing_is_stored(clinic: Clinic) -> None:
    """Minoxidil for stable heart disease, clearances done: refused, named, audited."""
    screening = clinic.screening(clinic.patient(), HEART)
    clinic.done(screening, *CLEARANCES)
    refused = _refused_create(clinic, screening.id, PlanError, product="minoxidil_0_5")
    assert isinstance(refused, PlanError)
    assert refused.field == "product"
    assert "excluded by finding 'cardiovascular_managed'" in str(refused)
    assert clinic.plans.create(clinic.clinician, screening.id, plan_request()).id


@pytest.mark.parametrize(
    ("request_changes", "field"),
    [
        ({"stage": "norwood-7", "spacing_cm": 0.5}, "total_volume_ml"),
        ({"depth_mm": (8.0, 9.5)}, "depth_mm"),
        ({"volume_per_point_ml": 0.5}, "volume_per_point_ml"),
        ({"product": "minoxidil_0_5", "stage": "norwood-3"}, "total_volume_ml"),
        ({"stage": None}, "zones"),
    ],
)
def test_a_request_over_a_cap_is_refused_naming_the_field(
    clinic: Clinic, request_changes: dict[str, Any], field: str
) -> None:
    """Volume per session, per point, depth range, dose: the refusal names the field."""
    screening = clinic.screening(clinic.patient(), eligible_answers())
    refused = _refused_create(clinic, screening.id, PlanError, **request_changes)
    assert isinstance(refused, PlanError)
    assert refused.field == field


def test_the_screening_must_be_signed_current_and_of_the_knowledge_base_in_force(
    clinic: Clinic,
) -> None:
    """Unsigned, superseded by a newer screening, or made with another knowledge base: 409."""
    patient = clinic.patient()
    unsigned = clinic.screening(patient, eligible_answers(), sign=False)
    assert "must be signed" in str(_refused_create(clinic, unsigned.id, ConflictError))
    older = clinic.screening(patient, eligible_answers())
    clinic.clock.advance(timedelta(minutes=1))
    newer = clinic.screening(patient, eligible_answers())
    assert "a newer screening" in str(_refused_create(clinic, older.id, ConflictError))
    clinic.tamper("screenings", newer.id, knowledge_base_hash="sha256:an-older-base")
    assert "not the one in force" in str(_refused_create(clinic, newer.id, ConflictError))


def test_no_plan_starts_before_the_screenings_earliest_date(clinic: Clinic) -> None:
    """The decision's earliest date bounds the first session, and the editor's default."""
    screening = clinic.screening(clinic.patient(), eligible_answers())
    decision = dict(screening.decision) | {"earliest_date": "2027-01-15"}
    clinic.tamper("screenings", screening.id, decision=decision)
    refused = _refused_create(clinic, screening.id, PlanError, first_session=date(2027, 1, 14))
    assert isinstance(refused, PlanError)
    assert refused.field == "first_session"
    clinic.plans.create(
        clinic.clinician, screening.id, plan_request(first_session=date(2027, 1, 15))
    )


def test_an_exclusion_lifted_by_actions_waits_for_all_of_them(clinic: Clinic) -> None:
    """Dutasteride excluded unless a pregnancy test and contraception are recorded as done."""
    screening = clinic.screening(clinic.patient(), eligible_answers())
    lifting = ["pregnancy_test_negative", "contraception_confirmed"]
    decision = dict(screening.decision) | {
        "required_actions": [
            {"id": a, "kind": "medical_review", "blocks_treatment": False, "required_by": ["x"]}
            for a in lifting
        ],
        "excluded_ingredients": [{"ingredient": "dutasteride", "rule": "pregnancy_potential",
                                  "reason": "tag:antiandrogen", "lifted_by": lifting}],
    }  # fmt: skip
    clinic.tamper("screenings", screening.id, decision=decision)
    for action in lifting:
        refused = _refused_create(clinic, screening.id, PlanError)
        assert f"still open: {', '.join(lifting[lifting.index(action) :])}" in str(refused)
        report = ActionReport(action, ActionResult.DONE, clinic.clock.today())
        clinic.actions.record(clinic.clinician, screening.id, report)
    assert clinic.plans.create(clinic.clinician, screening.id, plan_request()).id


def test_an_edit_is_a_new_request_made_by_the_planner_through_the_same_gate(
    clinic: Clinic,
) -> None:
    """A request over a cap leaves the draft as it was; a good one replaces the document."""
    screening = clinic.screening(clinic.patient(), eligible_answers())
    plan = clinic.plans.create(clinic.clinician, screening.id, plan_request())
    with pytest.raises(PlanError) as refused:
        clinic.plans.update(
            clinic.clinician, plan.id, 1, {"request": plan_request(depth_mm=(8, 9.5))}
        )
    assert refused.value.field == "depth_mm"
    assert clinic.stored("plans", plan.id) == plan
    edited = clinic.plans.update(
        clinic.clinician, plan.id, 1, {"request": plan_request(zones=("vertex",))}
    )
    assert edited.document["point_count"] > plan.document["point_count"]
    with pytest.raises(InputError, match="not editable"):
        clinic.plans.update(clinic.clinician, plan.id, 2, {"document": {"points": []}})


def test_signing_checks_the_gate_again(clinic: Clinic) -> None:
    """A document altered in storage, or a screening replaced since, cannot be signed."""
    patient = clinic.patient()
    screening = clinic.screening(patient, eligible_answers())
    plan = clinic.plans.create(clinic.clinician, screening.id, plan_request())
    document = dict(plan.document) | {"total_volume_ml": 382, "depth_mm": [8, 9.5]}
    clinic.tamper("plans", plan.id, document=document)
    with pytest.raises(PlanError, match="'total_volume_ml': the stored plan is not what"):
        clinic.plans.sign(clinic.clinician, plan.id, plan.version)
    assert clinic.stored("plans", plan.id).signed_at is None
    clinic.tamper("plans", plan.id, document=plan.document)
    clinic.clock.advance(timedelta(minutes=1))
    clinic.screening(patient, eligible_answers())
    with pytest.raises(ConflictError, match="a newer screening"):
        clinic.plans.sign(clinic.clinician, plan.id, plan.version)


def test_no_session_is_recorded_from_a_plan_that_fails_the_gate(clinic: Clinic) -> None:
    """A signed plan whose stored document was altered refuses new sessions."""
    patient = clinic.patient()
    give_consent(clinic.patients, clinic.screenings, clinic.consents, clinic.staff, patient)
    screening = clinic.screening(patient, eligible_answers())
    plan = clinic.plans.create(clinic.clinician, screening.id, plan_request())
    plan = clinic.plans.sign(clinic.clinician, plan.id, plan.version)
    clinic.clock.advance(timedelta(days=7))
    clinic.session(patient, plan.id)
    clinic.tamper("plans", plan.id, document={"points": []})
    with pytest.raises(InputError, match="fails the plan safety gate"):
        clinic.session(patient, plan.id)
    refusal = clinic.plans.get_checked(clinic.clinician, plan.id)[2]
    assert refusal is not None
    assert "'request'" in refusal.message


def test_the_stored_plans_check_reports_failing_plans_and_changes_nothing(
    clinic: Clinic,
) -> None:
    """One passing and one altered plan: both listed, the altered one with its reason."""
    screening = clinic.screening(clinic.patient(), eligible_answers())
    good = clinic.plans.create(clinic.clinician, screening.id, plan_request())
    bad = clinic.plans.create(clinic.clinician, screening.id, plan_request(zones=("vertex",)))
    clinic.tamper("plans", bad.id, document={"points": []})
    before = dict(clinic.uow.store.tables["plans"])
    results = {r.plan_id: r for r in clinic.plans.check_stored()}
    assert results[good.id].refusal is None
    assert results[bad.id].refusal is not None
    assert "request" in results[bad.id].refusal
    assert clinic.uow.store.tables["plans"] == before
    last = clinic.uow.store.audit[-1].entry
    assert last.event_type == "plan.check_stored"
    assert dict(last.detail) == {"plans": "2", "failing": "1", "source": "cli"}


def test_a_stored_plan_is_what_the_planner_makes_in_every_figure(clinic: Clinic) -> None:
    """Any single number changed in storage is caught, whichever it is."""
    screening = clinic.screening(clinic.patient(), eligible_answers())
    plan = clinic.plans.create(clinic.clinician, screening.id, plan_request())
    for field, value in (("point_count", 54), ("volume_per_point_ml", 0.02),
                         ("screening_checked", False)):  # fmt: skip
        clinic.tamper("plans", plan.id, document=dict(plan.document) | {field: value})
        stored: PlanRecord = clinic.stored("plans", plan.id)
        refusal = clinic.plans.refusal(clinic.clinician, stored)
        assert refusal is not None
        assert f"'{field}'" in refusal.message
        assert refusal.problems[0].code == Reason.PLAN_NOT_REPRODUCED


def test_no_session_from_a_plan_falls_before_the_screenings_earliest_date(
    clinic: Clinic,
) -> None:
    """The plan starts on the earliest date; a session recorded the day before is refused."""
    patient = clinic.patient()
    give_consent(clinic.patients, clinic.screenings, clinic.consents, clinic.staff, patient)
    screening = clinic.screening(patient, eligible_answers())
    clinic.tamper("screenings", screening.id,
                  decision=dict(screening.decision) | {"earliest_date": "2026-11-25"})  # fmt: skip
    plan = clinic.plans.create(
        clinic.clinician, screening.id, plan_request(first_session=date(2026, 11, 25))
    )
    plan = clinic.plans.sign(clinic.clinician, plan.id, plan.version)
    details = SessionDetails(
        performed_at=clinic.clock.now() - timedelta(days=1),
        points=[{"label": "p1", "volume_ml": 0.01}],
        products=[{"name": "Dutasteride", "lot_number": "L1", "expiry": "2027-06-30"}],
        depth_mm=1.5,
        plan_id=plan.id,
    )
    with pytest.raises(InputError, match="'performed_at': 2026-11-24 is before 2026-11-25"):
        clinic.sessions.create(clinic.clinician, patient, details)
    clinic.session(patient, plan.id)
