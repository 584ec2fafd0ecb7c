"""Required actions: record what an allergy test, a clearance or a review came to.

Each completion is a new record (the latest for an action counts), so the
history of results is kept; a specialist clearance names who gave it and when.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.errors import InputError
from mesoscreen.domain.knowledge_base import ActionKind
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import ActionCompletion, ActionResult, Page, Screening
from mesoscreen.services.ports import UnitOfWork
from mesoscreen.services.recording import (
    FormKey,
    RecordsUseCases,
    Target,
    every_record,
    page_bounds,
)

# Which results make sense for each kind of action.
RESULTS_BY_KIND: dict[str, frozenset[ActionResult]] = {
    ActionKind.ALLERGY_TEST.value: frozenset({ActionResult.NEGATIVE, ActionResult.POSITIVE}),
    ActionKind.SKIN_ASSESSMENT.value: frozenset({ActionResult.NEGATIVE, ActionResult.POSITIVE}),
    ActionKind.SPECIALIST_CLEARANCE.value: frozenset(
        {ActionResult.CLEARED, ActionResult.NOT_CLEARED}
    ),
    ActionKind.MEDICAL_REVIEW.value: frozenset({ActionResult.DONE}),
    ActionKind.RESCREEN.value: frozenset({ActionResult.DONE}),
}


@dataclass(frozen=True, slots=True)
class ActionReport:
    """What the clinic reports for one required action."""

    action_id: str
    result: ActionResult
    performed_on: date
    cleared_by: str | None = None
    cleared_at: datetime | None = None
    note: str | None = None


def required_actions(screening: Screening) -> dict[str, dict[str, object]]:
    """The screening's required actions by id, as stored in its decision snapshot."""
    listed = screening.decision.get("required_actions", [])
    return {str(a["id"]): dict(a) for a in listed}


def _latest_completions(
    uow: UnitOfWork, screening: Screening, clinic_ids: Collection[str]
) -> dict[str, ActionCompletion]:
    """The latest recorded completion of each action of the screening."""
    latest: dict[str, ActionCompletion] = {}
    where = {"screening_id": screening.id}
    for completion in every_record(uow.action_completions, clinic_ids, where):
        latest[completion.action_id] = completion
    return latest


def blocking_actions_open(
    uow: UnitOfWork, screening: Screening, clinic_ids: Collection[str]
) -> list[str]:
    """Ids of the screening's treatment-blocking actions whose latest result is not done."""
    latest = _latest_completions(uow, screening, clinic_ids)
    return sorted(
        action_id
        for action_id, action in required_actions(screening).items()
        if action.get("blocks_treatment", True)
        and not (action_id in latest and latest[action_id].done)
    )


def done_actions(uow: UnitOfWork, screening: Screening, clinic_ids: Collection[str]) -> list[str]:
    """Ids of the screening's required actions whose latest recorded result is done."""
    latest = _latest_completions(uow, screening, clinic_ids)
    return sorted(action_id for action_id, completion in latest.items() if completion.done)


def _target(completion: ActionCompletion) -> Target:
    return Target("ActionCompletion", completion.id, completion.clinic_id, completion.patient_id)


class RequiredActionRecords(RecordsUseCases):
    """Completions of required actions for screenings of the caller's clinics."""

    def _validate(self, screening: Screening, report: ActionReport) -> str:
        """The action's kind, after checking the report fits it; InputError otherwise."""
        actions = required_actions(screening)
        if report.action_id not in actions:
            expected = ", ".join(sorted(actions)) or "none"
            raise InputError(
                f"action '{report.action_id}': not required by this screening "
                f"(expected one of: {expected})",
                problems=problem(Reason.ACTION_NOT_REQUIRED, "action_id"),
            )
        kind = str(actions[report.action_id]["kind"])
        allowed = RESULTS_BY_KIND.get(kind, frozenset(ActionResult))
        if report.result not in allowed:
            raise InputError(
                f"action '{report.action_id}' result: expected one of "
                f"{', '.join(sorted(allowed))} for a {kind} (got '{report.result.value}')",
                problems=problem(Reason.NOT_A_CHOICE, "result"),
            )
        if report.performed_on > self.clock.today():
            raise InputError(
                f"action '{report.action_id}' performed_on: must not lie in the future "
                f"(got {report.performed_on.isoformat()})",
                problems=problem(Reason.IN_THE_FUTURE, "performed_on", got=report.performed_on),
            )
        if kind == ActionKind.SPECIALIST_CLEARANCE.value and (
            not report.cleared_by or report.cleared_at is None
        ):
            raise InputError(
                f"action '{report.action_id}': a specialist clearance needs cleared_by and "
                "cleared_at (got one or both missing)",
                problems=problem(Reason.CLEARANCE_NEEDS_WHO_AND_WHEN, "cleared_by"),
            )
        return kind

    def record(
        self,
        principal: Principal,
        screening_id: str,
        report: ActionReport,
        form_key: FormKey | None = None,
    ) -> ActionCompletion:
        """Record the result of one required action of the screening."""
        target = Target("ActionCompletion")
        with self.transaction(principal, "action.record", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.ACTION_RECORD)
            screening = uow.screenings.get(screening_id, principal.clinic_ids)
            kind = self._validate(screening, report)
            completion = ActionCompletion(
                id=str(uuid.uuid4()),
                clinic_id=screening.clinic_id,
                patient_id=screening.patient_id,
                screening_id=screening.id,
                action_id=report.action_id,
                kind=kind,
                result=report.result.value,
                done=report.result.done,
                performed_on=report.performed_on,
                cleared_by=report.cleared_by,
                cleared_at=report.cleared_at,
                note=report.note,
                recorded_by=principal.user_id,
                recorded_at=self.clock.now(),
            )
            uow.action_completions.add(completion)
            self.claim(uow, form_key, completion.clinic_id, completion.id)
            uow.audit.append(
                self.entry(principal, "action.record", AuditAction.CREATE, _target(completion))
            )
            uow.commit()
            return completion

    def get(self, principal: Principal, completion_id: str) -> ActionCompletion:
        """One recorded completion."""
        target = Target("ActionCompletion", completion_id)
        with self.transaction(principal, "action.read", AuditAction.READ, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            completion = uow.action_completions.get(completion_id, principal.clinic_ids)
            uow.audit.append(
                self.entry(principal, "action.read", AuditAction.READ, _target(completion))
            )
            uow.commit()
            return completion

    def list_for_screening(
        self,
        principal: Principal,
        screening: str | Screening,
        offset: int = 0,
        limit: int | None = None,
    ) -> Page[ActionCompletion]:
        """Completions recorded for the screening, oldest first: ``screening`` is its id, or
        the screening this principal has just read (a page that shows it), which is then not
        read again; either must be in one of the principal's clinics (NotFoundError)."""
        target = Target("ActionCompletion")
        with self.transaction(principal, "action.search", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            if isinstance(screening, str):
                screening = uow.screenings.get(screening, principal.clinic_ids)
            else:
                self.require_record_clinic(principal, "screening", screening.id,
                                           screening.clinic_id)  # fmt: skip
            page = uow.action_completions.page(
                principal.clinic_ids, {"screening_id": screening.id}, *page_bounds(offset, limit)
            )
            found = Target("ActionCompletion", None, screening.clinic_id, screening.patient_id)
            uow.audit.append(self.entry(principal, "action.search", AuditAction.EXECUTE, found))
            uow.commit()
            return page
