"""The local bulk engine: screen patient records on N worker processes, in input order.

Memory stays flat whatever the size of a patient's record: work goes to the workers in pieces
bounded in patients and in bytes, with a bounded number in flight, and results are written as
they come back. Plain Bundle-per-line files are cut into byte ranges at line ends (found
by reading near each cut) that the workers read themselves, so the parent only
stitches results together and numbers their lines; one worker screens the same ranges in
this process. Gzip files are decompressed by the parent into blocks of whole lines that go to
the workers as they are (the workers split, decode and screen them). Bulk Data folders,
whose resources must first be grouped by patient, go to the workers in batches of records.
Workers write each range's or batch's decision lines to a file of their own in a private
temporary folder, and the parent appends those files to the output in input order with a
copy inside the kernel, so the lines never pass through the parent's Python.
"""

from __future__ import annotations

import errno
import gzip
import io
import multiprocessing
import multiprocessing.pool
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import IO

from mesoscreen.adapters.bulk_export import BadLine, PatientLines, records_from_inputs
from mesoscreen.adapters.bulk_records import RecordResult, RecordScreener
from mesoscreen.adapters.ndjson import (
    BROKEN_GZIP,
    GZIP_MAGIC,
    MAX_LINE_BYTES,
    broken_gzip,
    dumps_line,
    long_line_reason,
)
from mesoscreen.domain.errors import InputError
from mesoscreen.services.bulk_screening import BulkSummary
from mesoscreen.services.ports import BulkJob

BATCH_SIZE = 256
# A batch also ends once its lines hold this many bytes: 256 records of a long history
# (1 MB each) held 400 MB in one process, 10 MB bundles would have needed GBs. A single record
# larger than this is a batch of its own.
BATCH_BYTES = 8 * 1024 * 1024
BATCHES_IN_FLIGHT_PER_WORKER = 4
# The batches waiting for or in a worker hold at most this many bytes per worker.
BYTES_IN_FLIGHT_PER_WORKER = 2 * BATCH_BYTES
CHUNK_BYTES = 2 * 1024 * 1024

_worker_screener: RecordScreener | None = None
_worker_max_line = MAX_LINE_BYTES


# Builds a process's screener for a date under a policy file: a module-level function (the
# composition root's), so that worker processes and Spark partitions can be handed it.
ScreenerFactory = Callable[[date, Path | None], RecordScreener]


@dataclass(frozen=True, slots=True)
class BulkSettings:
    """What every worker needs: the date, the policy file, the longest line it reads, and how
    it builds its screener."""

    on: date
    policy_path: Path | None = None
    max_line_bytes: int = MAX_LINE_BYTES
    screener: ScreenerFactory = field(kw_only=True)


def _start_pool(workers: int, settings: BulkSettings) -> multiprocessing.pool.Pool:
    """A pool of ``workers`` processes, each with its screener.

    One screener is built here first: it loads the knowledge base and the value sets and
    compiles the reader's patterns into this process's caches, which forked workers inherit,
    so each of them builds its own in milliseconds instead of doing all of that again (about
    0.2 s of CPU per worker, a third of the workers' CPU on 300 large records).
    """
    settings.screener(settings.on, settings.policy_path)
    return multiprocessing.Pool(workers, initializer=_init_worker, initargs=(settings,))


def _init_worker(settings: BulkSettings) -> None:
    """Build the worker's screener once (knowledge base, policy, value sets)."""
    global _worker_screener, _worker_max_line  # one screener per worker process
    _worker_screener = settings.screener(settings.on, settings.policy_path)
    _worker_max_line = settings.max_line_bytes


def _screen_batch(batch: list[PatientLines], spool: str) -> ChunkResult:
    """Screen a batch in a worker and leave its decision lines in the file ``spool``.

    The bad lines come back numbered as read (a batch's records carry their line numbers);
    ``lines`` is not used.
    """
    assert _worker_screener is not None, "worker not initialised"  # noqa: S101
    tally = _Tally()
    for record in batch:
        tally.take(_worker_screener.screen(record))
    return _spooled(tally.result(0), spool)


@dataclass(frozen=True, slots=True)
class FileChunk:
    """Whole lines of an NDJSON file: a byte range of a plain file that starts and ends at
    line ends, or (``data``) lines of a gzip file already decompressed.

    The range does not say the number of its first line: finding it would mean reading every
    byte of the file in the parent. Whoever screens a chunk counts its lines
    (``ChunkResult.lines``), and the results, taken in order, number them. ``too_long`` marks
    one line longer than the limit (``length`` is then the line's length without its
    newline): it is reported, never read.
    """

    path: str
    offset: int
    length: int
    too_long: bool = False
    data: bytes | None = None


