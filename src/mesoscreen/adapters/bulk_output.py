"""Workers' results on their way to the output: a chunk's or batch's decision lines, bad lines
and tally, the file a worker leaves them in, and the writer that appends them in input order."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import IO

from mesoscreen.adapters.bulk_chunks import CHUNK_BYTES
from mesoscreen.adapters.bulk_export import BadLine
from mesoscreen.adapters.bulk_records import RecordResult
from mesoscreen.adapters.ndjson import dumps_line
from mesoscreen.services.bulk_screening import BulkSummary


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What screening a chunk gave: its decision lines, the lines that could not be used
    (numbered from the chunk's first line, 1), the tally of the patients, how many lines.

    A worker leaves its decision lines in a file instead (``spool``, ``spooled`` bytes long,
    ``out`` then empty): the parent copies that file into the output and removes it.
    """

    out: bytes
    bad: tuple[BadLine, ...]
    summary: BulkSummary
    lines: int
    spool: str | None = None
    spooled: int = 0


class ChunkTally:
    """Decision lines, bad lines and the summary of results taken in order.

    Taking a result is most of what a chunk costs beside screening it, so it is kept to a list
    append and a count per (outcome, categories): a growing ``io.BytesIO`` and a summary
    counted patient by patient took 2.1-2.2 us a small patient, about a sixth of its cost.
    The lines are joined, and the counts added to the summary, once per chunk: ``summary``
    holds the screened patients only once ``result`` has been asked for.
    """

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.bad: list[BadLine] = []
        self.summary = BulkSummary()
        self._screened: dict[tuple[str, tuple[str, ...]], int] = {}

    def take(self, result: RecordResult) -> None:
        """Count one record's result."""
        if result.bad:
            self.bad.extend(result.bad)
        if not result.output:
            return
        self.out.append(result.output)
        if result.not_screened:
            self.summary.add_not_screened(result.not_screened)
        else:
            key = (result.outcome, result.categories)
            self._screened[key] = self._screened.get(key, 0) + 1

    def result(self, lines: int) -> ChunkResult:
        """What was taken, as one result of ``lines`` lines."""
        for (outcome, categories), patients in self._screened.items():
            self.summary.add(outcome, categories, patients)
        self._screened.clear()
        return ChunkResult(b"".join(self.out), tuple(self.bad), self.summary, lines)


def spooled(result: ChunkResult, spool: str) -> ChunkResult:
    """``result`` with its decision lines moved to the new file ``spool`` (none if empty).

    Sent back through the pool's pipe, the lines cost the parent more CPU than anything else
    it did (unpickling about 1.2 KB a small patient, 4 us of the 34 us a patient of two
    workers); a file costs it a copy in the kernel.
    """
    if not result.out:
        return result
    with open(spool, "xb") as handle:
        handle.write(result.out)
    return replace(result, out=b"", spool=spool, spooled=len(result.out))


# copy_file_range refuses files on two file systems (EXDEV), an output opened for appending
# (EBADF), and files it cannot copy (EINVAL, EOPNOTSUPP; ENOSYS on old kernels); sendfile
# refuses some outputs (EINVAL). Both then leave the output as it was.
_NOT_THIS_WAY = frozenset(
    {errno.EXDEV, errno.EBADF, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS, errno.ENOTSUP}
)


class SpoolAppender:
    """Appends a worker's file to the output: inside the kernel when the output is a file
    descriptor (``copy_file_range``, else ``sendfile``), else read and written."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        try:
            self.fd = out.fileno()
        except (OSError, AttributeError, ValueError):  # io.BytesIO, a wrapper without one
            self.fd = -1
        self.ways = ["copy_file_range", "sendfile"] if self.fd >= 0 else []

    def write(self, result: ChunkResult) -> None:
        """Write a result's decision lines to the output, removing the worker's file."""
        if result.spool is None:
            self.out.write(result.out)
            return
        self.append(result.spool, result.spooled)
        os.unlink(result.spool)

    def append(self, path: str, length: int) -> None:
        """Write the ``length`` bytes of ``path`` to the output, after what was written."""
        with open(path, "rb", buffering=0) as source:
            if self.ways:
                self.out.flush()
            done = 0
            while done < length:
                copied = self._copy(source, done, length - done)
                if copied == 0:
                    raise OSError(errno.EIO, f"{path}: shorter than the {length} bytes written")
                done += copied

    def _copy(self, source: io.FileIO, offset: int, count: int) -> int:
        while self.ways:
            try:
                if self.ways[0] == "copy_file_range":
                    return os.copy_file_range(source.fileno(), self.fd, count, offset)
                return os.sendfile(self.fd, source.fileno(), offset, count)
            except OSError as error:
                if error.errno not in _NOT_THIS_WAY:
                    raise
                self.ways.pop(0)
        source.seek(offset)
        data = source.read(min(count, CHUNK_BYTES))
        self.out.write(data)
        return len(data)


class BulkWriter:
    """Writes decisions and bad lines, and keeps the summary."""

    def __init__(
        self, out: IO[bytes], errors: IO[bytes], progress: Callable[[int], None] | None = None
    ) -> None:
        self.out = out
        self.errors = errors
        self.summary = BulkSummary()
        self.progress = progress

    def bad(self, line: BadLine) -> None:
        """Record a line that could not be screened."""
        self.errors.write(dumps_line(line.as_dict()))
        self.summary.add_bad_line()
        if self.progress:
            self.progress(1)

    def batch(self, result: ChunkResult, appender: SpoolAppender) -> None:
        """Write what a worker gave for a batch of records: its decisions, then its bad
        lines; the summary and the progress as if each record's result had come back."""
        appender.write(result)
        for line in result.bad:
            self.bad(line)
        self.summary.merge(result.summary)
        if self.progress:
            self.progress(result.summary.patients + sum(result.summary.not_screened.values()))

    def results(self, results: list[RecordResult]) -> None:
        """Write a batch of results."""
        for result in results:
            for line in result.bad:
                self.bad(line)
            if not result.output:
                continue
            self.out.write(result.output)
            if result.not_screened:
                self.summary.add_not_screened(result.not_screened)
            else:
                self.summary.add(result.outcome, result.categories)
            if self.progress:
                self.progress(1)
