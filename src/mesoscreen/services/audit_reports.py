"""The audit trail for admins: time-range reports, export and the hash-chain check.

Every read for a person goes through ``_scope``: an admin reads the entries of the clinics
they run; only an admin of every clinic of the group also reads the entries of no clinic
(failed sign-ins under unknown names, record-system calls, acts from the server's command
line). The operator on the server reads everything through the command line.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.records import Page
from mesoscreen.services.audit_chain import verify_chain
from mesoscreen.services.ports import AuditReadScope, ChainReport, StoredAuditEntry, UnitOfWork
from mesoscreen.services.recording import RecordsUseCases, Target, page_bounds


def read_scope(uow: UnitOfWork, principal: Principal) -> AuditReadScope:
    """The entries ``principal`` may read: their clinics', and all if they run every clinic."""
    every_clinic = {clinic.id for clinic in uow.clinics.list(None)}
    return AuditReadScope(principal.clinic_ids, every_clinic <= principal.clinic_ids)


class AuditReports(RecordsUseCases):
    """Reads of the audit trail; each read is itself audited."""

    def report(
        self,
        principal: Principal,
        since: datetime | None,
        until: datetime | None,
        offset: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
        patient_id: str | None = None,
        actor_id: str | None = None,
        event: str | None = None,
    ) -> Page[StoredAuditEntry]:
        """Entries the admin may read recorded in [since, until), in chain order (or newest
        first); with ``patient_id``, ``actor_id`` or ``event`` (a type or its family), only
        those (still within the admin's clinics: a filter narrows the read scope, never
        widens it)."""
        target = Target("AuditEvent")
        with self.transaction(principal, "audit.search", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.AUDIT_READ)
            scope = read_scope(uow, principal)
            bounds = page_bounds(offset, limit)
            page = uow.audit_trail.page(
                scope, since, until, *bounds, newest_first, patient_id, actor_id, event
            )
            uow.audit.append(self.entry(principal, "audit.search", AuditAction.EXECUTE, target))
            uow.commit()
            return page

    def export(
        self, principal: Principal, since: datetime | None, until: datetime | None
    ) -> list[StoredAuditEntry]:
        """Every entry the admin may read in [since, until), for a download."""
        target = Target("AuditEvent")
        with self.transaction(principal, "audit.export", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.AUDIT_READ)
            entries = list(uow.audit_trail.select(read_scope(uow, principal), since, until))
            uow.audit.append(self.entry(principal, "audit.export", AuditAction.EXECUTE, target))
            uow.commit()
            return entries

    def chain_intact(self, principal: Principal) -> bool:
        """Whether the whole hash chain verifies (a yes or no, for any admin)."""
        self.require(principal, Permission.AUDIT_READ)
        return self.verify().intact

    def all_entries(self) -> Iterator[StoredAuditEntry]:
        """Every entry in chain order (for the command line on the server)."""
        with self.uow() as uow:
            yield from uow.audit_trail.entries()

    def verify(self) -> ChainReport:
        """Check the whole hash chain and its head."""
        with self.uow() as uow:
            head = uow.audit_trail.head()
            return verify_chain(uow.audit_trail.entries(), head)
