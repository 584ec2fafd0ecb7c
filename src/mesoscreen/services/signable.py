"""The draft-then-signed lifecycle that plans, treatment sessions and adverse events share.

A draft may be edited (with the version the editor last read); signing freezes
it, and the hash of its content enters the audit chain (``signed_content``); a
signed record is never edited again: an amendment is a new draft that replaces
it, and the signed original is kept unchanged.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.errors import ConflictError, InputError
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import Page, RecordStatus, RecordVoid
from mesoscreen.services.ports import RecordRepository, UnitOfWork
from mesoscreen.services.recording import (
    FormKey,
    RecordsUseCases,
    Target,
    every_record,
    page_bounds,
)
from mesoscreen.services.signed_content import seal


class SignableRecord(Protocol):
    """What the lifecycle needs of a record: ids, status, signature and version."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def id(self) -> str: ...
    @property
    def clinic_id(self) -> str: ...
    @property
    def patient_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def signed_at(self) -> datetime | None: ...
    @property
    def version(self) -> int: ...


S = TypeVar("S", bound=SignableRecord)


@dataclass(frozen=True, slots=True)
class SignableKind:
    """How one kind of signable record is named, audited and permitted."""

    name: str  # in messages and audit event types: "plan", "session", "adverse_event"
    resource: str  # audit entity type, after the FHIR resource it maps to
    write: Permission
    sign: Permission


@dataclass(frozen=True, slots=True)
class Opened(Generic[S]):
    """A record as its own page shows it: the next version if one replaced it, its void."""

    record: S
    replaced_by: str | None
    void: RecordVoid | None


# The longest reason a void keeps (a sentence or two, not a report).
MAX_VOID_REASON = 500


