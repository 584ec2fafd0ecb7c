"""Follow-up that nobody forgets: next sessions, adverse-event follow-ups and re-screenings.

Three sources, each from the records themselves (nothing is stored twice):
- the next session of each current plan: its calendar's first date after the sessions already
  recorded for the patient (one per recorded session, in order), marked when consent is still
  needed, and left out once the patient has withdrawn consent;
- each adverse event's follow-up date, until the event is resolved (its latest version once);
Records voided as entered in error count for none of them.
- each deferral's earliest date, unless the patient has been screened again since.
Items are ``overdue`` before the day asked about, ``due`` from it up to the horizon.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.records import (
    AdverseEvent,
    Consent,
    ConsentWithdrawal,
    EventOutcome,
    Patient,
    PlanRecord,
    RecordStatus,
    Screening,
    TreatmentSession,
)
from mesoscreen.services.ports import RecordRead, UnitOfWork
from mesoscreen.services.recording import RecordsUseCases, Target, every_record

_CLOSED_EVENTS = frozenset({EventOutcome.RESOLVED.value, EventOutcome.FATAL.value})


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One thing to do for one patient by a date."""

    kind: str  # "session", "adverse_event_follow_up" or "rescreen"
    due_on: date
    overdue: bool
    patient: Patient
    record_id: str
    detail: str


def _current(records: Iterable[Any], voided: Collection[str] = frozenset()) -> list[Any]:
    """The records that count: not voided, and replaced by no other record of the list that
    counts, in their order (one pass, no query per record: an amendment is in the same clinic
    as what it amends). Voiding an amendment entered in error lets what it amended count."""
    listed = [r for r in records if r.id not in voided]
    replaced = {r.replaces_id for r in listed if r.replaces_id is not None}
    return [r for r in listed if r.id not in replaced]


@dataclass(frozen=True, slots=True)
class FollowUpRecords:
    """The records the follow-up rule reads, each kind read once."""

    sessions: list[TreatmentSession]
    plans: list[PlanRecord]
    withdrawals: list[ConsentWithdrawal]
    consents: list[Consent]
    events: list[AdverseEvent]
    screenings: list[Screening]
    voided: frozenset[str] = frozenset()  # ids of records voided as entered in error


def read_follow_up_records(
    uow: UnitOfWork, clinic_ids: Collection[str], where: Mapping[str, str] | None = None
) -> FollowUpRecords:
    """The records of ``clinic_ids`` matching ``where`` (``{"patient_id": ...}`` for one
    patient) that the follow-up rule reads: one query set, whatever their number."""
    where = where or {}
    return FollowUpRecords(
        sessions=list(every_record(uow.treatment_sessions, clinic_ids, where)),
        plans=list(every_record(uow.plans, clinic_ids, where)),
        withdrawals=list(every_record(uow.consent_withdrawals, clinic_ids, where)),
        consents=list(every_record(uow.consents, clinic_ids, where)),
        events=list(every_record(uow.adverse_events, clinic_ids, where)),
        screenings=list(every_record(uow.screenings, clinic_ids, where)),
        voided=frozenset(v.record_id for v in every_record(uow.record_voids, clinic_ids, where)),
    )


def read_patient_follow_up_records(
    uow: UnitOfWork, clinic_ids: Collection[str], patient_id: str, *also: RecordRead
) -> tuple[FollowUpRecords, list[tuple[Any, ...]]]:
    """One patient's records as ``read_follow_up_records`` reads them, for what
    ``follow_ups_of`` and the consent standing answer, and what each of ``also`` finds (read
    with the first of them), in two queries at most: the plans, consents, adverse events and
    the newest screening (the rule reads no other) first; then, only when they can change the
    answers, the sessions (of a plan), the withdrawals (of a consent) and the voids (of a plan
    or an event)."""
    where = {"patient_id": patient_id}
    newest = RecordRead("screenings", where, latest_by=("created_at",))
    first = (RecordRead("plans", where), RecordRead("consents", where),
             RecordRead("adverse_events", where), newest)  # fmt: skip
    plans, consents, events, screenings, *found = uow.read_together(clinic_ids, (*first, *also))
    then = [RecordRead(kind, where) for kind, needed in (
        ("treatment_sessions", plans), ("consent_withdrawals", consents),
        ("record_voids", plans or events)) if needed]  # fmt: skip
    found_then = uow.read_together(clinic_ids, then) if then else []
    later = dict(zip((r.records for r in then), found_then, strict=True))
    records = FollowUpRecords(
        sessions=list(later.get("treatment_sessions", ())),
        plans=list(plans),
        withdrawals=list(later.get("consent_withdrawals", ())),
        consents=list(consents),
        events=list(events),
        screenings=list(screenings),
        voided=frozenset(v.record_id for v in later.get("record_voids", ())),
    )
    return records, found


