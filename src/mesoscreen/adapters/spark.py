"""The Spark bulk engine: the same record screener on Apache Spark, for exports larger than
one machine handles.

Spark does the distribution (reading, grouping resources by patient, scheduling); each
partition builds the same ``RecordScreener`` the local engine uses, so decisions are the
same. Results come back to the driver in a deterministic order and are written by the same
``BulkWriter``. PySpark is an optional extra: ``pip install mesoscreen[spark]``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from mesoscreen.adapters.bulk_export import BadLine, PatientLines, _locate, ndjson_files
from mesoscreen.adapters.bulk_output import BulkWriter
from mesoscreen.adapters.bulk_records import RecordResult
from mesoscreen.adapters.bulk_runner import BulkSettings, ScreenerFactory
from mesoscreen.adapters.ndjson import Line, long_line_reason
from mesoscreen.domain.errors import InputError
from mesoscreen.services.bulk_screening import BulkSummary
from mesoscreen.services.ports import BulkJob

SortKey = tuple[int, int, str, int]


def _session(cores: int) -> Any:
    """A local-mode Spark session (or the cluster's, when run under spark-submit)."""
    try:
        from pyspark.sql import SparkSession  # optional extra, imported on use
    except ImportError:
        raise InputError(
            "--engine spark needs PySpark: pip install 'mesoscreen[spark]' (and Java 17+)"
        ) from None
    # Python workers run this interpreter (unless told otherwise), so they import the same
    # mesoscreen as the driver.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.appName("mesoscreen-bulk")
        .master(f"local[{cores}]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _numbered(sc: Any, path: Path, max_bytes: int) -> Any:
    """Line or BadLine for the non-blank lines of a file (gzip is read by Spark); a line
    longer than ``max_bytes`` is a BadLine, as with the local engine."""
    source = str(path)

    def line(pair: tuple[str, int]) -> Line | BadLine:
        raw = pair[0].encode()
        if len(raw) > max_bytes:
            return BadLine(source, pair[1] + 1, long_line_reason(len(raw), max_bytes))
        return Line(source, pair[1] + 1, raw.strip())

    return (
        sc.textFile(source)
        .zipWithIndex()
        .map(line)
        .filter(lambda item: isinstance(item, BadLine) or bool(item.data))
    )


def _bundle_records(sc: Any, index: int, path: Path, max_bytes: int) -> Any:
    """Bundle-per-line records keyed for output order."""
    return _numbered(sc, path, max_bytes).map(
        lambda item: (
            (index, 0, item.source, item.number),
            item if isinstance(item, BadLine) else PatientLines("", (item,), is_bundle=True),
        )
    )


def _folder_records(sc: Any, index: int, folder: Path, max_bytes: int) -> Any:
    """A Bulk Data folder grouped by patient with Spark's own shuffle."""
    files = ndjson_files(folder)
    if not files:
        return sc.emptyRDD()
    lines = sc.union([_numbered(sc, f, max_bytes) for f in files]).map(
        lambda item: item if isinstance(item, BadLine) else _locate(item)
    )
    bad = lines.filter(lambda x: isinstance(x, BadLine)).map(
        lambda b: ((index, 0, b.source, b.number), b)
    )
    groups = (
        lines.filter(lambda x: not isinstance(x, BadLine))
        .groupByKey()
        .map(
            lambda kv: (
                (index, 1, kv[0], 0),
                PatientLines(kv[0], tuple(sorted(kv[1], key=lambda ln: (ln.source, ln.number)))),
            )
        )
    )
    return bad.union(groups)


def _screen_partition(
    settings: BulkSettings,
) -> Any:
    """A partition function that builds one screener and screens every record in it."""

    def screen(items: Iterable[tuple[SortKey, PatientLines | BadLine]]) -> Iterator[Any]:
        screener = settings.screener(settings.on, settings.policy_path)
        for key, record in items:
            if isinstance(record, BadLine):
                yield key, RecordResult(bad=(record,))
            else:
                yield key, screener.screen(record)

    return screen


def run_spark(
    inputs: list[Path], settings: BulkSettings, writer: BulkWriter, cores: int = 2
) -> BulkSummary:
    """Screen every input on Spark and write the results in input order."""
    session = _session(cores)
    try:
        sc = session.sparkContext
        parts = [
            _folder_records(sc, i, p, settings.max_line_bytes)
            if p.is_dir()
            else _bundle_records(sc, i, p, settings.max_line_bytes)
            for i, p in enumerate(inputs)
        ]
        results = (
            sc.union(parts)
            .mapPartitions(_screen_partition(settings))
            .sortByKey()
            .map(lambda kv: kv[1])
        )
        for result in results.toLocalIterator():
            writer.results([result])
    finally:
        session.stop()
    return writer.summary


class SparkBulkEngine:
    """The ``BulkEngine`` on Spark (local mode on ``cores``, or the cluster's under
    spark-submit); PySpark is an optional extra, imported when a run starts."""

    def __init__(self, screener: ScreenerFactory, cores: int = 2) -> None:
        self._screener = screener
        self._cores = cores

    def run(
        self,
        inputs: Sequence[Path],
        job: BulkJob,
        out: IO[bytes],
        errors: IO[bytes],
        progress: Callable[[int], None] | None = None,
    ) -> BulkSummary:
        """Screen every input on Spark, writing decisions and bad lines in input order."""
        settings = BulkSettings(job.on, job.policy_path, job.max_line_bytes,
                                screener=self._screener)  # fmt: skip
        writer = BulkWriter(out, errors, progress)
        return run_spark(list(inputs), settings, writer, cores=self._cores)
