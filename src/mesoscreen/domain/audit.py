"""Audit entries: who did what to which record, when, from where, with what outcome.

Shaped after the FHIR AuditEvent / IHE BALP fields. An entry never carries
patient data beyond record ids: no names, no answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType


class AuditAction(StrEnum):
    """FHIR AuditEvent.action codes."""

    CREATE = "C"
    READ = "R"
    UPDATE = "U"
    DELETE = "D"
    EXECUTE = "E"


class AuditOutcome(StrEnum):
    """Whether the audited attempt succeeded, was refused or failed."""

    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited event; storage adds the sequence number and the hash chain."""

    event_type: str
    action: AuditAction
    outcome: AuditOutcome
    recorded_at: datetime
    actor_id: str | None = None
    actor_role: str | None = None
    clinic_id: str | None = None
    patient_id: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    source: str | None = None
    detail: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