class SignableRecords(RecordsUseCases, ABC, Generic[S]):
    """Read, edit, sign and amend records of one signable kind."""

    kind: ClassVar[SignableKind]
    editable_fields: ClassVar[frozenset[str]]

    @abstractmethod
    def repository(self, uow: UnitOfWork) -> RecordRepository[S]:
        """Where records of this kind are kept."""

    @abstractmethod
    def validate(self, uow: UnitOfWork, principal: Principal, record: S) -> S:
        """The record checked (and completed, e.g. totals); InputError if it is invalid."""

    def prepare_changes(
        self, uow: UnitOfWork, principal: Principal, current: S, changes: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The stored fields an edit sets (by default the changes as given)."""
        return changes

    def check_before_signing(self, uow: UnitOfWork, principal: Principal, record: S) -> None:
        """Raise if the draft may not be signed now (by default every draft may)."""

    def _target(self, record: S | None = None, record_id: str | None = None) -> Target:
        if record is None:
            return Target(self.kind.resource, record_id)
        return Target(self.kind.resource, record.id, record.clinic_id, record.patient_id)

    def _event(self, verb: str) -> str:
        return f"{self.kind.name}.{verb}"

    def refuse_voided(self, uow: UnitOfWork, principal: Principal, record: S) -> None:
        """ConflictError if ``record`` was voided: a void is final, nothing acts on it again."""
        if uow.record_voids.page(principal.clinic_ids, {"record_id": record.id}, 0, 1).total:
            raise ConflictError(
                f"{self.kind.name} '{record.id}': voided as entered in error (nothing more is "
                "done with it)",
                problems=problem(Reason.RECORD_VOIDED),
            )

    def new_version(self, uow: UnitOfWork, principal: Principal, current: S, **changes: Any) -> S:
        """A new draft copying the signed ``current`` with ``changes``, replacing it."""
        if self.repository(uow).replaced(current.id):
            raise ConflictError(
                f"{self.kind.name} '{current.id}': already amended (expected the latest)",
                problems=problem(Reason.ALREADY_CORRECTED),
            )
        now = self.clock.now()
        draft: S = replace(
            current,
            id=str(uuid.uuid4()),
            status=RecordStatus.DRAFT.value,
            replaces_id=current.id,
            created_by=principal.user_id,
            created_at=now,
            updated_at=now,
            signed_by=None,
            signed_at=None,
            version=1,
            **changes,
        )
        return draft

    def store_new(
        self, uow: UnitOfWork, principal: Principal, record: S, form_key: FormKey | None = None
    ) -> S:
        """Validate and add a new draft (claiming the form's key), audit it and commit."""
        record = self.validate(uow, principal, record)
        self.repository(uow).add(record)
        self.claim(uow, form_key, record.clinic_id, record.id)
        event = self._event("amend" if getattr(record, "replaces_id", None) else "create")
        uow.audit.append(self.entry(principal, event, AuditAction.CREATE, self._target(record)))
        uow.commit()
        return record

    def get(self, principal: Principal, record_id: str) -> tuple[S, bool]:
        """The record and whether an amendment has replaced it."""
        event = self._event("read")
        with self.transaction(
            principal, event, AuditAction.READ, self._target(record_id=record_id)
        ) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            record, replaced = self.repository(uow).get_with_replaced(
                record_id, principal.clinic_ids
            )
            uow.audit.append(self.entry(principal, event, AuditAction.READ, self._target(record)))
            uow.commit()
            return record, replaced

    def open(self, principal: Principal, record_id: str) -> Opened[S]:
        """The record with the version that replaced it and its void, if any (audited)."""
        event = self._event("read")
        with self.transaction(
            principal, event, AuditAction.READ, self._target(record_id=record_id)
        ) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            record = self.repository(uow).get(record_id, principal.clinic_ids)
            where = {"replaces_id": record.id}
            successor = next(iter(self.repository(uow).page(principal.clinic_ids, where, 0, 1)
                                  .items), None)  # fmt: skip
            voids = uow.record_voids.page(principal.clinic_ids, {"record_id": record.id}, 0, 1)
            uow.audit.append(self.entry(principal, event, AuditAction.READ, self._target(record)))
            uow.commit()
            return Opened(record, successor.id if successor else None,
                          next(iter(voids.items), None))  # fmt: skip

    def void(self, principal: Principal, record_id: str, reason: str) -> RecordVoid:
        """Void a record entered in error (a duplicate, the wrong patient), with a reason.

        Nothing is deleted or changed: a void of its own says the record no longer counts
        (the worklist and the Today page leave it out, pages strike it through). A draft may
        be voided by whoever may write it, a signed record only by a role that signs them;
        a record is voided once (the database refuses a second void and any change to one).
        """
        event = self._event("void")
        with self.transaction(
            principal, event, AuditAction.UPDATE, self._target(record_id=record_id)
        ) as uow:
            self.require(principal, self.kind.write)
            record = self.repository(uow).get(record_id, principal.clinic_ids)
            if record.status == RecordStatus.SIGNED:
                self.require(principal, self.kind.sign)
            reason = " ".join(reason.split())
            if not reason:
                raise InputError(
                    "'reason': required (say why the record was entered in error)",
                    problems=problem(Reason.REQUIRED, "reason"),
                )
            if len(reason) > MAX_VOID_REASON:
                raise InputError(
                    f"'reason': at most {MAX_VOID_REASON} characters (got {len(reason)})",
                    problems=problem(
                        Reason.TOO_LONG, "reason", most=MAX_VOID_REASON, got=len(reason)
                    ),
                )
            if uow.record_voids.page(principal.clinic_ids, {"record_id": record.id}, 0, 1).total:
                raise ConflictError(
                    f"{self.kind.name} '{record.id}': already voided",
                    problems=problem(Reason.RECORD_VOIDED),
                )
            void = RecordVoid(
                id=str(uuid.uuid4()),
                clinic_id=record.clinic_id,
                patient_id=record.patient_id,
                record_type=self.kind.name,
                record_id=record.id,
                reason=reason,
                voided_by=principal.user_id,
                voided_at=self.clock.now(),
            )
            uow.record_voids.add(void)
            # The reason is the user's words: it stays in the void, out of the audit detail.
            uow.audit.append(self.entry(principal, event, AuditAction.UPDATE, self._target(record),
                                        detail={"void": void.id}))  # fmt: skip
            uow.commit()
            return void

    def voided_ids(self, principal: Principal, patient_id: str) -> frozenset[str]:
        """The ids of the patient's voided records (of every kind), for lists to mark."""
        target = Target("RecordVoid", patient_id=patient_id)
        with self.transaction(principal, "record.search", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            found = frozenset(
                v.record_id
                for v in every_record(
                    uow.record_voids, principal.clinic_ids, {"patient_id": patient.id}
                )
            )
            done = Target("RecordVoid", None, patient.clinic_id, patient.id)
            uow.audit.append(self.entry(principal, "record.search", AuditAction.EXECUTE, done))
            uow.commit()
            return found

    def list_for_patient(
        self, principal: Principal, patient_id: str, offset: int = 0, limit: int | None = None
    ) -> Page[S]:
        """The patient's records of this kind, oldest first."""
        event = self._event("search")
        target = Target(self.kind.resource, patient_id=patient_id)
        with self.transaction(principal, event, AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.CLINICAL_READ)
            patient = uow.patients.get(patient_id, principal.clinic_ids)
            page = self.repository(uow).page(
                principal.clinic_ids, {"patient_id": patient.id}, *page_bounds(offset, limit)
            )
            found = Target(self.kind.resource, None, patient.clinic_id, patient.id)
            uow.audit.append(self.entry(principal, event, AuditAction.EXECUTE, found))
            uow.commit()
            return page

    def update(
        self,
        principal: Principal,
        record_id: str,
        expected_version: int,
        changes: Mapping[str, Any],
    ) -> S:
        """Edit a draft if nobody changed it since ``expected_version``; signed ones refuse."""
        event = self._event("update")
        with self.transaction(
            principal, event, AuditAction.UPDATE, self._target(record_id=record_id)
        ) as uow:
            self.require(principal, self.kind.write)
            current = self.repository(uow).get(record_id, principal.clinic_ids)
            self.refuse_voided(uow, principal, current)
            if current.status == RecordStatus.SIGNED:
                raise ConflictError(
                    f"{self.kind.name} '{current.id}': signed records are never edited "
                    "(expected a draft; amend it to correct it)",
                    problems=problem(Reason.SIGNED_NOT_EDITED),
                )
            unknown = set(changes) - self.editable_fields
            if unknown:
                raise InputError(
                    f"{self.kind.name}: fields {sorted(unknown)} are not editable",
                    problems=problem(Reason.NOT_EDITABLE, str(sorted(unknown)[0])),
                )
            fields = self.prepare_changes(uow, principal, current, changes)
            edited: S = replace(
                current, **fields, updated_at=self.clock.now(), version=expected_version + 1
            )
            edited = self.validate(uow, principal, edited)
            self.repository(uow).save(edited, expected_version)
            uow.audit.append(self.entry(principal, event, AuditAction.UPDATE, self._target(edited)))
            uow.commit()
            return edited

    def sign(self, principal: Principal, record_id: str, expected_version: int) -> S:
        """Sign the draft: from now on it is frozen."""
        event = self._event("sign")
        with self.transaction(
            principal, event, AuditAction.UPDATE, self._target(record_id=record_id)
        ) as uow:
            self.require(principal, self.kind.sign)
            current = self.repository(uow).get(record_id, principal.clinic_ids)
            if current.status == RecordStatus.SIGNED:
                raise ConflictError(
                    f"{self.kind.name} '{current.id}': already signed",
                    problems=problem(Reason.ALREADY_SIGNED),
                )
            self.refuse_voided(uow, principal, current)
            self.check_before_signing(uow, principal, current)
            now = self.clock.now()
            signed: S = replace(
                current,
                status=RecordStatus.SIGNED.value,
                signed_by=principal.user_id,
                signed_at=now,
                updated_at=now,
                version=expected_version + 1,
            )
            self.repository(uow).save(signed, expected_version)
            # The hash of what was signed enters the chain: a later edit in the table shows.
            sealed = seal(self.repository(uow), signed)
            uow.audit.append(
                self.entry(
                    principal, event, AuditAction.UPDATE, self._target(signed), detail=sealed
                )
            )
            uow.commit()
            return signed

    def amend(self, principal: Principal, record_id: str) -> S:
        """A new draft copying the signed record and replacing it; the original stays as it is."""
        event = self._event("amend")
        with self.transaction(
            principal, event, AuditAction.CREATE, self._target(record_id=record_id)
        ) as uow:
            self.require(principal, self.kind.write)
            current = self.repository(uow).get(record_id, principal.clinic_ids)
            if current.status != RecordStatus.SIGNED:
                raise ConflictError(
                    f"{self.kind.name} '{current.id}': only signed records are amended "
                    "(got a draft; edit it instead)",
                    problems=problem(Reason.DRAFT_NOT_AMENDED),
                )
            self.refuse_voided(uow, principal, current)
            return self.store_new(uow, principal, self.new_version(uow, principal, current))
