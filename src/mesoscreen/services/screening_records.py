"""Stored screenings: screen an intake and keep the snapshot, correct it, sign it, read it.

Posting an intake (a JSON intake, a QuestionnaireResponse or one patient's FHIR Bundle, read by
``intake_reading`` as for every entry point) screens it with the engine and stores the answers, the
decision, the knowledge-base version and hash and the policy in the same
transaction as its audit entry. A snapshot is never rewritten: a correction is
a new screening that points at the one it replaces; signing only adds who
signed and when. A rule that failed while screening is named (by rule id, never
with answers) in the audit entry and in a warning log line, so the fault is
seen; the decision itself already fails closed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.errors import ConflictError, FhirInputError, InputError
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import Page, Patient, Screening
from mesoscreen.domain.vocabulary import Category, Outcome
from mesoscreen.services.intake_reading import IntakeReader
from mesoscreen.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from mesoscreen.services.recording import FormKey, RecordsUseCases, Target, page_bounds
from mesoscreen.services.screening import ScreeningService
from mesoscreen.services.signed_content import seal

_log = logging.getLogger("mesoscreen.screening")


def screening_target(screening: Screening) -> Target:
    """The audit target of a screening."""
    return Target("Screening", screening.id, screening.clinic_id, screening.patient_id)


def failed_rules(screening: Screening) -> list[str]:
    """The ids of the rules that raised while the screening was made (error findings)."""
    findings = screening.decision.get("findings", [])
    return [
        str(finding["rule"])
        for finding in findings
        if isinstance(finding, Mapping) and finding.get("category") == Category.RULE_ERROR.value
    ]


def treatable_screening(
    uow: UnitOfWork,
    clinic_ids: Collection[str],
    screening_id: str,
    purpose: str,
    refusal: type[InputError] = InputError,
) -> Screening:
    """The screening, if it is the latest, signed, and its outcome permits treatment.

    ConflictError when it was corrected or is unsigned; ``refusal`` when its outcome does not
    permit treatment. ``purpose`` ("planning", "consent") goes into the messages.
    """
    screening = uow.screenings.get(screening_id, clinic_ids)
    if uow.screenings.replaced(screening.id):
        raise ConflictError(
            f"screening '{screening.id}': has been corrected (expected the latest one)",
            problems=problem(Reason.SCREENING_CORRECTED, "screening"),
        )
    if screening.signed_at is None:
        raise ConflictError(
            f"screening '{screening.id}': must be signed by a clinician before {purpose}",
            problems=problem(Reason.SCREENING_UNSIGNED, "screening"),
        )
    if not Outcome(screening.outcome).permits_treatment:
        raise refusal(
            f"screening '{screening.id}': outcome must permit treatment for {purpose} "
            f"(got '{screening.outcome}')",
            problems=problem(
                Reason.OUTCOME_FORBIDS_TREATMENT, "screening", outcome=screening.outcome
            ),
        )
    return screening


class ScreeningRecords(RecordsUseCases):
    """Screenings of the caller's clinics, made with one screening service."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        screening: ScreeningService,
        intakes: IntakeReader,
    ) -> None:
        super().__init__(uow, clock)
        self.screening = screening
        self.intakes = intakes

    def _snapshot(
        self,
        principal: Principal,
        patient: Patient,
        answers: Mapping[str, Any],
        replaces_id: str | None,
    ) -> Screening:
        day = self.clock.today()
        decision = self.screening.screen(answers, day)
        return Screening(
            id=str(uuid.uuid4()),
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            screening_date=day,
            outcome=decision.outcome.value,
            answers=dict(answers),
            decision=decision.as_dict(),
            knowledge_base_version=decision.knowledge_base_version,
            knowledge_base_hash=decision.knowledge_base_hash,
            policy=decision.policy.as_dict(),
            replaces_id=replaces_id,
            created_by=principal.user_id,
            created_at=self.clock.now(),
        )

    def _store(
        self,
        uow: UnitOfWork,
        principal: Principal,
        screening: Screening,
        form_key: FormKey | None = None,
    ) -> Screening:
        uow.screenings.add(screening)
        self.claim(uow, form_key, screening.clinic_id, screening.id)
        event = "screening.correct" if screening.replaces_id else "screening.create"
        detail = {}
        if failed := failed_rules(screening):
            detail["rule_errors"] = ",".join(failed)
            # Rule ids and the record id only: no answers, no outcome.
            _log.warning(
                "screening %s: rule(s) %s failed; the decision does not clear the patient",
                screening.id,
                detail["rule_errors"],
            )
        uow.audit.append(
            self.entry(
                principal, event, AuditAction.CREATE, screening_target(screening), detail=detail
            )
        )
        uow.commit()
        return screening

    def screen_intake(
        self,
        principal: Principal,
        patient_id: str,
        document: object,
        form_key: FormKey | None = None,
    ) -> Screening:
        """Screen what ``document`` gives (an intake, a QuestionnaireResponse or one patient's
        FHIR Bundle) for the patient today and store the snapshot with the answers read."""
        target = Target("Screening", patient_id=patient_id)
        with self.transaction(principal, "screening.create", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.SCREENING_WRITE)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            snapshot = self._snapshot(principal, patient, self._answers(document), None)
            return self._store(uow, principal, snapshot, form_key)

    def _answers(self, document: object) -> Mapping[str, Any]:
        """The answers ``document`` gives, read as every entry point reads its input."""
        given = self.intakes.read(document, self.clock.today())
        if given.deceased is not None:
            raise FhirInputError(
                "'Bundle': expected a living patient's record (the record shows the patient"
                " has died; no screening is made)",
                field="Bundle",
            )
        return given.answers

    def correct(self, principal: Principal, screening_id: str, document: object) -> Screening:
        """A new screening, of what the corrected ``document`` gives, replacing ``screening_id``."""
        target = Target("Screening", screening_id)
        with self.transaction(principal, "screening.correct", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.SCREENING_WRITE)
            old = uow.screenings.get(screening_id, principal.clinic_ids)
            if uow.screenings.replaced(old.id):
                raise ConflictError(
                    f"screening '{old.id}': already corrected (expected the latest screening)",
                    problems=problem(Reason.ALREADY_CORRECTED),
                )
            patient = uow.patients.get(old.patient_id, principal.clinic_ids)
            snapshot = self._snapshot(principal, patient, self._answers(document), old.id)
            return self._store(uow, principal, snapshot)

    def get(self, principal: Principal, screening_id: str) -> tuple[Screening, bool]:
        """The screening and whether a correction has replaced it."""
        target = Target("Screening", screening_id)
        with self.transaction(principal, "screening.read", AuditAction.READ, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            screening, replaced = uow.screenings.get_with_replaced(
                screening_id, principal.clinic_ids
            )
            uow.audit.append(
                self.entry(
                    principal, "screening.read", AuditAction.READ, screening_target(screening)
                )
            )
            uow.commit()
            return screening, replaced

    def list_for_patient(
        self, principal: Principal, patient_id: str, offset: int = 0, limit: int | None = None
    ) -> Page[Screening]:
        """The patient's screenings, oldest first."""
        return self.page_for_patient(principal, patient_id, offset, limit)[0]

    def page_for_patient(
        self, principal: Principal, patient_id: str, offset: int = 0, limit: int | None = None
    ) -> tuple[Page[Screening], frozenset[str]]:
        """The patient's screenings, oldest first, and the ids of those corrected since (by a
        screening on this page or a later one)."""
        target = Target("Screening", patient_id=patient_id)
        with self.transaction(principal, "screening.search", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            page = uow.screenings.page(
                principal.clinic_ids, {"patient_id": patient.id}, *page_bounds(offset, limit)
            )
            replaced = uow.screenings.replaced_among([s.id for s in page.items])
            found = Target("Screening", clinic_id=patient.clinic_id, patient_id=patient.id)
            uow.audit.append(self.entry(principal, "screening.search", AuditAction.EXECUTE, found))
            uow.commit()
            return page, replaced

    def sign(self, principal: Principal, screening_id: str, expected_version: int) -> Screening:
        """Sign the screening as the clinician responsible for it."""
        target = Target("Screening", screening_id)
        with self.transaction(principal, "screening.sign", AuditAction.UPDATE, target) as uow:
            self.require(principal, Permission.SCREENING_SIGN)
            screening = uow.screenings.get(screening_id, principal.clinic_ids)
            if screening.signed_at is not None:
                raise ConflictError(
                    f"screening '{screening.id}': already signed",
                    problems=problem(Reason.ALREADY_SIGNED),
                )
            signed = replace(
                screening,
                signed_by=principal.user_id,
                signed_at=self.clock.now(),
                version=expected_version + 1,
            )
            uow.screenings.save(signed, expected_version)
            uow.audit.append(
                self.entry(
                    principal,
                    "screening.sign",
                    AuditAction.UPDATE,
                    screening_target(signed),
                    detail=seal(uow.screenings, signed),
                )
            )
            uow.commit()
            return signed