def follow_ups_of(records: FollowUpRecords) -> list[tuple[Any, ...]]:
    """(kind, due date, patient id, record id, detail) of every open follow-up of
    ``records``, by the rules of this module (the worklist, the Today page and the patient
    header read the same list)."""
    found: list[tuple[Any, ...]] = []
    sessions_done: dict[str, int] = defaultdict(int)
    for session in _current(records.sessions, records.voided):
        sessions_done[session.patient_id] += 1  # a corrected session counts once
    latest_plan: dict[str, Any] = {}
    for plan in _current(records.plans, records.voided):
        latest_plan[plan.patient_id] = plan
    withdrawn = {w.consent_id for w in records.withdrawals}
    consent_standing: dict[str, str] = {}  # patient id -> "active" or "withdrawn"
    for consent in records.consents:
        if consent.id in withdrawn:
            consent_standing.setdefault(consent.patient_id, "withdrawn")
        elif consent.status == RecordStatus.SIGNED:
            consent_standing[consent.patient_id] = "active"
    for patient_id, plan in latest_plan.items():
        standing = consent_standing.get(patient_id)
        if standing == "withdrawn":
            continue  # the patient withdrew consent: no further session is due
        # A stored document is read without trusting its shape (it may predate the plan
        # gate): a calendar that cannot be read gives no reminder rather than a failure.
        listed = plan.document.get("sessions") if isinstance(plan.document, dict) else None
        calendar = [s for s in listed if isinstance(s, dict)] if isinstance(listed, list) else []
        done = sessions_done[patient_id]
        if done < len(calendar):
            upcoming = calendar[done]
            label = f"session {upcoming.get('number')} ({upcoming.get('phase')})"
            if standing is None:
                label += ": consent needed first"
            try:
                day = date.fromisoformat(str(upcoming.get("date")))
            except ValueError:
                continue
            found.append(("session", day, patient_id, plan.id, label))
    for event in _current(records.events, records.voided):
        # Listed once (an amended event by its latest version), until it is resolved.
        if event.resolved_on is not None or event.outcome in _CLOSED_EVENTS:
            continue
        if event.follow_up_on is not None:
            label = event.complication_id or "adverse event"
            found.append(
                ("adverse_event_follow_up", event.follow_up_on, event.patient_id, event.id, label)
            )
    newest: dict[str, Any] = {}
    for screening in records.screenings:
        current = newest.get(screening.patient_id)
        if current is None or (screening.created_at, screening.id) > (
            current.created_at,
            current.id,
        ):
            newest[screening.patient_id] = screening
    for patient_id, screening in newest.items():
        earliest = screening.decision.get("earliest_date")
        if screening.outcome == "deferred" and earliest:
            found.append(
                (
                    "rescreen",
                    date.fromisoformat(str(earliest)),
                    patient_id,
                    screening.id,
                    "deferral ends: screen again",
                )
            )
    return found


class FollowUps(RecordsUseCases):
    """The clinic worklist and the reminder list."""

    def _collect(
        self, uow: UnitOfWork, clinic_ids: Collection[str], today: date, horizon: date
    ) -> list[FollowUp]:
        items = []
        records = read_follow_up_records(uow, clinic_ids)
        for kind, due_on, patient_id, record_id, detail in follow_ups_of(records):
            if due_on > horizon:
                continue
            patient = uow.patients.get(patient_id, clinic_ids)
            if patient.archived:
                continue
            items.append(FollowUp(kind, due_on, due_on < today, patient, record_id, detail))
        return sorted(items, key=lambda i: (i.due_on, i.patient.family_name, i.kind))

    def worklist(self, principal: Principal, today: date, within_days: int = 7) -> list[FollowUp]:
        """What is overdue, and what falls due within ``within_days`` of ``today``."""
        target = Target("Worklist")
        with self.transaction(principal, "followup.worklist", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            items = self._collect(uow, principal.clinic_ids, today, today + timedelta(within_days))
            uow.audit.append(
                self.entry(
                    principal,
                    "followup.worklist",
                    AuditAction.EXECUTE,
                    target,
                    detail={"items": str(len(items))},
                )
            )
            uow.commit()
            return items

    def reminders(self, today: date, within_days: int) -> list[FollowUp]:
        """Every clinic's list, for the local `mesoscreen reminders` command (audited as such)."""
        target = Target("Worklist")
        with self.transaction(None, "followup.reminders", AuditAction.EXECUTE, target) as uow:
            clinic_ids = [clinic.id for clinic in uow.clinics.list(None)]
            items = self._collect(uow, clinic_ids, today, today + timedelta(within_days))
            detail = {"items": str(len(items)), "source": "cli"}
            entry = self.entry(
                None, "followup.reminders", AuditAction.EXECUTE, target, detail=detail
            )
            uow.audit.append(entry)
            uow.commit()
            return items
