"""The audit trail checked against what the database cannot rewrite: signed checkpoints.

A database superuser can switch the append-only triggers off (``session_replication_role =
replica`` on PostgreSQL needs no schema change), delete the last rows and move the head back,
or edit a row and recompute every later hash: the chain then checks out on its own. So the
server signs the chain head at a fixed interval and on shutdown with a key the database never
holds, and appends the checkpoint to a file the operator ships elsewhere. ``verify`` compares
the chain with every checkpoint (a checkpoint naming more entries than the log holds: rows were
removed; a different hash at a checkpointed entry: the chain was recomputed) and every signed
record with the content hash its signing left in the chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

from mesoscreen.domain.errors import AuditLogAlteredError as AuditLogAlteredError
from mesoscreen.services.audit_chain import GENESIS_HASH, verify_chain
from mesoscreen.services.ports import (
    ChainReport,
    Checkpoint,
    CheckpointFile,
    CheckpointLog,
    StoredAuditEntry,
)
from mesoscreen.services.recording import RecordsUseCases
from mesoscreen.services.signed_content import SignedRecordsCheck


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """What ``verify`` found: the chain, the checkpoints and the signed records checked."""

    chain: ChainReport
    checkpoints: int
    signed_records: int
    unverifiable_records: int
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        """Whether the chain, every checkpoint and every signed record verified."""
        return self.chain.intact and not self.problems


def order_problems(checkpoints: Sequence[Checkpoint]) -> list[str]:
    """Checkpoints missing from the middle of the file, or going back in entries or in time.

    The file may start after checkpoint 1 (an operator may archive its beginning); a gap
    after that is a removal.
    """
    problems = []
    for before, after in pairwise(checkpoints):
        if after.sequence != before.sequence + 1:
            problems.append(
                f"checkpoint {after.sequence} follows checkpoint {before.sequence}: "
                "checkpoints are missing from the file"
            )
        if after.entry_count < before.entry_count or after.recorded_at < before.recorded_at:
            problems.append(
                f"checkpoint {after.sequence} goes back from checkpoint {before.sequence}"
            )
    return problems


def chain_problems(
    checkpoints: Iterable[Checkpoint], hashes: dict[int, str], log_length: int
) -> list[str]:
    """Where the chain disagrees with a checkpoint: entries removed, or hashes recomputed."""
    problems = []
    for checkpoint in checkpoints:
        count = checkpoint.entry_count
        when = checkpoint.recorded_at.isoformat()
        if count > log_length:
            problems.append(
                f"checkpoint {checkpoint.sequence} ({when}) signed {count} entries but the log "
                f"holds {log_length}: entries were removed from its end"
            )
            continue
        stored = GENESIS_HASH if count == 0 else hashes.get(count)
        if stored != checkpoint.head_hash:
            problems.append(
                f"checkpoint {checkpoint.sequence} ({when}) signed entry {count} with another "
                "hash: the log was rewritten up to there"
            )
    return problems


class AuditIntegrity(RecordsUseCases):
    """Checkpoints of the chain head, and the whole check the operator runs."""

    def checkpoint(self, log: CheckpointLog) -> Checkpoint | None:
        """Sign the current head into ``log``; None when the last checkpoint already names it.

        AuditLogAlteredError when the head is behind the last checkpoint: a shortened log is
        never signed.
        """
        with self.uow() as uow:
            entry_count, head_hash = uow.audit_trail.head()
        last = log.last()
        if last is not None and last.entry_count > entry_count:
            raise AuditLogAlteredError(
                f"audit log: holds {entry_count} entries but checkpoint {last.sequence} "
                f"signed {last.entry_count}; no checkpoint written"
            )
        if last is not None and (last.entry_count, last.head_hash) == (entry_count, head_hash):
            return None
        return log.append(entry_count, head_hash, self.clock.now())

    def verify(self, found: CheckpointFile | None = None) -> IntegrityReport:
        """Check the chain, ``found`` checkpoints (when given) and every signed record."""
        wanted = {c.entry_count for c in found.checkpoints} if found else set()
        hashes: dict[int, str] = {}
        signed = SignedRecordsCheck.empty()

        def watched(entries: Iterable[StoredAuditEntry]) -> Iterator[StoredAuditEntry]:
            for stored in entries:
                if stored.seq in wanted:
                    hashes[stored.seq] = stored.hash
                signed.observe(stored)
                yield stored

        with self.uow() as uow:
            head = uow.audit_trail.head()
            entries = watched(uow.audit_trail.entries())
            chain = verify_chain(entries, head)
            for _ in entries:  # the chain check stops at the first fault; read on regardless
                pass
            clinic_ids = [clinic.id for clinic in uow.clinics.list(None)]
            problems = signed.check(uow, clinic_ids)
        if found is not None:
            checkpoints = found.checkpoints
            problems = [
                *found.problems,
                *order_problems(checkpoints),
                *chain_problems(checkpoints, hashes, head[0]),
                *problems,
            ]
        return IntegrityReport(
            chain,
            len(found.checkpoints) if found else 0,
            signed.matched,
            signed.unverifiable,
            tuple(problems),
        )
