"""The header on every patient page: who the patient is and what a clinician must not miss.

Read in one transaction with a fixed set of queries whatever the patient's history (no query
per record), each reading what the header shows: the latest signed, uncorrected screening,
the newest screening, the latest photo (one row each, however many there are), the consents,
and the records the follow-up rule reads for the next due date, together (one query where the
database allows), then the records they make count (sessions of a plan, withdrawals of a
consent, voids of a plan or an event) only when there are such. A role without
``clinical:read`` gets the demographics alone (name, age), as the patient list shows them.

Alerts come from the latest signed, uncorrected screening: the allergies the patient named,
the findings that contraindicate treatment, and the ingredients the screening excludes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.dates import age_in_years
from mesoscreen.domain.records import Patient, Photo, RecordStatus, Screening
from mesoscreen.domain.vocabulary import Outcome
from mesoscreen.services.follow_up import (
    FollowUpRecords,
    follow_ups_of,
    read_patient_follow_up_records,
)
from mesoscreen.services.ports import RecordRead, UnitOfWork
from mesoscreen.services.recording import RecordsUseCases, Target


class ConsentStanding(StrEnum):
    """Where the patient's consent stands."""

    NONE = "none"
    AWAITING_COUNTERSIGNATURE = "awaiting_countersignature"
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Exclusion:
    """An ingredient the screening rules out: its id and names in each language."""

    ingredient: str
    names: dict[str, str]


@dataclass(frozen=True, slots=True)
class Alerts:
    """What the latest signed screening warns about; ``screening_id`` None when none."""

    screening_id: str | None = None
    screened_on: date | None = None
    allergies: tuple[str, ...] = ()
    contraindications: tuple[str, ...] = ()  # the categories of contraindicating findings
    exclusions: tuple[Exclusion, ...] = ()

    @property
    def any(self) -> bool:
        """Whether there is anything to warn about."""
        return bool(self.allergies or self.contraindications or self.exclusions)


@dataclass(frozen=True, slots=True)
class NextDue:
    """The earliest open follow-up: what (a follow-up kind) and when."""

    kind: str
    due_on: date
    overdue: bool


@dataclass(frozen=True, slots=True)
class PatientHeader:
    """The patient header's facts."""

    patient: Patient
    age_years: int | None
    clinical: bool
    photo: Photo | None = None
    alerts: Alerts = Alerts()
    consent: ConsentStanding = ConsentStanding.NONE
    next_due: NextDue | None = None


def alerts_of(screening: Screening | None) -> Alerts:
    """The alerts of a stored screening (read without trusting its decision's shape)."""
    if screening is None:
        return Alerts()
    decision: Any = screening.decision if isinstance(screening.decision, dict) else {}
    named = screening.answers.get("allergens") if isinstance(screening.answers, dict) else None
    allergies = tuple(str(a) for a in named if str(a).strip()) if isinstance(named, list) else ()
    findings = [f for f in decision.get("findings", []) if isinstance(f, dict)]
    contraindications = tuple(dict.fromkeys(
        str(f.get("category")) for f in findings
        if f.get("outcome") == Outcome.CONTRAINDICATED.value))  # fmt: skip
    exclusions = []
    for excluded in decision.get("excluded_ingredients", []):
        if isinstance(excluded, dict) and isinstance(excluded.get("ingredient"), str):
            given = excluded.get("name")
            names = {str(k): str(v) for k, v in given.items()} if isinstance(given, dict) else {}
            exclusions.append(Exclusion(excluded["ingredient"], names))
    unique = tuple({e.ingredient: e for e in exclusions}.values())
    return Alerts(screening.id, screening.screening_date, allergies, contraindications, unique)


def _consent_standing(records: FollowUpRecords) -> ConsentStanding:
    withdrawn = {w.consent_id for w in records.withdrawals}
    consents = records.consents
    if any(c.status == RecordStatus.SIGNED and c.id not in withdrawn for c in consents):
        return ConsentStanding.ACTIVE
    if any(c.status != RecordStatus.SIGNED and c.id not in withdrawn for c in consents):
        return ConsentStanding.AWAITING_COUNTERSIGNATURE
    return ConsentStanding.WITHDRAWN if consents else ConsentStanding.NONE


class PatientHeaders(RecordsUseCases):
    """The patient header's use case."""

    def for_patient(self, principal: Principal, patient: str | Patient) -> PatientHeader:
        """The header of ``patient`` as ``principal`` may see it (audited as a read):
        by id, or the Patient a use case of the same page has just read (not read again)."""
        patient_id = patient if isinstance(patient, str) else patient.id
        target = Target("Patient", patient_id)
        with self.transaction(principal, "patient.header", AuditAction.READ, target) as uow:
            self.require(principal, Permission.PATIENT_READ)
            if isinstance(patient, str):
                patient = uow.patients.get(patient_id, principal.clinic_ids)
            else:
                self.require_patient_clinic(principal, patient)
            today = self.clock.today()
            age = age_in_years(patient.birth_date, today) if patient.birth_date else None
            header = PatientHeader(patient, age, clinical=False)
            if principal.can(Permission.CLINICAL_READ):
                header = self._clinical(uow, principal.clinic_ids, patient, age, today)
            seen = Target("Patient", patient.id, patient.clinic_id, patient.id)
            uow.audit.append(self.entry(principal, "patient.header", AuditAction.READ, seen))
            uow.commit()
            return header

    @staticmethod
    def _clinical(
        uow: UnitOfWork, clinic_ids: frozenset[str], patient: Patient, age: int | None, today: date
    ) -> PatientHeader:
        # The patient's records read once, for the alerts (the latest signed screening that
        # no record replaces), the photo, the consent and the due date: one query, and a
        # second for the records the first ones make count.
        where = {"patient_id": patient.id}
        records, (signed, photo) = read_patient_follow_up_records(
            uow, clinic_ids, patient.id,
            RecordRead("screenings", where, latest_by=("created_at",), signed=True, current=True),
            RecordRead("photos", where, latest_by=("taken_on", "created_at"), current=True),
        )  # fmt: skip
        due = [NextDue(kind, due_on, due_on < today) for kind, due_on, *_ in follow_ups_of(records)]
        return PatientHeader(
            patient,
            age,
            clinical=True,
            photo=photo[0] if photo else None,
            alerts=alerts_of(signed[0] if signed else None),
            consent=_consent_standing(records),
            next_due=min(due, key=lambda d: (d.due_on, d.kind), default=None),
        )
