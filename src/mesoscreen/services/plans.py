"""Treatment plans: made by the planner from a request, and kept only while they pass the gate.

A client never sends a plan document: it sends the planning request (stage or zones, spacing,
head measures, product, first session, optionally volume per point and depth), and the
planner makes the document. Every write (create, edit, amendment) and every signature goes
through ``PlanGate``; a stored plan that no longer passes (its screening was replaced, the
knowledge base or formulary changed, the document was altered) is reported, never deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.errors import InputError, MesoscreenError
from mesoscreen.domain.planner.plan import PlannedTreatment
from mesoscreen.domain.planner.request import PlanRequest
from mesoscreen.domain.records import PlanRecord, RecordStatus, Screening
from mesoscreen.services.plan_gate import PlanGate
from mesoscreen.services.ports import Clock, RecordRepository, UnitOfWork, UnitOfWorkFactory
from mesoscreen.services.recording import FormKey, Target, every_record
from mesoscreen.services.signable import SignableKind, SignableRecords


@dataclass(frozen=True, slots=True)
class StoredPlanCheck:
    """One stored plan and why it fails the gate (None when it passes)."""

    plan_id: str
    clinic_id: str
    status: str
    refusal: str | None


class TreatmentPlanRecords(SignableRecords[PlanRecord]):
    """Treatment plans of the caller's clinics; only clinicians write and sign them."""

    kind = SignableKind("plan", "CarePlan", Permission.PLAN_WRITE, Permission.PLAN_SIGN)
    editable_fields: ClassVar[frozenset[str]] = frozenset({"request"})

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, gate: PlanGate) -> None:
        super().__init__(uow, clock)
        self.gate = gate

    def repository(self, uow: UnitOfWork) -> RecordRepository[PlanRecord]:
        """The plans."""
        return uow.plans

    def validate(self, uow: UnitOfWork, principal: Principal, record: PlanRecord) -> PlanRecord:
        """The plan, if it passes the gate (the planner makes exactly what is stored)."""
        self.gate.check(uow, principal.clinic_ids, record)
        return record

    def prepare_changes(
        self,
        uow: UnitOfWork,
        principal: Principal,
        current: PlanRecord,
        changes: Mapping[str, Any],
    ) -> Mapping[str, Any]:
        """An edit is a new request: the planner makes the new document from it."""
        request = changes["request"]
        if not isinstance(request, PlanRequest):
            raise InputError("plan 'request': expected a planning request")
        _, document = self.gate.build(uow, principal.clinic_ids, current.screening_id, request)
        return {"document": document}

    def check_before_signing(
        self, uow: UnitOfWork, principal: Principal, record: PlanRecord
    ) -> None:
        """Signing re-checks everything: the screening still current, the knowledge base
        still in force, the actions still done, the document still what the planner makes."""
        self.gate.check(uow, principal.clinic_ids, record)

    def create(
        self,
        principal: Principal,
        screening_id: str,
        request: PlanRequest,
        form_key: FormKey | None = None,
    ) -> PlanRecord:
        """A draft plan made by the planner from ``request``; PlanError or ConflictError when
        the gate refuses it (nothing is stored then)."""
        target = Target("CarePlan")
        with self.transaction(principal, "plan.create", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.PLAN_WRITE)
            gated, document = self.gate.build(uow, principal.clinic_ids, screening_id, request)
            screening = gated.screening
            now = self.clock.now()
            plan = PlanRecord(
                id=str(uuid.uuid4()),
                clinic_id=screening.clinic_id,
                patient_id=screening.patient_id,
                screening_id=screening.id,
                document=document,
                status=RecordStatus.DRAFT.value,
                replaces_id=None,
                created_by=principal.user_id,
                created_at=now,
                updated_at=now,
            )
            return self.store_new(uow, principal, plan, form_key)

    def preview(
        self, principal: Principal, screening_id: str, request: PlanRequest
    ) -> PlannedTreatment:
        """The plan the gate would store for ``request``, without storing it (the editor's
        preview); the same refusals as ``create``."""
        self.require(principal, Permission.PLAN_WRITE)
        with self.uow() as uow:
            gated = self.gate.screening(uow, principal.clinic_ids, screening_id)
            return self.gate.planner.plan(request, gated.screening.decision, gated.done_actions)

    def get_checked(
        self, principal: Principal, plan_id: str
    ) -> tuple[PlanRecord, bool, MesoscreenError | None]:
        """The plan, whether an amendment replaced it, and why it fails the gate (or None)."""
        plan, replaced = self.get(principal, plan_id)
        return plan, replaced, self.refusal(principal, plan)

    def screening_of(self, principal: Principal, plan: PlanRecord) -> Screening:
        """The screening ``plan`` (already read, and audited, by the caller) was made from,
        so that its map and prints can name it."""
        with self.uow() as uow:
            return uow.screenings.get(plan.screening_id, principal.clinic_ids)

    def refusal(self, principal: Principal, plan: PlanRecord) -> MesoscreenError | None:
        """Why ``plan`` (already read by the caller) fails the gate now, or None."""
        with self.uow() as uow:
            try:
                self.gate.check(uow, principal.clinic_ids, plan)
            except MesoscreenError as refused:
                return refused
        return None

    def check_stored(self) -> list[StoredPlanCheck]:
        """Every stored plan of every clinic through the gate (for `mesoscreen plans check`);
        nothing is changed, and the run is audited with its counts."""
        target = Target("CarePlan")
        with self.transaction(None, "plan.check_stored", AuditAction.EXECUTE, target) as uow:
            clinic_ids = [clinic.id for clinic in uow.clinics.list(None)]
            results = []
            for plan in every_record(uow.plans, clinic_ids, {}):
                try:
                    self.gate.check(uow, [plan.clinic_id], plan)
                    refusal = None
                except MesoscreenError as refused:
                    refusal = str(refused)
                results.append(StoredPlanCheck(plan.id, plan.clinic_id, plan.status, refusal))
            failing = sum(1 for r in results if r.refusal is not None)
            detail = {"plans": str(len(results)), "failing": str(failing), "source": "cli"}
            uow.audit.append(
                self.entry(None, "plan.check_stored", AuditAction.EXECUTE, target, detail=detail)
            )
            uow.commit()
            return results
