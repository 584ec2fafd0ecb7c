"""Patient use cases: register, read, search, correct demographics or intake facts, archive."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.errors import ConflictError, DuplicateRequestError, InputError
from mesoscreen.domain.names import normalise_name
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import Page, Patient
from mesoscreen.services.recording import RecordsUseCases, Target, page_bounds

MAX_NAME_LENGTH = 200  # as the storage columns allow
PATIENT_LANGUAGES = ("vi", "en")


@dataclass(frozen=True, slots=True)
class PatientDetails:
    """What a clinic records about a patient; ``intake`` holds the facts the patient gave."""

    family_name: str
    given_name: str
    birth_date: date | None = None
    sex: str | None = None
    phone: str | None = None
    intake: Mapping[str, Any] | None = None
    language: str | None = None  # the patient's own language: "vi" or "en"


def _request_hash(clinic_id: str, details: PatientDetails) -> str:
    """A digest of what was asked, to tell a repeated request from a different one."""
    fields = {
        "clinic_id": clinic_id,
        "family_name": details.family_name,
        "given_name": details.given_name,
        "birth_date": details.birth_date.isoformat() if details.birth_date else None,
        "sex": details.sex,
        "phone": details.phone,
        "intake": dict(details.intake or {}),
        "language": details.language,
    }
    canonical = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _normalised(details: PatientDetails) -> PatientDetails:
    """``details`` with the names as they are stored: NFC, single spaces, trimmed."""
    return replace(
        details,
        family_name=normalise_name(details.family_name),
        given_name=normalise_name(details.given_name),
    )


def _target(patient: Patient) -> Target:
    return Target("Patient", patient.id, patient.clinic_id, patient.id)


class PatientRecords(RecordsUseCases):
    """Patients of the caller's clinics; intake facts need clinical permissions."""

    def _check(self, principal: Principal, details: PatientDetails) -> None:
        for field, name in (("family_name", details.family_name),
                            ("given_name", details.given_name)):  # fmt: skip
            if not 1 <= len(name) <= MAX_NAME_LENGTH:
                raise InputError(
                    f"patient '{field}': expected 1 to {MAX_NAME_LENGTH} characters "
                    f"(got {len(name)})",
                    problems=problem(Reason.TOO_LONG, field, most=MAX_NAME_LENGTH, got=len(name)),
                )
        if details.language is not None and details.language not in PATIENT_LANGUAGES:
            raise InputError(
                f"patient 'language': expected one of {', '.join(PATIENT_LANGUAGES)} "
                f"(got '{details.language[:20]}')",
                problems=problem(Reason.NOT_A_CHOICE, "language"),
            )
        if details.intake is not None:
            # Intake facts are clinical: a front desk may not write them.
            self.require(principal, Permission.SCREENING_WRITE)
        if details.birth_date is not None and details.birth_date > self.clock.today():
            raise InputError(
                f"patient 'birth_date': must not lie in the future "
                f"(got {details.birth_date.isoformat()})",
                problems=problem(Reason.IN_THE_FUTURE, "birth_date", got=details.birth_date),
            )

    def register(
        self,
        principal: Principal,
        clinic_id: str,
        details: PatientDetails,
        idempotency_key: str | None = None,
    ) -> Patient:
        """Register a patient in ``clinic_id``, one of the caller's clinics.

        With an ``idempotency_key``, repeating the same request (a retry, a double-submitted
        form) returns the patient the first one made instead of a duplicate; the same key
        with a different request is refused.
        """
        details = _normalised(details)
        request_hash = _request_hash(clinic_id, details)
        try:
            return self._register(principal, clinic_id, details, idempotency_key, request_hash)
        except DuplicateRequestError:
            # A concurrent request with this key committed first: answer as it did.
            assert idempotency_key is not None  # noqa: S101 (only raised with a key)
            return self._replay(principal, idempotency_key, request_hash)

    def _register(
        self,
        principal: Principal,
        clinic_id: str,
        details: PatientDetails,
        key: str | None,
        request_hash: str,
    ) -> Patient:
        target = Target("Patient", clinic_id=clinic_id)
        with self.transaction(principal, "patient.create", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.PATIENT_WRITE)
            self.require_clinic(principal, clinic_id)
            if key is not None and uow.idempotency_keys.find(principal.user_id, key):
                raise DuplicateRequestError(f"Idempotency-Key {key!r}: already used")
            self._check(principal, details)
            now = self.clock.now()
            patient = Patient(
                id=str(uuid.uuid4()),
                clinic_id=clinic_id,
                family_name=details.family_name,
                given_name=details.given_name,
                birth_date=details.birth_date,
                sex=details.sex,
                phone=details.phone,
                intake=dict(details.intake or {}),
                archived=False,
                created_by=principal.user_id,
                created_at=now,
                updated_at=now,
                language=details.language,
            )
            uow.patients.add(patient)
            if key is not None:
                uow.idempotency_keys.remember(principal.user_id, key, request_hash, patient.id, now)
            uow.audit.append(
                self.entry(principal, "patient.create", AuditAction.CREATE, _target(patient))
            )
            uow.commit()
            return patient

    def _replay(self, principal: Principal, key: str, request_hash: str) -> Patient:
        """The patient an earlier request with ``key`` made, if it was the same request."""
        target = Target("Patient")
        with self.transaction(principal, "patient.create", AuditAction.CREATE, target) as uow:
            stored = uow.idempotency_keys.find(principal.user_id, key)
            if stored is None:
                raise ConflictError(f"Idempotency-Key {key!r}: the first request did not finish")
            if stored[0] != request_hash:
                raise InputError(
                    f"Idempotency-Key {key!r}: already used for a different request "
                    "(use a new key for a new patient)",
                    problems=problem(Reason.KEY_REUSED),
                )
            patient = uow.patients.get(stored[1], principal.clinic_ids)
            uow.audit.append(
                self.entry(principal, "patient.create.replayed", AuditAction.READ, _target(patient))
            )
            uow.commit()
            return patient

    def get(self, principal: Principal, patient_id: str) -> Patient:
        """The patient with ``patient_id`` if in one of the caller's clinics."""
        target = Target("Patient", patient_id, patient_id=patient_id)
        with self.transaction(principal, "patient.read", AuditAction.READ, target) as uow:
            self.require(principal, Permission.PATIENT_READ)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            uow.audit.append(
                self.entry(principal, "patient.read", AuditAction.READ, _target(patient))
            )
            uow.commit()
            return patient

    def search(
        self,
        principal: Principal,
        name: str | None,
        clinic_id: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Page[Patient]:
        """Patients of the caller's clinics (or one of them) whose name contains ``name``."""
        target = Target("Patient", clinic_id=clinic_id)
        with self.transaction(principal, "patient.search", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.PATIENT_READ)
            clinics = principal.clinic_ids
            if clinic_id is not None:
                self.require_clinic(principal, clinic_id)
                clinics = frozenset({clinic_id})
            page = uow.patients.search(clinics, name, *page_bounds(offset, limit))
            # The search text may be a name: only the count is recorded.
            detail = {"results": str(len(page.items)), "total": str(page.total)}
            uow.audit.append(
                self.entry(principal, "patient.search", AuditAction.EXECUTE, target, detail=detail)
            )
            uow.commit()
            return page

    def update(
        self, principal: Principal, patient_id: str, expected_version: int, details: PatientDetails
    ) -> Patient:
        """Correct the patient's details if nobody changed them since ``expected_version``."""
        target = Target("Patient", patient_id, patient_id=patient_id)
        with self.transaction(principal, "patient.update", AuditAction.UPDATE, target) as uow:
            self.require(principal, Permission.PATIENT_WRITE)
            current = uow.patients.get(patient_id, principal.clinic_ids)
            details = _normalised(details)
            self._check(principal, details)
            updated = replace(
                current,
                family_name=details.family_name,
                given_name=details.given_name,
                birth_date=details.birth_date,
                sex=details.sex,
                phone=details.phone,
                intake=dict(details.intake) if details.intake is not None else current.intake,
                language=details.language,
                updated_at=self.clock.now(),
                version=expected_version + 1,
            )
            uow.patients.save(updated, expected_version)
            uow.audit.append(
                self.entry(principal, "patient.update", AuditAction.UPDATE, _target(updated))
            )
            uow.commit()
            return updated

    def archive(self, principal: Principal, patient_id: str, expected_version: int) -> Patient:
        """Archive the patient: hidden from daily work, never deleted."""
        target = Target("Patient", patient_id, patient_id=patient_id)
        with self.transaction(principal, "patient.archive", AuditAction.UPDATE, target) as uow:
            self.require(principal, Permission.PATIENT_WRITE)
            current = uow.patients.get(patient_id, principal.clinic_ids)
            updated = replace(
                current, archived=True, updated_at=self.clock.now(), version=expected_version + 1
            )
            uow.patients.save(updated, expected_version)
            uow.audit.append(
                self.entry(principal, "patient.archive", AuditAction.UPDATE, _target(updated))
            )
            uow.commit()
            return updated
