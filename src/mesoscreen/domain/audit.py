"""Audit entries: who did what to which record, when, from where, with what outcome.

Shaped after the FHIR AuditEvent / IHE BALP fields. An entry never carries
patient data beyond record ids: no names, no answers.

Each entry belongs to the clinics it concerns (``clinic_ids()``): the record's clinic, and
for an act on no one clinic's record (a sign-in, a change to an account) the clinics of
the people involved. Only admins of those clinics read it; an entry of no clinic (a failed
sign-in under an unknown name, a record-system call) is read only by an admin of every
clinic and by the operator on the server (docs/adr/0010).
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
    # Clinics the entry concerns besides ``clinic_id`` (never repeating it).
    other_clinic_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.clinic_id is not None and self.clinic_id in self.other_clinic_ids:
            # One spelling per entry: the hash covers the other clinics, not a repeat.
            object.__setattr__(self, "other_clinic_ids", self.other_clinic_ids - {self.clinic_id})

    def plain_fields(self) -> dict[str, object]:
        """The entry's fields as plain values, in declaration order: every place that writes
        an entry out (the chain's hash, the table row, the API, the export) starts from these
        and adds its own framing (sequence, time format, hashes). ``recorded_at`` and
        ``other_clinic_ids`` are left to each writer, which formats them its own way."""
        return {
            "event_type": self.event_type,
            "action": self.action.value,
            "outcome": self.outcome.value,
            "actor_id": self.actor_id,
            "actor_role": self.actor_role,
            "clinic_id": self.clinic_id,
            "patient_id": self.patient_id,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "source": self.source,
            "detail": dict(self.detail),
        }

    def clinic_ids(self) -> frozenset[str]:
        """Every clinic this entry concerns: whose admins may read it."""
        own = frozenset({self.clinic_id}) if self.clinic_id is not None else frozenset()
        return own | self.other_clinic_ids
