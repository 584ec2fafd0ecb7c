"""Ports: what the use cases need from the outside world, as Protocols the adapters implement."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from mesoscreen.domain.audit import AuditEntry


class Clock(Protocol):
    """The time source; tests pass a frozen one."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def today(self) -> date:
        """The current date in the clinic's time zone."""
        ...


class AuditLog(Protocol):
    """The append-only, hash-chained audit trail."""

    def append(self, entry: AuditEntry) -> None:
        """Record ``entry`` (in the caller's transaction where storage has one)."""
        ...
