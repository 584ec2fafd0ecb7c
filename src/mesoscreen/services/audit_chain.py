"""The audit hash chain: canonical form of an entry, its link hash, and the chain check.

Each stored entry's hash is SHA-256 over the previous entry's hash and a
canonical JSON form of the entry with its sequence number, so changing,
inserting, reordering or removing any entry breaks every hash after it; the
chain head (last sequence number and hash) catches a removed tail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from mesoscreen.domain.audit import AuditEntry
from mesoscreen.services.ports import ChainReport, StoredAuditEntry

GENESIS_HASH = "0" * 64


def canonical_time(moment: datetime) -> str:
    """UTC ISO 8601 with microseconds, the one spelling a timestamp has in the chain."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_form(seq: int, entry: AuditEntry) -> bytes:
    """The bytes hashed for ``entry`` at position ``seq``: sorted-key compact JSON."""
    document: dict[str, object] = {
        "seq": seq,
        "recorded_at": canonical_time(entry.recorded_at),
        **entry.plain_fields(),
    }
    if entry.other_clinic_ids:
        # Only when present, so entries written before clinics were recorded keep their hash.
        document["other_clinic_ids"] = sorted(entry.other_clinic_ids)
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def link_hash(prev_hash: str, seq: int, entry: AuditEntry) -> str:
    """The hash of ``entry`` at ``seq`` chained to ``prev_hash`` (hex SHA-256)."""
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_form(seq, entry))
    return digest.hexdigest()


def chain(prev_seq: int, prev_hash: str, entries: Iterable[AuditEntry]) -> list[StoredAuditEntry]:
    """``entries`` linked after the head (``prev_seq``, ``prev_hash``), in order."""
    stored = []
    for entry in entries:
        prev_seq += 1
        digest = link_hash(prev_hash, prev_seq, entry)
        stored.append(StoredAuditEntry(prev_seq, entry, prev_hash, digest))
        prev_hash = digest
    return stored


def verify_chain(entries: Iterable[StoredAuditEntry], head: tuple[int, str]) -> ChainReport:
    """Check every link of ``entries`` (in sequence order) and that they end at ``head``."""
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for stored in entries:
        count += 1
        if stored.seq != expected_seq:
            return ChainReport(count, stored.seq, f"expected entry {expected_seq} here")
        if stored.prev_hash != prev_hash:
            return ChainReport(count, stored.seq, "does not link to the entry before it")
        if link_hash(prev_hash, stored.seq, stored.entry) != stored.hash:
            return ChainReport(count, stored.seq, "its content does not match its hash")
        prev_hash, expected_seq = stored.hash, expected_seq + 1
    head_seq, head_hash = head
    if head_seq != expected_seq - 1 or head_hash != prev_hash:
        return ChainReport(
            count,
            expected_seq,
            f"the chain head names entry {head_seq} but the log ends at {expected_seq - 1}",
        )
    return ChainReport(count)
