"""The clinic's day: what the signed-in user should see first when they start work.

Five lists, each read from the records of the user's clinics (nothing is stored twice):
- treatment sessions due today or overdue (the follow-up rule of ``follow_up``);
- deferrals ending: deferred screenings whose earliest date falls within ``DEFERRAL_DAYS`` of
  today or has passed, unless the patient has been screened again since;
- adverse events to follow up: open events whose follow-up date is today or past;
- unsigned drafts the user's role may sign (screenings, plans, sessions, adverse events);
- consents signed by the patient and waiting for a clinician's countersignature.

Role-appropriate: a role without ``clinical:read`` (reception) sees only which patients have a
session due, with no clinical detail; the drafts and consents lists follow the signing
permissions; a role with no patient access (an administrator) sees an empty day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.records import Patient, RecordStatus
from mesoscreen.services.follow_up import (
    FollowUpRecords,
    follow_ups_of,
    read_follow_up_records,
)
from mesoscreen.services.ports import UnitOfWork
from mesoscreen.services.recording import RecordsUseCases, Target

DEFERRAL_DAYS = 14


class DraftKind(StrEnum):
    """Which kind of record an unsigned draft is."""

    SCREENING = "screening"
    PLAN = "plan"
    SESSION = "session"
    ADVERSE_EVENT = "adverse_event"


# Who may sign each kind of draft: the list shows a role only what it can act on.
_SIGNERS = {
    DraftKind.SCREENING: Permission.SCREENING_SIGN,
    DraftKind.PLAN: Permission.PLAN_SIGN,
    DraftKind.SESSION: Permission.SESSION_SIGN,
    DraftKind.ADVERSE_EVENT: Permission.ADVERSE_EVENT_SIGN,
}


@dataclass(frozen=True, slots=True)
class DayEntry:
    """One thing to do today for one patient; ``record_id`` is None when the role may not
    see which record it is about (reception)."""

    patient: Patient
    due_on: date | None
    overdue: bool = False
    record_id: str | None = None
    complication_id: str | None = None  # adverse events: the catalogue entry, if any
    draft_kind: DraftKind | None = None


@dataclass(frozen=True, slots=True)
class Day:
    """The lists of the day, each sorted by date then patient."""

    today: date
    clinical: bool
    deferral_days: int = DEFERRAL_DAYS
    sessions: list[DayEntry] = field(default_factory=list)
    deferrals_ending: list[DayEntry] = field(default_factory=list)
    follow_ups: list[DayEntry] = field(default_factory=list)
    drafts: list[DayEntry] = field(default_factory=list)
    countersignatures: list[DayEntry] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether there is nothing at all to do today."""
        lists = (self.sessions, self.deferrals_ending, self.follow_ups, self.drafts,
                 self.countersignatures)  # fmt: skip
        return not any(lists)


def _current(records: Iterable[Any], voided: frozenset[str]) -> list[Any]:
    """The records not voided that no other such record of the list replaces."""
    listed = [r for r in records if r.id not in voided]
    replaced = {r.replaces_id for r in listed if getattr(r, "replaces_id", None) is not None}
    return [r for r in listed if r.id not in replaced]


def _by_date(entries: list[DayEntry]) -> list[DayEntry]:
    return sorted(entries, key=lambda e: (e.due_on or date.min, e.patient.family_name,
                                          e.patient.given_name))  # fmt: skip


Row = tuple[str, dict[str, Any]]  # a patient id and the entry's other fields


class ClinicDay(RecordsUseCases):
    """The Today page's use case."""

    def for_user(self, principal: Principal, today: date) -> Day:
        """The day of ``principal`` in their clinics on ``today`` (audited)."""
        target = Target("Day")
        with self.transaction(principal, "day.view", AuditAction.EXECUTE, target) as uow:
            if principal.can(Permission.PATIENT_READ):
                day = self._collect(uow, principal, today)
            else:
                day = Day(today, clinical=False)
            lists = (day.sessions, day.deferrals_ending, day.follow_ups, day.drafts,
                     day.countersignatures)  # fmt: skip
            detail = {"items": str(sum(len(listed) for listed in lists))}
            entry = self.entry(principal, "day.view", AuditAction.EXECUTE, target, detail=detail)
            uow.audit.append(entry)
            uow.commit()
            return day

    def _collect(self, uow: UnitOfWork, principal: Principal, today: date) -> Day:
        clinic_ids = principal.clinic_ids
        clinical = principal.can(Permission.CLINICAL_READ)
        patients: dict[str, Patient | None] = {}

        def entries(rows: Iterable[Row]) -> list[DayEntry]:
            made = []
            for patient_id, fields in rows:
                # Each patient read once however many entries name them (the lists are a
                # day's work, not the clinic's history); archived patients drop out.
                if patient_id not in patients:
                    found = uow.patients.get(patient_id, clinic_ids)
                    patients[patient_id] = None if found.archived else found
                patient = patients[patient_id]
                if patient is not None:
                    made.append(DayEntry(patient=patient, **fields))
            return _by_date(made)

        horizon = today + timedelta(DEFERRAL_DAYS)
        sessions: list[Row] = []
        deferrals: list[Row] = []
        follow_ups: list[Row] = []
        records = read_follow_up_records(uow, clinic_ids)
        for kind, due_on, patient_id, record_id, detail in follow_ups_of(records):
            timing = {"due_on": due_on, "overdue": due_on < today}
            if kind == "session" and due_on <= today:
                # Reception learns who is due, never from which plan.
                sessions.append((patient_id, timing | {"record_id": record_id if clinical
                                                       else None}))  # fmt: skip
            elif not clinical:
                continue
            elif kind == "rescreen" and due_on <= horizon:
                deferrals.append((patient_id, timing | {"record_id": record_id}))
            elif kind == "adverse_event_follow_up" and due_on <= today:
                complication = None if detail == "adverse event" else detail
                follow_ups.append(
                    (patient_id, timing | {"record_id": record_id, "complication_id": complication})
                )
        day = Day(today, clinical, sessions=entries(sessions))
        if clinical:
            day.deferrals_ending.extend(entries(deferrals))
            day.follow_ups.extend(entries(follow_ups))
            day.drafts.extend(entries(self._drafts(records, principal)))
        if principal.can(Permission.CONSENT_COUNTERSIGN):
            day.countersignatures.extend(entries(self._awaiting(records)))
        return day

    @staticmethod
    def _drafts(records: FollowUpRecords, principal: Principal) -> list[Row]:
        """Unsigned, unreplaced records of the kinds the role may sign."""
        by_kind: dict[DraftKind, list[Any]] = {
            DraftKind.SCREENING: records.screenings,
            DraftKind.PLAN: records.plans,
            DraftKind.SESSION: records.sessions,
            DraftKind.ADVERSE_EVENT: records.events,
        }
        found: list[Row] = []
        for kind, listed in by_kind.items():
            if not principal.can(_SIGNERS[kind]):
                continue
            for record in _current(listed, records.voided):
                if record.signed_at is None:
                    fields = {"due_on": record.created_at.date(), "record_id": record.id,
                              "draft_kind": kind}  # fmt: skip
                    found.append((record.patient_id, fields))
        return found

    @staticmethod
    def _awaiting(records: FollowUpRecords) -> list[Row]:
        """Consents the patient signed that no clinician has countersigned (nor withdrawn)."""
        withdrawn = {w.consent_id for w in records.withdrawals}
        return [
            (c.patient_id, {"due_on": c.patient_signed_at.date(), "record_id": c.id})
            for c in records.consents
            if c.status != RecordStatus.SIGNED and c.id not in withdrawn
        ]
