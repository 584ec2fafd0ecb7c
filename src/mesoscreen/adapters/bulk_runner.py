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

import gc
import multiprocessing
import multiprocessing.process
import os
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import IO

from mesoscreen.adapters.bulk_chunks import FileChunk, chunks_of
from mesoscreen.adapters.bulk_export import BadLine, PatientLines, records_from_inputs
from mesoscreen.adapters.bulk_output import (
    BulkWriter,
    ChunkResult,
    ChunkTally,
    SpoolAppender,
    spooled,
)
from mesoscreen.adapters.bulk_records import RecordScreener
from mesoscreen.adapters.ndjson import MAX_LINE_BYTES, long_line_reason
from mesoscreen.domain.errors import InputError, WorkerStoppedError
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


# Forked workers inherit the parent's caches (below); where there is no fork, the default.
_FORK = (
    multiprocessing.get_context("fork")
    if "fork" in multiprocessing.get_all_start_methods()
    else None
)


class WorkerPool:
    """``workers`` processes, each with its screener, that screen the pieces given to them
    (a context manager: leaving it drops the pieces not yet handed to a worker and waits for
    the others, those under way and those waiting in the workers' queue: at most twice as many
    pieces as workers, and one more).

    One screener is built here first: it loads the knowledge base and the value sets and
    compiles the reader's patterns into this process's caches, which forked workers inherit,
    so each of them builds its own in milliseconds instead of doing all of that again (about
    0.2 s of CPU per worker, a third of the workers' CPU on 300 large records).

    The workers start with the first piece (``submit``), and the objects they inherit are
    frozen out of the garbage collector while they are forked: a worker's collections would
    otherwise walk every one of them and write to its header, copying each page that holds
    one. Frozen, they stay shared with the parent (a worker's private memory 52-55 -> 19-20 MB
    on small records, a third of its page faults gone; its CPU unchanged within the noise).
    The parent's own are unfrozen once the workers exist, unless this process had frozen them
    itself.

    A ``concurrent.futures`` process pool, not ``multiprocessing.Pool``: when a worker dies
    (killed by the system for lack of memory, say), the pieces it and the others held fail
    with ``BrokenProcessPool``, which ``result`` reports as ``WorkerStoppedError``, where
    ``multiprocessing.Pool`` starts another worker and waits for the lost piece for ever.
    And its thread that watches the workers polls the pipe of results too, so it spins
    whenever a result waits to be read: 60-100 ms of the parent's CPU on 80,000 patients.
    """

    def __init__(self, workers: int, settings: BulkSettings) -> None:
        settings.screener(settings.on, settings.policy_path)
        self._executor = ProcessPoolExecutor(
            workers, _FORK, initializer=_init_worker, initargs=(settings,)
        )
        self._started = False

    def submit(self, work: Callable[..., ChunkResult], *args: object) -> Future[ChunkResult]:
        """``work(*args)`` in a worker; WorkerStoppedError if a worker has died."""
        if self._started:
            return _submitted(self._executor, work, args)
        frozen_already = gc.get_freeze_count() > 0
        gc.freeze()
        try:
            return _submitted(self._executor, work, args)  # the workers are made here
        finally:
            self._started = True
            if not frozen_already:
                gc.unfreeze()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # The pieces handed to the workers end (each a chunk or a batch, bounded in bytes), so
        # that no worker still writes in the spool folder once it is removed.
        self._executor.shutdown(wait=True, cancel_futures=True)


def _submitted(
    executor: ProcessPoolExecutor, work: Callable[..., ChunkResult], args: tuple[object, ...]
) -> Future[ChunkResult]:
    try:
        return executor.submit(work, *args)
    except BrokenProcessPool as broken:
        raise WorkerStoppedError() from broken


def result(done: Future[ChunkResult]) -> ChunkResult:
    """What a worker gave for a piece; WorkerStoppedError if a worker died before that."""
    try:
        return done.result()
    except BrokenProcessPool as broken:
        raise WorkerStoppedError() from broken


def _init_worker(settings: BulkSettings) -> None:
    """Build the worker's screener once (knowledge base, policy, value sets), and end the
    worker with its parent."""
    global _worker_screener, _worker_max_line  # one screener per worker process
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent,), name="parent-watch", daemon=True).start()
    _worker_screener = settings.screener(settings.on, settings.policy_path)
    _worker_max_line = settings.max_line_bytes


