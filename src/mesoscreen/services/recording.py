"""What every records use case shares: the permission check and the audit of each attempt.

A use case runs inside ``self.transaction(...)``; success entries are added to
the unit of work by the use case itself (they need the record's clinic and
patient), while a refusal or failure is audited here in a transaction of its
own, because the use case's transaction is rolled back.

An entry belongs to its record's clinic; an act on no one clinic's record belongs to the
clinics named by its target's ``clinics`` (an account: the clinics it shares with the
admin), else to the acting user's clinics, so that only their admins read it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.domain.errors import (
    InputError,
    MesoscreenError,
    NotFoundError,
    PermissionDeniedError,
)
from mesoscreen.domain.records import Patient
from mesoscreen.domain.text import require_page_position
from mesoscreen.services.ports import (
    Clock,
    RecordRead,
    RecordRepository,
    UnitOfWork,
    UnitOfWorkFactory,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class Target:
    """What an audited attempt was about: a kind of record and, when known, which one."""

    entity_type: str
    entity_id: str | None = None
    clinic_id: str | None = None
    patient_id: str | None = None
    # For a target of no one clinic: the clinics it concerns (None: the actor's clinics).
    clinics: frozenset[str] | None = None


_FORM_KEY = re.compile(r"^[A-Za-z0-9_\-]{16,100}$")


@dataclass(frozen=True, slots=True)
class FormKey:
    """The one-use key a web form that creates a record carries: the form, and the key it was
    shown with. A second or concurrent submission of the same form finds the first record."""

    form: str  # which form: "session", "adverse_event", "plan", ...
    key: str

    def __post_init__(self) -> None:
        if not _FORM_KEY.match(self.key):
            raise InputError(
                "'form_key': expected 16 to 100 letters, digits, '-' or '_' "
                f"(got {len(self.key)} characters)"
            )


class RecordsUseCases:
    """Base of the records use cases: units of work, the clock and audited transactions."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def entry(
        self,
        principal: Principal | None,
        event_type: str,
        action: AuditAction,
        target: Target,
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
        detail: Mapping[str, str] | None = None,
    ) -> AuditEntry:
        """An audit entry for ``principal`` acting on ``target`` now."""
        if target.clinics is not None:
            others = target.clinics
        elif target.clinic_id is None and principal is not None:
            others = principal.clinic_ids
        else:
            others = frozenset()
        return AuditEntry(
            event_type=event_type,
            action=action,
            outcome=outcome,
            recorded_at=self.clock.now(),
            actor_id=principal.user_id if principal else None,
            actor_role=principal.role.value if principal else None,
            clinic_id=target.clinic_id,
            patient_id=target.patient_id,
            entity_type=target.entity_type,
            entity_id=target.entity_id,
            source=principal.source if principal else None,
            detail=MappingProxyType(dict(detail or {})),
            other_clinic_ids=others,
        )

    @contextmanager
    def transaction(
        self, principal: Principal | None, event_type: str, action: AuditAction, target: Target
    ) -> Iterator[UnitOfWork]:
        """A unit of work whose refusal or failure is audited after it rolls back."""
        with self.audited(principal, event_type, action, target), self.uow() as uow:
            yield uow

    @contextmanager
    def audited(
        self, principal: Principal | None, event_type: str, action: AuditAction, target: Target
    ) -> Iterator[None]:
        """Audit a refusal or failure of the work inside, in a transaction of its own (work
        done before any unit of work is open, such as decoding an upload, uses it alone)."""
        try:
            yield
        except MesoscreenError as error:
            outcome = (
                AuditOutcome.DENIED
                if isinstance(error, PermissionDeniedError)
                else AuditOutcome.FAILURE
            )
            refusal = self.entry(
                principal, event_type, action, target, outcome, {"error": error.code}
            )
            with self.uow() as uow:
                uow.audit.append(refusal)
                uow.commit()
            raise

    def claim(
        self, uow: UnitOfWork, form_key: FormKey | None, clinic_id: str, record_id: str
    ) -> None:
        """Store the form's key with the record it made, in the record's own transaction, so
        that a second submission of the form fails here (DuplicateRequestError) and makes
        nothing; no key (an API call, a script) claims nothing."""
        if form_key is not None:
            uow.form_keys.claim(clinic_id, form_key.form, form_key.key, record_id, self.clock.now())

    @staticmethod
    def require(principal: Principal, permission: Permission) -> None:
        """Raise PermissionDeniedError unless ``principal``'s role grants ``permission``."""
        if not principal.can(permission):
            raise PermissionDeniedError(
                f"role '{principal.role.value}': not allowed to {permission.value} "
                f"(needs a role granting '{permission.value}')"
            )

    @staticmethod
    def require_patient_clinic(principal: Principal, patient: Patient) -> None:
        """Raise NotFoundError unless ``patient`` is in one of ``principal``'s clinics (as a
        repository read in another clinic does)."""
        if patient.clinic_id not in principal.clinic_ids:
            raise NotFoundError(f"patient '{patient.id}': not found")

    @staticmethod
    def require_record_clinic(principal: Principal, kind: str, record_id: str,
                              clinic_id: str) -> None:  # fmt: skip
        """Raise NotFoundError unless a record (``kind`` ``record_id`` of ``clinic_id``) that a
        use case was handed, not read, is in one of ``principal``'s clinics, as a repository
        read in another clinic refuses it. Only records read for the same principal are
        handed over (a page passing on what it has just read)."""
        if clinic_id not in principal.clinic_ids:
            raise NotFoundError(f"{kind} '{record_id}': not found")

    @staticmethod
    def require_clinic(principal: Principal, clinic_id: str) -> None:
        """Raise NotFoundError unless ``principal`` belongs to ``clinic_id``."""
        if clinic_id not in principal.clinic_ids:
            raise NotFoundError(f"clinic '{clinic_id}': not found")


R = TypeVar("R")


def every_record(
    repository: RecordRepository[R], clinic_ids: Collection[str], where: Mapping[str, str]
) -> Iterator[R]:
    """Every record of ``clinic_ids`` whose columns equal ``where``, read page by page."""
    offset = 0
    while True:
        page = repository.page(clinic_ids, where, offset, MAX_PAGE_SIZE)
        yield from page.items
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def read_each(
    uow: UnitOfWork, clinic_ids: Collection[str], reads: Sequence[RecordRead]
) -> list[tuple[Any, ...]]:
    """``UnitOfWork.read_together`` one read after another, through the repositories."""
    found: list[tuple[Any, ...]] = []
    for read in reads:
        repository: RecordRepository[Any] = getattr(uow, read.records)
        if read.latest_by is None:
            found.append(tuple(every_record(repository, clinic_ids, read.where)))
            continue
        latest = repository.latest(clinic_ids, read.where, by=read.latest_by,
                                   signed=read.signed, current=read.current)  # fmt: skip
        found.append((latest,) if latest is not None else ())
    return found


def page_bounds(offset: int, limit: int | None) -> tuple[int, int]:
    """A safe (offset, limit): the offset from 0 and the limit from 1 to MAX_PAGE_POSITION
    (UnstorableValueError naming the one outside), the limit then lowered to MAX_PAGE_SIZE."""
    offset = require_page_position(offset, "offset")
    limit = DEFAULT_PAGE_SIZE if limit is None else require_page_position(limit, "limit", 1)
    return offset, min(limit, MAX_PAGE_SIZE)
