"""Checkpoint files: keys made once and kept private, lines signed, any change to a line found."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mesoscreen.adapters.audit_checkpoints import (
    FileCheckpointLog,
    generate_key_pair,
    load_signing_key,
    load_verify_key,
    read_checkpoints,
)
from mesoscreen.domain.errors import InputError

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """A fresh key pair in a folder of its own."""
    private, public = tmp_path / "keys" / "checkpoint.pem", tmp_path / "keys" / "checkpoint.pub"
    generate_key_pair(private, public)
    return private, public


def test_the_private_key_is_readable_by_its_owner_alone_and_never_overwritten(
    keys: tuple[Path, Path],
) -> None:
    """Mode 0600; a second keygen to the same place is refused and the key is unchanged."""
    private, public = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    before = private.read_bytes()
    with pytest.raises(InputError, match="never overwritten"):
        generate_key_pair(private, public)
    assert private.read_bytes() == before


def test_a_private_key_others_can_read_is_refused(keys: tuple[Path, Path]) -> None:
    """A key readable by the group or others is not used to sign."""
    private, _ = keys
    os.chmod(private, 0o644)
    with pytest.raises(InputError, match="readable by other users"):
        load_signing_key(private)


def test_checkpoints_are_numbered_across_writers_and_read_back(
    keys: tuple[Path, Path], tmp_path: Path
) -> None:
    """Two servers appending to one file continue one numbering; every line verifies."""
    private, public = keys
    path = tmp_path / "checkpoints.jsonl"
    first = FileCheckpointLog(path, load_signing_key(private))
    second = FileCheckpointLog(path, load_signing_key(private))
    first.append(3, "a" * 64, NOON)
    second.append(5, "b" * 64, NOON + timedelta(minutes=5))
    assert first.last() is not None
    found = read_checkpoints(path, load_verify_key(public))
    assert found.problems == ()
    assert [(c.sequence, c.entry_count, c.head_hash[0]) for c in found.checkpoints] == [
        (1, 3, "a"),
        (2, 5, "b"),
    ]
    assert found.checkpoints[1].recorded_at == NOON + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("entry_count", 2),
        ("head_hash", "c" * 64),
        ("sequence", 9),
        ("time", "2027-01-01T00:00:00Z"),
    ],
)
def test_a_checkpoint_line_changed_after_signing_no_longer_verifies(
    keys: tuple[Path, Path], tmp_path: Path, field: str, value: object
) -> None:
    """Whoever edits a line (to match a shortened log, say) breaks its signature."""
    private, public = keys
    path = tmp_path / "checkpoints.jsonl"
    FileCheckpointLog(path, load_signing_key(private)).append(3, "a" * 64, NOON)
    line = json.loads(path.read_text())
    line[field] = value
    path.write_text(json.dumps(line) + "\n")
    found = read_checkpoints(path, load_verify_key(public))
    assert found.checkpoints == ()
    assert found.problems == ("checkpoints line 1: the signature does not verify",)


def test_checkpoints_signed_with_another_key_or_garbled_are_problems(
    keys: tuple[Path, Path], tmp_path: Path
) -> None:
    """A forger's key and a line that is not a checkpoint are both reported, by line."""
    _, public = keys
    forger_private = tmp_path / "forger.pem"
    generate_key_pair(forger_private, tmp_path / "forger.pub")
    path = tmp_path / "checkpoints.jsonl"
    FileCheckpointLog(path, load_signing_key(forger_private)).append(3, "a" * 64, NOON)
    with path.open("a") as out:
        out.write("not json\n")
    found = read_checkpoints(path, load_verify_key(public))
    assert found.problems == (
        "checkpoints line 1: signed with another key",
        "checkpoints line 2: not a checkpoint",
    )
