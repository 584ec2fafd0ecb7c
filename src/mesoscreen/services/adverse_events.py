"""Adverse events: a complication from the knowledge base's catalogue or free text, graded."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import ClassVar

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.errors import ConflictError, InputError
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import AdverseEvent, EventOutcome, RecordStatus, StaleVersionError
from mesoscreen.services.ports import Clock, RecordRepository, UnitOfWork, UnitOfWorkFactory
from mesoscreen.services.recording import FormKey, Target
from mesoscreen.services.signable import SignableKind, SignableRecords

# Severity grades 1 (mild) to 5 (death), as in CTCAE.
SEVERITY_GRADES = range(1, 6)
# The outcomes an event ends with (the others say it goes on).
ENDING_OUTCOMES = (EventOutcome.RESOLVED, EventOutcome.RESOLVED_WITH_SEQUELAE, EventOutcome.FATAL)


@dataclass(frozen=True, slots=True)
class EventDetails:
    """What happened, when, how bad, what was done and how it ended."""

    onset_at: datetime
    severity_grade: int
    outcome: EventOutcome
    complication_id: str | None = None
    description: str | None = None
    session_id: str | None = None
    actions_taken: str | None = None
    follow_up_on: date | None = None


class AdverseEventRecords(SignableRecords[AdverseEvent]):
    """Adverse events of the caller's clinics; clinicians sign the report."""

    kind = SignableKind(
        "adverse_event",
        "AdverseEvent",
        Permission.ADVERSE_EVENT_WRITE,
        Permission.ADVERSE_EVENT_SIGN,
    )
    editable_fields: ClassVar[frozenset[str]] = frozenset(
        {
            "onset_at",
            "severity_grade",
            "outcome",
            "complication_id",
            "description",
            "session_id",
            "actions_taken",
            "follow_up_on",
        }
    )

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, complication_ids: Collection[str]
    ) -> None:
        super().__init__(uow, clock)
        self.complication_ids = frozenset(complication_ids)

    def repository(self, uow: UnitOfWork) -> RecordRepository[AdverseEvent]:
        """The adverse events."""
        return uow.adverse_events

    def validate(self, uow: UnitOfWork, principal: Principal, record: AdverseEvent) -> AdverseEvent:
        """Check the catalogue entry, grade, dates and the session it followed."""
        if record.complication_id is None and not (record.description or "").strip():
            raise InputError(
                "adverse event: needs a complication_id from the catalogue or a description "
                "(got neither)",
                problems=problem(Reason.EVENT_NEEDS_WHAT, "complication_id"),
            )
        if (
            record.complication_id is not None
            and record.complication_id not in self.complication_ids
        ):
            raise InputError(
                f"adverse event 'complication_id': expected one of "
                f"{', '.join(sorted(self.complication_ids))} (got '{record.complication_id}')",
                problems=problem(Reason.NOT_A_CHOICE, "complication_id"),
            )
        if record.severity_grade not in SEVERITY_GRADES:
            raise InputError(
                f"adverse event 'severity_grade': expected 1 to 5 (got {record.severity_grade})",
                problems=problem(
                    Reason.OUT_OF_RANGE,
                    "severity_grade",
                    low=1,
                    high=5,
                    got=record.severity_grade,
                    unit="",
                ),
            )
        EventOutcome(record.outcome)
        if record.onset_at > self.clock.now():
            raise InputError(
                "adverse event 'onset_at': must not lie in the future "
                f"(got {record.onset_at.isoformat()})",
                problems=problem(Reason.IN_THE_FUTURE, "onset_at", got=record.onset_at),
            )
        if record.follow_up_on is not None and record.follow_up_on < record.onset_at.date():
            raise InputError(
                "adverse event 'follow_up_on': must not be before the onset "
                f"(got {record.follow_up_on.isoformat()})",
                problems=problem(Reason.BEFORE_ONSET, "follow_up_on", got=record.follow_up_on),
            )
        if record.session_id is not None:
            session = uow.treatment_sessions.get(record.session_id, principal.clinic_ids)
            if session.patient_id != record.patient_id:
                raise InputError(
                    f"adverse event 'session_id': expected a session of this patient "
                    f"(got session '{session.id}')",
                    problems=problem(Reason.OTHER_PATIENTS_RECORD, "session_id"),
                )
        return record

    def resolve(
        self,
        principal: Principal,
        event_id: str,
        expected_version: int,
        outcome: EventOutcome,
        resolved_on: date,
    ) -> AdverseEvent:
        """Record how and when the event ended; it then leaves the worklist and the Today page.

        A draft is resolved in place; a signed event is never changed, so its resolution is a
        new draft version replacing it (to be signed like any correction).
        """
        verb = "adverse_event.resolve"
        target = Target("AdverseEvent", event_id)
        with self.transaction(principal, verb, AuditAction.UPDATE, target) as uow:
            self.require(principal, Permission.ADVERSE_EVENT_WRITE)
            current = uow.adverse_events.get(event_id, principal.clinic_ids)
            self.refuse_voided(uow, principal, current)
            if current.resolved_on is not None:
                raise ConflictError(
                    f"adverse event '{current.id}': already resolved on "
                    f"{current.resolved_on.isoformat()}"
                )
            if outcome not in ENDING_OUTCOMES:
                expected = ", ".join(o.value for o in ENDING_OUTCOMES)
                raise InputError(
                    f"adverse event 'outcome': expected one of {expected} (got '{outcome}')"
                )
            if resolved_on > self.clock.today():
                raise InputError(
                    "adverse event 'resolved_on': must not lie in the future "
                    f"(got {resolved_on.isoformat()})"
                )
            if resolved_on < current.onset_at.date():
                raise InputError(
                    "adverse event 'resolved_on': must not be before the onset "
                    f"(got {resolved_on.isoformat()})"
                )
            if current.version != expected_version:
                raise StaleVersionError(
                    f"adverse event '{current.id}': expected version {expected_version} "
                    f"(got {current.version})"
                )
            if current.status == RecordStatus.SIGNED:
                draft = self.new_version(uow, principal, current, outcome=outcome.value,
                                         resolved_on=resolved_on)  # fmt: skip
                resolved = self.validate(uow, principal, draft)
                uow.adverse_events.add(resolved)
            else:
                edited = replace(
                    current,
                    outcome=outcome.value,
                    resolved_on=resolved_on,
                    updated_at=self.clock.now(),
                    version=current.version + 1,
                )
                resolved = self.validate(uow, principal, edited)
                uow.adverse_events.save(resolved, expected_version)
            done = Target("AdverseEvent", resolved.id, resolved.clinic_id, resolved.patient_id)
            uow.audit.append(self.entry(principal, verb, AuditAction.UPDATE, done))
            uow.commit()
            return resolved

    def report(
        self,
        principal: Principal,
        patient_id: str,
        details: EventDetails,
        form_key: FormKey | None = None,
    ) -> AdverseEvent:
        """Record a draft adverse event for the patient."""
        target = Target("AdverseEvent", patient_id=patient_id)
        with self.transaction(principal, "adverse_event.create", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.ADVERSE_EVENT_WRITE)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            now = self.clock.now()
            event = AdverseEvent(
                id=str(uuid.uuid4()),
                clinic_id=patient.clinic_id,
                patient_id=patient.id,
                session_id=details.session_id,
                complication_id=details.complication_id,
                description=details.description,
                onset_at=details.onset_at,
                severity_grade=details.severity_grade,
                actions_taken=details.actions_taken,
                outcome=details.outcome.value,
                follow_up_on=details.follow_up_on,
                status=RecordStatus.DRAFT.value,
                replaces_id=None,
                created_by=principal.user_id,
                created_at=now,
                updated_at=now,
            )
            return self.store_new(uow, principal, event, form_key)
