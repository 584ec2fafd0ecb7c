"""Outcome measures: hair count and density in the target area, shaft thickness and the
patient's self-assessment, recorded at baseline and at sessions, and their trends.

A measure is never edited: a correction is a new measure that names the one it replaces,
and the trend then uses the correction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.errors import ConflictError, InputError
from mesoscreen.domain.outcomes import (
    Measurements,
    OutcomeScales,
    Trend,
    current_measures,
    density_per_cm2,
    trends,
)
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import OutcomeMeasure
from mesoscreen.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from mesoscreen.services.recording import FormKey, RecordsUseCases, Target, every_record

RESOURCE = "Observation"  # outcome measures map to FHIR Observations


@dataclass(frozen=True, slots=True)
class OutcomeDetails:
    """What was measured, when, at which session (None for baseline), and what it corrects."""

    measured_on: date
    measurements: Measurements
    session_id: str | None = None
    note: str | None = None
    replaces_id: str | None = None


class OutcomeMeasureRecords(RecordsUseCases):
    """Outcome measures of the caller's clinics."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, scales: OutcomeScales) -> None:
        super().__init__(uow, clock)
        self.scales = scales

    def _check_links(
        self, uow: UnitOfWork, principal: Principal, patient_id: str, details: OutcomeDetails
    ) -> None:
        """The session and the corrected measure must be this patient's."""
        if details.session_id is not None:
            session = uow.treatment_sessions.get(details.session_id, principal.clinic_ids)
            if session.patient_id != patient_id:
                raise InputError(
                    f"'session_id': expected a session of this patient (got '{session.id}')",
                    problems=problem(Reason.OTHER_PATIENTS_RECORD, "session_id"),
                )
        if details.replaces_id is not None:
            earlier = uow.outcome_measures.get(details.replaces_id, principal.clinic_ids)
            if earlier.patient_id != patient_id:
                raise InputError(
                    f"'replaces_id': expected a measure of this patient (got '{earlier.id}')",
                    problems=problem(Reason.OTHER_PATIENTS_RECORD, "replaces_id"),
                )
            if uow.outcome_measures.replaced(earlier.id):
                raise ConflictError(
                    f"outcome measure '{earlier.id}': already corrected (expected the latest)",
                    problems=problem(Reason.ALREADY_CORRECTED),
                )

    def record(
        self,
        principal: Principal,
        patient_id: str,
        details: OutcomeDetails,
        form_key: FormKey | None = None,
    ) -> OutcomeMeasure:
        """Check and store a measure (or a correction of one), audited."""
        event = "outcome.correct" if details.replaces_id else "outcome.create"
        target = Target(RESOURCE, patient_id=patient_id)
        with self.transaction(principal, event, AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.OUTCOME_WRITE)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            measured_on = details.measured_on
            today = self.clock.today()
            if measured_on > today:
                raise InputError(
                    f"'measured_on': must not be after today {today.isoformat()} "
                    f"(got {measured_on.isoformat()})",
                    problems=problem(Reason.IN_THE_FUTURE, "measured_on", got=measured_on),
                )
            density = density_per_cm2(self.scales, details.measurements)
            self._check_links(uow, principal, patient.id, details)
            measured = details.measurements
            measure = OutcomeMeasure(
                id=str(uuid.uuid4()), clinic_id=patient.clinic_id, patient_id=patient.id,
                session_id=details.session_id, measured_on=measured_on,
                hair_count=measured.hair_count, area_cm2=measured.area_cm2,
                density_per_cm2=density, shaft_thickness_um=measured.shaft_thickness_um,
                self_assessment=measured.self_assessment, note=details.note,
                replaces_id=details.replaces_id, created_by=principal.user_id,
                created_at=self.clock.now(),
            )  # fmt: skip
            uow.outcome_measures.add(measure)
            self.claim(uow, form_key, measure.clinic_id, measure.id)
            done = Target(RESOURCE, measure.id, measure.clinic_id, measure.patient_id)
            uow.audit.append(self.entry(principal, event, AuditAction.CREATE, done))
            uow.commit()
            return measure

    def list_for_patient(self, principal: Principal, patient_id: str) -> list[OutcomeMeasure]:
        """Every measure of the patient that no correction replaced, oldest first (audited)."""
        target = Target(RESOURCE, patient_id=patient_id)
        with self.transaction(principal, "outcome.search", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            where = {"patient_id": patient.id}
            found = list(every_record(uow.outcome_measures, principal.clinic_ids, where))
            seen = Target(RESOURCE, None, patient.clinic_id, patient.id)
            uow.audit.append(self.entry(principal, "outcome.search", AuditAction.EXECUTE, seen))
            uow.commit()
            return current_measures(found)

    def trends_of(self, measures: list[OutcomeMeasure]) -> list[Trend]:
        """The trend of each measure among ``measures`` (already read, so already audited)."""
        return trends(self.scales, measures)
