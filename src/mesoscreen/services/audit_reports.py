"""The audit trail for admins: time-range reports, export and the hash-chain check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from mesoscreen.domain.access import Permission, Principal
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.records import Page
from mesoscreen.services.audit_chain import verify_chain
from mesoscreen.services.ports import ChainReport, StoredAuditEntry
from mesoscreen.services.recording import RecordsUseCases, Target, page_bounds


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
    ) -> Page[StoredAuditEntry]:
        """Entries recorded in [since, until), in chain order (or newest first)."""
        target = Target("AuditEvent")
        with self.transaction(principal, "audit.search", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.AUDIT_READ)
            page = uow.audit_trail.page(since, until, *page_bounds(offset, limit), newest_first)
            uow.audit.append(self.entry(principal, "audit.search", AuditAction.EXECUTE, target))
            uow.commit()
            return page

    def export(
        self, principal: Principal, since: datetime | None, until: datetime | None
    ) -> list[StoredAuditEntry]:
        """Every entry in [since, until), for a download."""
        target = Target("AuditEvent")
        with self.transaction(principal, "audit.export", AuditAction.EXECUTE, target) as uow:
            self.require(principal, Permission.AUDIT_READ)
            entries = [
                stored
                for stored in uow.audit_trail.entries()
                if (since is None or stored.entry.recorded_at >= since)
                and (until is None or stored.entry.recorded_at < until)
            ]
            uow.audit.append(self.entry(principal, "audit.export", AuditAction.EXECUTE, target))
            uow.commit()
            return entries

    def all_entries(self) -> Iterator[StoredAuditEntry]:
        """Every entry in chain order (for the command line on the server)."""
        with self.uow() as uow:
            yield from uow.audit_trail.entries()

    def verify(self) -> ChainReport:
        """Check the whole hash chain and its head."""
        with self.uow() as uow:
            head = uow.audit_trail.head()
            return verify_chain(uow.audit_trail.entries(), head)
