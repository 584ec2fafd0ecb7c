"""The chain against its checkpoints: removed tails, recomputed chains and gaps are found, and a
shortened log is never signed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mesoscreen.services.audit_chain import GENESIS_HASH
from mesoscreen.services.audit_integrity import (
    AuditIntegrity,
    AuditLogAlteredError,
    chain_problems,
    order_problems,
)
from mesoscreen.services.ports import Checkpoint
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _at(sequence: int, count: int, head: str = "h", minutes: int = 0) -> Checkpoint:
    return Checkpoint(sequence, count, head, NOON + timedelta(minutes=minutes))


def test_a_checkpoint_beyond_the_end_of_the_log_means_entries_were_removed() -> None:
    """Signed 10 entries, the log holds 7: the last three were deleted and the head moved."""
    problems = chain_problems([_at(1, 10)], {}, 7)
    assert problems == [
        f"checkpoint 1 ({NOON.isoformat()}) signed 10 entries but the log holds 7: "
        "entries were removed from its end"
    ]


def test_a_different_hash_at_a_checkpointed_entry_means_the_chain_was_recomputed() -> None:
    """The chain checks out on its own, but not against what was signed."""
    assert chain_problems([_at(1, 5, "signed")], {5: "signed"}, 9) == []
    assert "rewritten" in chain_problems([_at(1, 5, "signed")], {5: "recomputed"}, 9)[0]
    assert chain_problems([_at(1, 0, GENESIS_HASH)], {}, 0) == []


def test_gaps_and_steps_back_in_the_checkpoint_file_are_problems() -> None:
    """A checkpoint removed from the middle, or one going back, is reported; a late start is
    not (the beginning may be archived)."""
    assert order_problems([_at(4, 1), _at(5, 2, minutes=5)]) == []
    assert "missing" in order_problems([_at(1, 1), _at(3, 2, minutes=5)])[0]
    assert "goes back" in order_problems([_at(1, 5), _at(2, 4, minutes=5)])[0]


class _Log:
    """A checkpoint log in a list."""

    def __init__(self) -> None:
        self.written: list[Checkpoint] = []

    def last(self) -> Checkpoint | None:
        return self.written[-1] if self.written else None

    def append(self, entry_count: int, head_hash: str, at: datetime) -> Checkpoint:
        checkpoint = Checkpoint(len(self.written) + 1, entry_count, head_hash, at)
        self.written.append(checkpoint)
        return checkpoint


def test_a_checkpoint_is_written_only_when_the_head_moved() -> None:
    """An idle server does not fill the file with copies of one head."""
    integrity = AuditIntegrity(FakeUnitOfWorkFactory(), FrozenClock())
    log = _Log()
    assert integrity.checkpoint(log) is not None
    assert integrity.checkpoint(log) is None
    assert len(log.written) == 1


def test_a_log_shorter_than_its_last_checkpoint_is_never_signed() -> None:
    """Signing the shortened head would bless the removal: refused, nothing written."""
    integrity = AuditIntegrity(FakeUnitOfWorkFactory(), FrozenClock())
    log = _Log()
    log.append(12, "x" * 64, NOON)
    with pytest.raises(AuditLogAlteredError, match="holds 0 entries but checkpoint 1 signed 12"):
        integrity.checkpoint(log)
    assert len(log.written) == 1
