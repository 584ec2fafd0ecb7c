"""Ed25519-signed checkpoints of the audit chain head, one JSON object a line, appended only.

A line reads::

    {"entry_count":42,"head_hash":"9f…","key_id":"3b…","sequence":7,
     "signature":"base64…","time":"2026-11-25T09:00:00.000000Z"}

The signature covers the other fields as sorted-key compact JSON. The private key lives
in a file outside the database (readable by the server's user alone); its public half goes
wherever ``mesoscreen audit verify`` runs. Writers append under an exclusive ``flock`` and
``fsync`` each line, so several servers share one file; the operator makes the file
append-only at the OS (``chattr +a``) and ships it elsewhere (a log collector, WORM storage).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mesoscreen.domain.errors import InputError
from mesoscreen.services.audit_chain import canonical_time
from mesoscreen.services.ports import Checkpoint, CheckpointFile

_TAIL_BYTES = 64 * 1024  # more than one line, read from the end to find the last checkpoint


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name for the key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key_pair(private_path: Path, public_path: Path) -> str:
    """Write a new Ed25519 key pair (private PEM, mode 0600; public PEM); the key id.

    InputError if either file exists: a key in use is never overwritten.
    """
    for path in (private_path, public_path):
        if path.exists():
            raise InputError(f"keygen: {path} exists (a key is never overwritten)")
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_pem)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_bytes(public_pem)
    return key_id(private_key.public_key())


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The private key in ``path``; InputError if missing, not Ed25519, or readable by others."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"checkpoint key {path}: cannot be read ({error.strerror})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(
            f"checkpoint key {path}: readable by other users (expected mode 0600; "
            f"got {stat.S_IMODE(mode):04o})"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise InputError(f"checkpoint key {path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"checkpoint key {path}: expected an Ed25519 key")
    return key


def load_verify_key(path: Path) -> Ed25519PublicKey:
    """The public key in ``path``; InputError if missing or not an Ed25519 public key."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise InputError(f"public key {path}: cannot be read ({error.strerror})") from None
    except ValueError:
        raise InputError(f"public key {path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"public key {path}: expected an Ed25519 key")
    return key


def _signed_bytes(fields: dict[str, Any]) -> bytes:
    """What the signature covers: every field but the signature, sorted-key compact JSON."""
    document = {k: v for k, v in fields.items() if k != "signature"}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _checkpoint(fields: dict[str, Any]) -> Checkpoint:
    """The checkpoint a parsed line names; KeyError, TypeError or ValueError if malformed."""
    sequence, count, head = fields["sequence"], fields["entry_count"], fields["head_hash"]
    if not (isinstance(sequence, int) and isinstance(count, int) and isinstance(head, str)):
        raise TypeError("sequence and entry_count must be numbers, head_hash text")
    return Checkpoint(sequence, count, head, datetime.fromisoformat(fields["time"]))


def _last_line(fd: int) -> bytes | None:
    """The last complete line of the file open at ``fd``, or None."""
    size = os.fstat(fd).st_size
    start = max(0, size - _TAIL_BYTES)
    tail = os.pread(fd, size - start, start)
    lines = [line for line in tail.split(b"\n") if line.strip()]
    return lines[-1] if lines else None


class FileCheckpointLog:
    """The CheckpointLog of a server: signs with its private key and appends to ``path``."""

    def __init__(self, path: Path, signing_key: Ed25519PrivateKey) -> None:
        self._path = path
        self._key = signing_key
        self._key_id = key_id(signing_key.public_key())

    def _open(self) -> int:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)

    @staticmethod
    def _parse_last(fd: int) -> Checkpoint | None:
        line = _last_line(fd)
        if line is None:
            return None
        try:
            return _checkpoint(json.loads(line))
        except (ValueError, KeyError, TypeError):
            # Not ours to judge here (verify does); numbering goes on from a clean slate.
            return None

    def last(self) -> Checkpoint | None:
        """The last checkpoint in the file (None for none)."""
        if not self._path.exists():
            return None
        fd = os.open(self._path, os.O_RDONLY)
        try:
            return self._parse_last(fd)
        finally:
            os.close(fd)

    def append(self, entry_count: int, head_hash: str, at: datetime) -> Checkpoint:
        """Sign the head and append it as the next checkpoint, durably."""
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            previous = self._parse_last(fd)
            fields: dict[str, Any] = {
                "sequence": previous.sequence + 1 if previous else 1,
                "entry_count": entry_count,
                "head_hash": head_hash,
                "time": canonical_time(at),
                "key_id": self._key_id,
            }
            signature = self._key.sign(_signed_bytes(fields))
            fields["signature"] = base64.b64encode(signature).decode("ascii")
            line = json.dumps(fields, sort_keys=True, separators=(",", ":")) + "\n"
            os.write(fd, line.encode())
            os.fsync(fd)
            return _checkpoint(fields)
        finally:
            os.close(fd)  # closing drops the lock


def read_checkpoints(path: Path, public_key: Ed25519PublicKey) -> CheckpointFile:
    """Every checkpoint of ``path`` whose signature verifies, and a problem for each other line.

    InputError when the file cannot be read at all.
    """
    try:
        lines = path.read_bytes().splitlines()
    except OSError as error:
        raise InputError(f"checkpoints {path}: cannot be read ({error.strerror})") from None
    expected_key = key_id(public_key)
    checkpoints: list[Checkpoint] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            checkpoint = _checkpoint(fields)
            signature = base64.b64decode(fields["signature"], validate=True)
        except (ValueError, KeyError, TypeError):
            problems.append(f"checkpoints line {number}: not a checkpoint")
            continue
        if fields.get("key_id") != expected_key:
            problems.append(f"checkpoints line {number}: signed with another key")
            continue
        try:
            public_key.verify(signature, _signed_bytes(fields))
        except InvalidSignature:
            problems.append(f"checkpoints line {number}: the signature does not verify")
            continue
        checkpoints.append(checkpoint)
    return CheckpointFile(tuple(checkpoints), tuple(problems))
