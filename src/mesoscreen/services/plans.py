"""Treatment plans: made only from a screening that permits treatment with its actions done.

The plan itself is a JSON document (points, products, volumes, calendar) made
by the planner; this module stores it with the screening it came from and its
signature state.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.records import RecordStatus, TreatmentPlan
from mesoscreen.services.ports import RecordRepository, UnitOfWork
from mesoscreen.services.recording import Target
from mesoscreen.services.required_actions import blocking_actions_open
from mesoscreen.services.screening_records import treatable_screening
from mesoscreen.services.signable import SignableKind, SignableRecords


class TreatmentPlanRecords(SignableRecords[TreatmentPlan]):
    """Treatment plans of the caller's clinics; only clinicians write and sign them."""

    kind = SignableKind("plan", "CarePlan", Permission.PLAN_WRITE, Permission.PLAN_SIGN)
    editable_fields: ClassVar[frozenset[str]] = frozenset({"document"})

    def repository(self, uow: UnitOfWork) -> RecordRepository[TreatmentPlan]:
        """The plans."""
        return uow.plans

    def validate(
        self, uow: UnitOfWork, principal: Principal, record: TreatmentPlan
    ) -> TreatmentPlan:
        """Plans carry any JSON document; its content is the planner's to check."""
        return record

    def create(
        self, principal: Principal, screening_id: str, document: Mapping[str, Any]
    ) -> TreatmentPlan:
        """A draft plan from the screening; PlanError unless the screening permits treatment."""
        target = Target("CarePlan")
        with self.transaction(principal, "plan.create", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.PLAN_WRITE)
            screening = treatable_screening(
                uow, principal.clinic_ids, screening_id, "planning", PlanError
            )
            still_open = blocking_actions_open(uow, screening, principal.clinic_ids)
            if still_open:
                raise PlanError(
                    f"screening '{screening.id}': required actions must be done first "
                    f"(still open: {', '.join(still_open)})"
                )
            now = self.clock.now()
            plan = TreatmentPlan(
                id=str(uuid.uuid4()),
                clinic_id=screening.clinic_id,
                patient_id=screening.patient_id,
                screening_id=screening.id,
                document=dict(document),
                status=RecordStatus.DRAFT.value,
                replaces_id=None,
                created_by=principal.user_id,
                created_at=now,
                updated_at=now,
            )
            return self.store_new(uow, principal, plan)