_SCAN_BLOCK = 64 * 1024


def _last_newline(handle: IO[bytes], start: int, end: int) -> int:
    """Where the last newline in ``[start, end)`` is, read backwards from ``end``; -1 if none."""
    at = end
    while at > start:
        low = max(start, at - _SCAN_BLOCK)
        handle.seek(low)
        cut = handle.read(at - low).rfind(b"\n")
        if cut >= 0:
            return low + cut
        at = low
    return -1


def _next_newline(handle: IO[bytes], start: int) -> int:
    """Where the first newline at or after ``start`` is; -1 if none (never holds the line)."""
    handle.seek(start)
    at = start
    while block := handle.read(16 * _SCAN_BLOCK):
        cut = block.find(b"\n")
        if cut >= 0:
            return at + cut
        at += len(block)
    return -1


def file_chunks(
    path: Path, size: int = CHUNK_BYTES, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[FileChunk]:
    """The file cut into ranges of about ``size`` bytes, each ending at a line end; a line
    longer than ``max_line_bytes`` becomes a range of its own, marked and never held whole.

    Each cut is found by reading backwards from it to the nearest line end, so the parent of
    the workers reads the bytes near the cuts, not the file (it read and copied every byte
    before, about a tenth of the screening's CPU on large records). Plain reads, not a memory
    map: the pages of a map would count in the parent's memory.
    """
    with path.open("rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        offset = 0
        while offset < total:
            end = offset + size
            if end >= total:
                yield FileChunk(str(path), offset, total - offset)
                return
            cut = _last_newline(handle, offset, end)
            if cut >= 0:
                yield FileChunk(str(path), offset, cut + 1 - offset)
                offset = cut + 1
                continue
            # One line longer than ``size``: a range of its own, marked if too long.
            newline = _next_newline(handle, end)
            line_end = total if newline < 0 else newline
            length = line_end - offset
            if length > max_line_bytes:
                yield FileChunk(str(path), offset, length, too_long=True)
            else:
                yield FileChunk(str(path), offset, line_end + 1 - offset)
            offset = line_end + 1


def gzip_chunks(
    path: Path, size: int = CHUNK_BYTES, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[FileChunk]:
    """A gzip file's lines, decompressed, in chunks of about ``size`` bytes of whole lines; a
    line longer than ``max_line_bytes`` becomes a marked chunk of its own, never held whole.

    Lines are counted as ``ndjson.iter_lines`` counts them (blank ones too, a last line
    without a newline included). When the data turns out broken, the lines before it are
    given out first, then the same InputError ``iter_lines`` raises, with the same count.
    """
    source = str(path)
    lines = 0  # whole lines given out or about to be
    block: list[bytes] = []
    held = 0
    pending = b""  # the start of a line not yet ended
    skipped = -1  # bytes so far of a too-long line being skipped, else -1
    try:
        with gzip.open(path, "rb") as stream:
            while piece := stream.read1(size):
                if skipped >= 0:
                    newline = piece.find(b"\n")
                    if newline < 0:
                        skipped += len(piece)
                        continue
                    if block:
                        yield FileChunk(source, 0, held, data=b"".join(block))
                        block, held = [], 0
                    lines += 1
                    yield FileChunk(source, 0, skipped + newline, too_long=True)
                    skipped, piece = -1, piece[newline + 1 :]
                text = pending + piece if pending else piece
                cut = text.rfind(b"\n") + 1
                whole, pending = text[:cut], text[cut:]
                if whole:
                    lines += whole.count(b"\n")
                    block.append(whole)
                    held += len(whole)
                if len(pending) > max_line_bytes:
                    skipped, pending = len(pending), b""
                if held >= size:
                    yield FileChunk(source, 0, held, data=b"".join(block))
                    block, held = [], 0
    except BROKEN_GZIP as broken:
        if block:
            yield FileChunk(source, 0, held, data=b"".join(block))
        raise broken_gzip(source, lines + (skipped >= 0), broken) from None
    if skipped >= 0:
        if block:
            yield FileChunk(source, 0, held, data=b"".join(block))
            block, held = [], 0
        yield FileChunk(source, 0, skipped, too_long=True)
    elif pending:
        block.append(pending)
        held += len(pending)
    if block:
        yield FileChunk(source, 0, held, data=b"".join(block))


def _chunks(path: Path, max_line_bytes: int) -> Iterator[FileChunk]:
    """The chunks of a plain or gzip file."""
    if _is_plain_file(path):
        return file_chunks(path, CHUNK_BYTES, max_line_bytes)
    return gzip_chunks(path, CHUNK_BYTES, max_line_bytes)


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


class _Tally:
    """Decision lines, bad lines and the summary of results taken in order."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.bad: list[BadLine] = []
        self.summary = BulkSummary()

    def take(self, result: RecordResult) -> None:
        """Count one record's result."""
        self.bad.extend(result.bad)
        if not result.output:
            return
        self.out.write(result.output)
        if result.not_screened:
            self.summary.add_not_screened(result.not_screened)
        else:
            self.summary.add(result.outcome, result.categories)

    def result(self, lines: int) -> ChunkResult:
        """What was taken, as one result of ``lines`` lines."""
        return ChunkResult(self.out.getvalue(), tuple(self.bad), self.summary, lines)


def screen_chunk(chunk: FileChunk, screener: RecordScreener, max_line: int) -> ChunkResult:
    """Read and screen one chunk: the work one worker (or the only process) does."""
    if chunk.too_long:
        reason = long_line_reason(chunk.length, max_line)
        return ChunkResult(b"", (BadLine(chunk.path, 1, reason),), BulkSummary(), 1)
    data = chunk.data
    if data is None:
        with open(chunk.path, "rb") as handle:
            handle.seek(chunk.offset)
            data = handle.read(chunk.length)
    tally = _Tally()
    raws = data.split(b"\n")
    if raws[-1] == b"":
        raws.pop()  # the chunk ends with a newline: no line after it
    for number, raw in enumerate(raws, start=1):
        if len(raw) > max_line:
            tally.bad.append(BadLine(chunk.path, number, long_line_reason(len(raw), max_line)))
            continue
        text = raw.strip()
        if not text:
            continue
        tally.take(screener.screen_bundle_line(chunk.path, number, text))
    return tally.result(len(raws))


def _spooled(result: ChunkResult, spool: str) -> ChunkResult:
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


def _screen_chunk(chunk: FileChunk, spool: str) -> ChunkResult:
    """Screen one chunk in a worker and leave its decision lines in the file ``spool``."""
    assert _worker_screener is not None, "worker not initialised"  # noqa: S101
    return _spooled(screen_chunk(chunk, _worker_screener, _worker_max_line), spool)


# copy_file_range refuses files on two file systems (EXDEV), an output opened for appending
# (EBADF), and files it cannot copy (EINVAL, EOPNOTSUPP; ENOSYS on old kernels); sendfile
# refuses some outputs (EINVAL). Both then leave the output as it was.
_NOT_THIS_WAY = frozenset(
    {errno.EXDEV, errno.EBADF, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS, errno.ENOTSUP}
)


class _Appender:
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


def _is_plain_file(path: Path) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as probe:
        return probe.read(2) != GZIP_MAGIC


def record_bytes(record: PatientLines) -> int:
    """The bytes of a record's lines."""
    return sum(len(line.data) for line in record.lines)


def batches(
    records: Iterable[PatientLines | BadLine],
    on_bad: Callable[[BadLine], None],
    max_records: int = BATCH_SIZE,
    max_bytes: int = BATCH_BYTES,
) -> Iterator[list[PatientLines]]:
    """Records in batches of at most ``max_records`` records and ``max_bytes`` bytes of lines
    (a record larger than that alone); bad lines from grouping are passed on at once. When the
    input breaks off (InputError: a truncated gzip file), the records read so far are still
    given out, then the error."""
    batch: list[PatientLines] = []
    held = 0
    try:
        for record in records:
            if isinstance(record, BadLine):
                on_bad(record)
                continue
            size = record_bytes(record)
            if batch and held + size > max_bytes:
                yield batch
                batch, held = [], 0
            batch.append(record)
            held += size
            if len(batch) >= max_records or held >= max_bytes:
                yield batch
                batch, held = [], 0
    except InputError:
        if batch:
            yield batch
        raise
    if batch:
        yield batch


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

    def batch(self, result: ChunkResult, appender: _Appender) -> None:
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


def run_local(
    records: Iterable[PatientLines | BadLine],
    settings: BulkSettings,
    writer: BulkWriter,
    workers: int = 1,
) -> BulkSummary:
    """Screen every record with ``workers`` processes (in-process for one) and write results."""
    if workers <= 1:
        # In one process a batch would only hold memory: each record is screened as it comes.
        screener = settings.screener(settings.on, settings.policy_path)
        for record in records:
            if isinstance(record, BadLine):
                writer.bad(record)
            else:
                writer.results([screener.screen(record)])
        return writer.summary
    window: deque[tuple[AsyncResult[ChunkResult], int]] = deque()
    limit = workers * BATCHES_IN_FLIGHT_PER_WORKER
    byte_limit = workers * BYTES_IN_FLIGHT_PER_WORKER
    held = 0
    appender = _Appender(writer.out)
    # The workers' files: see run_inputs.
    with (
        tempfile.TemporaryDirectory(prefix="mesoscreen-bulk-") as spools,
        _start_pool(workers, settings) as pool,
    ):
        try:
            for sequence, batch in enumerate(batches(records, writer.bad)):
                size = sum(record_bytes(record) for record in batch)
                spool = os.path.join(spools, f"{sequence}.ndjson")
                window.append((pool.apply_async(_screen_batch, (batch, spool)), size))
                held += size
                while window and (len(window) >= limit or held >= byte_limit):
                    done, size = window.popleft()
                    writer.batch(done.get(), appender)
                    held -= size
        except InputError:
            # Batches in flight are written even when the input broke off.
            while window:
                writer.batch(window.popleft()[0].get(), appender)
            raise
        while window:
            writer.batch(window.popleft()[0].get(), appender)
    return writer.summary


def run_inputs(
    inputs: list[Path], settings: BulkSettings, writer: BulkWriter, workers: int = 1
) -> BulkSummary:
    """Screen every input: files in chunks (plain files read by the workers, gzip files
    decompressed here; in this process for one worker), folders by record."""
    if not all(path.is_file() for path in inputs):
        records = records_from_inputs(inputs, settings.max_line_bytes)
        return run_local(records, settings, writer, workers)
    numbering = {"file": -1, "next": 1}  # lines are numbered from 1 in each file

    appender = _Appender(writer.out)

    def take(result: ChunkResult, file: int) -> None:
        if file != numbering["file"]:
            numbering["file"], numbering["next"] = file, 1
        first = numbering["next"]
        appender.write(result)
        for line in result.bad:
            writer.bad(BadLine(line.source, first + line.number - 1, line.reason))
        writer.summary.merge(result.summary)
        numbering["next"] = first + result.lines
        if writer.progress:
            writer.progress(result.summary.patients + sum(result.summary.not_screened.values()))

    if workers <= 1:
        screener = settings.screener(settings.on, settings.policy_path)
        for file, path in enumerate(inputs):
            for chunk in _chunks(path, settings.max_line_bytes):
                take(screen_chunk(chunk, screener, settings.max_line_bytes), file)
        return writer.summary
    window: deque[tuple[AsyncResult[ChunkResult], int, int]] = deque()
    limit = workers * BATCHES_IN_FLIGHT_PER_WORKER
    # Decompressed chunks wait in memory: at most this many bytes of them at a time.
    byte_limit = workers * BYTES_IN_FLIGHT_PER_WORKER
    held = 0

    def take_oldest() -> None:
        nonlocal held
        done, of, size = window.popleft()
        take(done.get(), of)
        held -= size

    # The workers' files live in a folder of this run's own, removed with whatever is left in
    # it when the run ends or fails, after the pool (and so every worker) has stopped. The
    # output only ever holds the decisions of whole chunks, in input order.
    with (
        tempfile.TemporaryDirectory(prefix="mesoscreen-bulk-") as spools,
        _start_pool(workers, settings) as pool,
    ):
        sequence = 0
        try:
            for file, path in enumerate(inputs):
                for chunk in _chunks(path, settings.max_line_bytes):
                    spool = os.path.join(spools, f"{sequence}.ndjson")
                    sequence += 1
                    size = len(chunk.data) if chunk.data is not None else 0
                    window.append((pool.apply_async(_screen_chunk, (chunk, spool)), file, size))
                    held += size
                    while window and (len(window) >= limit or held >= byte_limit):
                        take_oldest()
        except InputError:
            # The chunks in flight are written also when a gzip file broke off.
            while window:
                take_oldest()
            raise
        while window:
            take_oldest()
    return writer.summary


class LocalBulkEngine:
    """The ``BulkEngine`` of this machine: ``workers`` processes (in-process for one)."""

    def __init__(self, screener: ScreenerFactory, workers: int = 1) -> None:
        self._screener = screener
        self._workers = workers

    def run(
        self,
        inputs: Sequence[Path],
        job: BulkJob,
        out: IO[bytes],
        errors: IO[bytes],
        progress: Callable[[int], None] | None = None,
    ) -> BulkSummary:
        """Screen every input, writing decisions to ``out`` and bad lines to ``errors``."""
        settings = BulkSettings(job.on, job.policy_path, job.max_line_bytes,
                                screener=self._screener)  # fmt: skip
        writer = BulkWriter(out, errors, progress)
        return run_inputs(list(inputs), settings, writer, workers=self._workers)