def _end_with(parent: multiprocessing.process.BaseProcess) -> None:
    """End this process once ``parent`` has ended, however it ended.

    A worker of a ``concurrent.futures`` pool waits for work on a pipe that it holds open
    itself, so a parent killed (for lack of memory, by ``timeout``) left its workers waiting for
    ever, each holding its memory; ``multiprocessing.Pool``'s workers saw the pipe close.
    """
    parent.join()
    os._exit(1)


def _screen_batch(batch: list[PatientLines], spool: str) -> ChunkResult:
    """Screen a batch in a worker and leave its decision lines in the file ``spool``.

    The bad lines come back numbered as read (a batch's records carry their line numbers);
    ``lines`` is not used.
    """
    assert _worker_screener is not None, "worker not initialised"  # noqa: S101
    tally = ChunkTally()
    for record in batch:
        tally.take(_worker_screener.screen(record))
    return spooled(tally.result(0), spool)


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
    tally = ChunkTally()
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


def _screen_chunk(chunk: FileChunk, spool: str) -> ChunkResult:
    """Screen one chunk in a worker and leave its decision lines in the file ``spool``."""
    assert _worker_screener is not None, "worker not initialised"  # noqa: S101
    return spooled(screen_chunk(chunk, _worker_screener, _worker_max_line), spool)


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
    window: deque[tuple[Future[ChunkResult], int]] = deque()
    limit = workers * BATCHES_IN_FLIGHT_PER_WORKER
    byte_limit = workers * BYTES_IN_FLIGHT_PER_WORKER
    held = 0
    appender = SpoolAppender(writer.out)
    # The workers' files: see run_inputs.
    with (
        tempfile.TemporaryDirectory(prefix="mesoscreen-bulk-") as spools,
        WorkerPool(workers, settings) as pool,
    ):
        try:
            for sequence, batch in enumerate(batches(records, writer.bad)):
                size = sum(record_bytes(record) for record in batch)
                spool = os.path.join(spools, f"{sequence}.ndjson")
                window.append((pool.submit(_screen_batch, batch, spool), size))
                held += size
                while window and (len(window) >= limit or held >= byte_limit):
                    done, size = window.popleft()
                    writer.batch(result(done), appender)
                    held -= size
        except InputError:
            # Batches in flight are written even when the input broke off.
            while window:
                writer.batch(result(window.popleft()[0]), appender)
            raise
        while window:
            writer.batch(result(window.popleft()[0]), appender)
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

    appender = SpoolAppender(writer.out)

    def take(result: ChunkResult, file: int) -> None:
        """Write a chunk's result, its bad lines numbered in their file."""
        if file != numbering["file"]:
            numbering["file"], numbering["next"] = file, 1
        first = numbering["next"]
        numbered = tuple(BadLine(line.source, first + line.number - 1, line.reason)
                         for line in result.bad)  # fmt: skip
        writer.batch(replace(result, bad=numbered), appender)
        numbering["next"] = first + result.lines

    if workers <= 1:
        screener = settings.screener(settings.on, settings.policy_path)
        for file, path in enumerate(inputs):
            for chunk in chunks_of(path, settings.max_line_bytes):
                take(screen_chunk(chunk, screener, settings.max_line_bytes), file)
        return writer.summary
    window: deque[tuple[Future[ChunkResult], int, int]] = deque()
    limit = workers * BATCHES_IN_FLIGHT_PER_WORKER
    # Decompressed chunks wait in memory: at most this many bytes of them at a time.
    byte_limit = workers * BYTES_IN_FLIGHT_PER_WORKER
    held = 0

    def take_oldest() -> None:
        nonlocal held
        done, of, size = window.popleft()
        take(result(done), of)
        held -= size

    # The workers' files live in a folder of this run's own, removed with whatever is left in
    # it when the run ends or fails, after the pool (and so every worker) has stopped. The
    # output only ever holds the decisions of whole chunks, in input order.
    with (
        tempfile.TemporaryDirectory(prefix="mesoscreen-bulk-") as spools,
        WorkerPool(workers, settings) as pool,
    ):
        sequence = 0
        try:
            for file, path in enumerate(inputs):
                for chunk in chunks_of(path, settings.max_line_bytes):
                    spool = os.path.join(spools, f"{sequence}.ndjson")
                    sequence += 1
                    size = len(chunk.data) if chunk.data is not None else 0
                    window.append((pool.submit(_screen_chunk, chunk, spool), file, size))
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
