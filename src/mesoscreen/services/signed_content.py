"""What a signature covered: a content hash of each signed record, kept in the audit trail.

When a screening, plan, treatment session, adverse event or consent is signed, the record
as storage holds it (read back after the save, so the hash sees exactly what a later read
will) is hashed and the hash goes into the signing's audit entry. The audit chain, anchored
by signed checkpoints outside the database, then vouches for the record's content: editing a
signed screening's outcome in its table, even with the triggers off, no longer matches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from mesoscreen.domain.audit import AuditOutcome
from mesoscreen.services.audit_chain import canonical_time
from mesoscreen.services.ports import RecordRepository, StoredAuditEntry, UnitOfWork
from mesoscreen.services.recording import every_record

CONTENT_HASH = "content_sha256"  # the key of the hash in a signing's audit detail

# Signed record kinds by the entity type their signing is audited under.
SIGNED_KINDS: Mapping[str, Callable[[UnitOfWork], RecordRepository[Any]]] = {
    "Screening": lambda uow: uow.screenings,
    "CarePlan": lambda uow: uow.plans,
    "Procedure": lambda uow: uow.treatment_sessions,
    "AdverseEvent": lambda uow: uow.adverse_events,
    "Consent": lambda uow: uow.consents,
}


def _plain(value: Any) -> Any:
    """``value`` as plain JSON data, with one spelling per value."""
    if isinstance(value, datetime):
        return canonical_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def content_hash(record: Any) -> str:
    """SHA-256 (hex) of every field of the record ``record`` as sorted-key compact JSON."""
    if not is_dataclass(record):
        raise TypeError(f"content_hash: expected a record dataclass (got {type(record).__name__})")
    document = {f.name: _plain(getattr(record, f.name)) for f in fields(record)}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def seal(repository: RecordRepository[Any], record: Any) -> dict[str, str]:
    """The audit detail of signing ``record``: the hash of it as stored (call after saving)."""
    stored = repository.get(record.id, [record.clinic_id])
    return {CONTENT_HASH: content_hash(stored)}


@dataclass
class SignedRecordsCheck:
    """Signed records compared with the content hashes their signings left in the chain.

    Feed every chain entry to ``observe`` (in any order), then call ``check``.
    """

    sealed: dict[tuple[str, str], str]
    signed: set[tuple[str, str]]
    matched: int = 0
    unverifiable: int = 0

    @classmethod
    def empty(cls) -> SignedRecordsCheck:
        """A check that has seen no entry yet."""
        return cls({}, set())

    def observe(self, stored: StoredAuditEntry) -> None:
        """Remember a successful signing and its content hash, if ``stored`` is one."""
        entry = stored.entry
        kind, record_id = entry.entity_type or "", entry.entity_id or ""
        if (
            entry.event_type.endswith(".sign")
            and entry.outcome == AuditOutcome.SUCCESS
            and kind in SIGNED_KINDS
            and record_id
        ):
            key = (kind, record_id)
            self.signed.add(key)
            if CONTENT_HASH in entry.detail:
                self.sealed[key] = entry.detail[CONTENT_HASH]

    def check(self, uow: UnitOfWork, clinic_ids: Collection[str]) -> list[str]:
        """Problems found: a signed record changed, signed without a signing, or gone."""
        problems: list[str] = []
        seen: set[tuple[str, str]] = set()
        for kind, repository in SIGNED_KINDS.items():
            problems += self._check_kind(kind, every_record(repository(uow), clinic_ids, {}), seen)
        for kind, record_id in sorted(set(self.sealed) - seen):
            problems.append(f"{kind} '{record_id}': signed, but no longer stored")
        return problems

    def _check_kind(
        self, kind: str, records: Iterable[Any], seen: set[tuple[str, str]]
    ) -> list[str]:
        problems = []
        for record in records:
            if getattr(record, "signed_at", None) is None:
                continue
            key = (kind, record.id)
            seen.add(key)
            if key in self.sealed:
                if content_hash(record) == self.sealed[key]:
                    self.matched += 1
                else:
                    problems.append(
                        f"{kind} '{record.id}': its content differs from what was signed"
                    )
            elif key in self.signed:
                self.unverifiable += 1  # signed before content hashes were recorded
            else:
                problems.append(f"{kind} '{record.id}': marked signed, but nobody signed it")
        return problems
