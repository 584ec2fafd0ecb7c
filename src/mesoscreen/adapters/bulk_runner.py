"""The local bulk engine: screen patient records on N worker processes, in input order.

Memory stays flat: records are sent to the workers in small batches with a bounded number
in flight, and results are written as they come back.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import IO

from mesoscreen.adapters.bulk_export import BadLine, PatientLines
from mesoscreen.adapters.bulk_records import RecordResult, RecordScreener
from mesoscreen.adapters.ndjson import dumps_line
from mesoscreen.services.bulk_screening import BulkSummary

BATCH_SIZE = 256
BATCHES_IN_FLIGHT_PER_WORKER = 4

_worker_screener: RecordScreener | None = None


@dataclass(frozen=True, slots=True)
class BulkSettings:
    """What every worker needs to build its screener: the date and the policy file."""

    on: date
    policy_path: Path | None = None


def _init_worker(settings: BulkSettings) -> None:
    """Build the worker's screener once (knowledge base, policy, value sets)."""
    global _worker_screener  # one screener per worker process
    _worker_screener = RecordScreener.build(settings.on, settings.policy_path)


def _screen_batch(batch: list[PatientLines]) -> list[RecordResult]:
    """Screen a batch in a worker."""
    assert _worker_screener is not None, "worker not initialised"  # noqa: S101
    return [_worker_screener.screen(record) for record in batch]


def _batches(
    records: Iterable[PatientLines | BadLine], on_bad: Callable[[BadLine], None]
) -> Iterator[list[PatientLines]]:
    """Records in batches; bad lines from grouping are passed on at once."""
    batch: list[PatientLines] = []
    for record in records:
        if isinstance(record, BadLine):
            on_bad(record)
            continue
        batch.append(record)
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
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

    def results(self, results: list[RecordResult]) -> None:
        """Write a batch of results."""
        for result in results:
            for line in result.bad:
                self.bad(line)
            if not result.output:
                continue
            self.out.write(result.output)
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
        screener = RecordScreener.build(settings.on, settings.policy_path)
        for batch in _batches(records, writer.bad):
            writer.results([screener.screen(record) for record in batch])
        return writer.summary
    window: deque[AsyncResult[list[RecordResult]]] = deque()
    limit = workers * BATCHES_IN_FLIGHT_PER_WORKER
    with multiprocessing.Pool(workers, initializer=_init_worker, initargs=(settings,)) as pool:
        for batch in _batches(records, writer.bad):
            window.append(pool.apply_async(_screen_batch, (batch,)))
            if len(window) >= limit:
                writer.results(window.popleft().get())
        while window:
            writer.results(window.popleft().get())
    return writer.summary
