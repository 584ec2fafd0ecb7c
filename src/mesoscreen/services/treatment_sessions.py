"""Treatment sessions: points injected, products with lot and expiry, volumes, depth, operator."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, ClassVar

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.consent import ConsentTemplates
from mesoscreen.domain.errors import ConflictError, InputError, NotFoundError
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import PlanRecord, RecordStatus, TreatmentSession
from mesoscreen.services.consents import require_consent_for_session
from mesoscreen.services.plan_gate import PlanGate
from mesoscreen.services.ports import Clock, RecordRepository, UnitOfWork, UnitOfWorkFactory
from mesoscreen.services.recording import FormKey, Target
from mesoscreen.services.signable import SignableKind, SignableRecords


@dataclass(frozen=True, slots=True)
class SessionDetails:
    """What was done in one session; ``operator_id`` defaults to the recording user."""

    performed_at: datetime
    points: Sequence[Mapping[str, Any]]
    products: Sequence[Mapping[str, Any]]
    depth_mm: float
    plan_id: str | None = None
    operator_id: str | None = None
    notes: str | None = None


class TreatmentSessionRecords(SignableRecords[TreatmentSession]):
    """Treatment sessions of the caller's clinics."""

    kind = SignableKind("session", "Procedure", Permission.SESSION_WRITE, Permission.SESSION_SIGN)
    editable_fields: ClassVar[frozenset[str]] = frozenset(
        {"performed_at", "points", "products", "depth_mm", "plan_id", "operator_id", "notes"}
    )

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        consent_templates: ConsentTemplates,
        plan_gate: PlanGate,
    ) -> None:
        super().__init__(uow, clock)
        self.consent_templates = consent_templates
        self.plan_gate = plan_gate

    def repository(self, uow: UnitOfWork) -> RecordRepository[TreatmentSession]:
        """The treatment sessions."""
        return uow.treatment_sessions

    def validate(
        self, uow: UnitOfWork, principal: Principal, record: TreatmentSession
    ) -> TreatmentSession:
        """Check plan, operator, date and products; compute the total volume.

        A new session from a plan needs the plan to pass the plan gate now (its screening
        current, the knowledge base in force, the document what the planner makes) and may
        not fall before the screening's earliest date. A correction of a recorded session
        (an amendment) records what was done and is not gated again.
        """
        if record.performed_at > self.clock.now():
            raise InputError(
                "session 'performed_at': must not lie in the future "
                f"(got {record.performed_at.isoformat()})",
                problems=problem(Reason.IN_THE_FUTURE, "performed_at", got=record.performed_at),
            )
        if record.plan_id is not None:
            plan = uow.plans.get(record.plan_id, principal.clinic_ids)
            if plan.patient_id != record.patient_id or plan.status != RecordStatus.SIGNED:
                raise InputError(
                    f"session 'plan_id': expected a signed plan of this patient "
                    f"(got plan '{plan.id}', {plan.status})",
                    problems=problem(Reason.PLAN_NOT_SIGNED, "plan_id"),
                )
            if record.replaces_id is None:
                self._check_plan(uow, principal, plan, record.performed_at.date())
        operator = uow.users.get(record.operator_id)
        if record.clinic_id not in operator.clinic_ids or operator.disabled:
            raise NotFoundError(f"user '{record.operator_id}': not found")
        day: date = record.performed_at.date()
        for product in record.products:
            expiry = date.fromisoformat(str(product["expiry"]))
            if expiry < day:
                raise InputError(
                    f"session product '{product['name']}' lot '{product['lot_number']}': "
                    f"expired on {expiry.isoformat()} (session on {day.isoformat()})",
                    problems=problem(
                        Reason.PRODUCT_EXPIRED,
                        "expiry",
                        product=str(product["name"]),
                        lot=str(product["lot_number"]),
                        expiry=expiry,
                    ),
                )
        total = round(sum(float(point["volume_ml"]) for point in record.points), 3)
        return replace(record, total_volume_ml=total)

    def _check_plan(
        self, uow: UnitOfWork, principal: Principal, plan: PlanRecord, day: date
    ) -> None:
        """The plan passes the gate and ``day`` is not before the screening's earliest date."""
        try:
            gated = self.plan_gate.check(uow, principal.clinic_ids, plan)
        except (InputError, ConflictError) as refused:
            raise InputError(
                f"session 'plan_id': plan '{plan.id}' fails the plan safety gate ({refused})",
                problems=problem(Reason.PLAN_FAILS_GATE, "plan_id") + refused.problems,
            ) from None
        earliest = gated.earliest_date
        if earliest is not None and day < earliest:
            raise InputError(
                f"session 'performed_at': {day.isoformat()} is before {earliest.isoformat()}, "
                "the earliest date the screening allows",
                problems=problem(
                    Reason.BEFORE_EARLIEST_DATE, "performed_at", got=day, earliest=earliest
                ),
            )

    def create(
        self,
        principal: Principal,
        patient_id: str,
        details: SessionDetails,
        form_key: FormKey | None = None,
    ) -> TreatmentSession:
        """Record a draft session for the patient; ConsentRequiredError without consent."""
        target = Target("Procedure", patient_id=patient_id)
        with self.transaction(principal, "session.create", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.SESSION_WRITE)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            require_consent_for_session(
                uow, principal.clinic_ids, patient.id, details.plan_id,
                self.consent_templates, self.clock.today(),
            )  # fmt: skip
            now = self.clock.now()
            session = TreatmentSession(
                id=str(uuid.uuid4()),
                clinic_id=patient.clinic_id,
                patient_id=patient.id,
                plan_id=details.plan_id,
                performed_at=details.performed_at,
                operator_id=details.operator_id or principal.user_id,
                points=[dict(p) for p in details.points],
                products=[dict(p) for p in details.products],
                depth_mm=details.depth_mm,
                total_volume_ml=0.0,
                notes=details.notes,
                status=RecordStatus.DRAFT.value,
                replaces_id=None,
                created_by=principal.user_id,
                created_at=now,
                updated_at=now,
            )
            return self.store_new(uow, principal, session, form_key)
