"""Who is using the embedded database: servers hold a lock file beside it, a restore takes it.

``mesoscreen serve`` holds a shared lock on ``<database>.lock`` for as long as it runs (any
number of servers may share it); ``restore`` needs it exclusively, so it refuses while a
server runs instead of replacing the file under it and losing every write acknowledged
since the backup, and a server does not start in the middle of a restore. The operating
system drops the lock when the process ends, however it ends, so a crash never leaves the
database locked. POSIX advisory locks (``flock``) on a local file system.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import Self

from mesoscreen.domain.errors import DatabaseInUseError as DatabaseInUseError


def lock_path(database: Path) -> Path:
    """The lock file of ``database``."""
    return database.with_name(database.name + ".lock")


class DatabaseUse:
    """A held lock on the embedded database: shared for a server, exclusive for a restore."""

    def __init__(self, database: Path, exclusive: bool, refusal: str) -> None:
        self._path = lock_path(database)
        self._exclusive = exclusive
        self._refusal = refusal
        self._fd: int | None = None

    def __enter__(self) -> Self:
        """Take the lock at once, or raise DatabaseInUseError with the refusal."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        mode = fcntl.LOCK_EX if self._exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseInUseError(self._refusal) from None
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Let go of the lock."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def serving(database: Path) -> DatabaseUse:
    """The shared lock a server holds while it runs on ``database``."""
    return DatabaseUse(
        database,
        exclusive=False,
        refusal=f"serve: a restore of {database.name} is running; start the server after it",
    )


def restoring(database: Path) -> DatabaseUse:
    """The exclusive lock a restore holds while it replaces ``database``."""
    return DatabaseUse(
        database,
        exclusive=True,
        refusal=(
            f"restore: {database.name} is in use by a running server; stop every "
            "`mesoscreen serve` first (nothing was changed)"
        ),
    )
