"""The pool of bulk workers: what the workers inherit and what the parent keeps, and a run
whose worker dies."""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path
from types import FrameType

import orjson
import pytest

from mesoscreen.adapters import bulk_chunks
from mesoscreen.adapters.bulk_export import PatientLines
from mesoscreen.adapters.bulk_output import BulkWriter, ChunkResult
from mesoscreen.adapters.bulk_records import RecordResult, RecordScreener
from mesoscreen.adapters.bulk_runner import BulkSettings, WorkerPool, result, run_inputs, run_local
from mesoscreen.adapters.ndjson import Line
from mesoscreen.bootstrap import record_screener
from mesoscreen.domain.errors import IntakeError, WorkerStoppedError

ON = date(2026, 11, 25)
# A patient whose line makes the worker that screens it die, as the system kills a process.
DOOMED = "doomed-patient"
# Long enough for any run here; a run that waits past it fails instead of hanging.
PATIENCE_SECONDS = 60


def _freeze_count(*_: object) -> int:
    return gc.get_freeze_count()


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """This process's objects not frozen before and after the test."""
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_workers_start_with_the_parents_objects_frozen_and_the_parent_is_unfrozen() -> None:
    """The workers' collections never walk what they inherited (each worker sees the
    inherited objects frozen); the parent's collections walk its own objects as before."""
    with WorkerPool(2, BulkSettings(ON, screener=record_screener)) as pool:
        started = pool.submit(_freeze_count)
        assert _freeze_count() == 0
        counts = [result(started), *(result(pool.submit(_freeze_count)) for _ in range(3))]
    assert all(count > 10_000 for count in counts), counts  # type: ignore[operator]


@pytest.mark.usefixtures("unfrozen")
def test_a_freeze_the_parent_made_itself_is_left_in_place() -> None:
    """A process that froze its objects on purpose (a server that forks, say) keeps them
    frozen after starting a pool."""
    gc.freeze()
    before = _freeze_count()
    with WorkerPool(1, BulkSettings(ON, screener=record_screener)) as pool:
        result(pool.submit(_freeze_count))
    assert _freeze_count() >= before > 0


def _die() -> None:
    """Die as the system kills a process, once the pieces before have long been screened."""
    time.sleep(1)
    os.kill(os.getpid(), signal.SIGKILL)


def _killed() -> ChunkResult:
    """A piece of work whose worker is killed at once."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("not reached")


@pytest.mark.usefixtures("patience")
def test_a_pool_whose_worker_died_says_so_and_takes_no_more_work() -> None:
    with WorkerPool(2, BulkSettings(ON, screener=record_screener)) as pool:
        with pytest.raises(WorkerStoppedError) as stopped:
            result(pool.submit(_killed))
        with pytest.raises(WorkerStoppedError) as refused:
            pool.submit(_freeze_count)
    # What the pool said is kept for whoever reads the chain (a log's traceback, a debugger).
    assert isinstance(stopped.value.__cause__, BrokenProcessPool)
    assert isinstance(refused.value.__cause__, BrokenProcessPool)


def _refused() -> ChunkResult:
    """A piece of work that raises an error of Mesoscreen's whose constructor takes more than
    a message."""
    raise IntakeError("allergens", "refused in a worker")


def test_an_error_raised_in_a_worker_reaches_the_parent_whole() -> None:
    """Not taken for a dead worker: the error the worker raised, with its attributes."""
    with WorkerPool(2, BulkSettings(ON, screener=record_screener)) as pool:
        with pytest.raises(IntakeError) as raised:
            result(pool.submit(_refused))
        assert (raised.value.field, raised.value.problem) == ("allergens", "refused in a worker")
        assert result(pool.submit(_freeze_count)) >= 0  # the pool goes on


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def orphaned_run() -> None:
    """A parent of two workers that prints their ids, then waits to be killed (run as its own
    process by the test below)."""
    with WorkerPool(2, BulkSettings(ON, screener=record_screener)) as pool:
        pids = {result(done) for done in [pool.submit(_pid_after, 0.5) for _ in range(2)]}
        print(" ".join(map(str, sorted(pids))), flush=True)  # noqa: T201 (read by the test)
        time.sleep(PATIENCE_SECONDS)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie waiting to be reaped has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_when_their_parent_is_killed(how: signal.Signals) -> None:
    """A parent killed (for lack of memory, by ``timeout``) leaves no worker waiting for work
    for ever, holding its memory."""
    with subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", f"from {__name__} import orphaned_run; orphaned_run()"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[3],
    ) as parent:
        try:
            assert parent.stdout is not None
            pids = [int(pid) for pid in parent.stdout.readline().split()]
            assert len(pids) == 2
            assert all(_alive(pid) for pid in pids)
            parent.send_signal(how)
            parent.wait(timeout=PATIENCE_SECONDS)
            ended = time.monotonic() + 10
            while any(_alive(pid) for pid in pids) and time.monotonic() < ended:
                time.sleep(0.05)
            assert not any(_alive(pid) for pid in pids)
        finally:
            parent.kill()


class _Doomed(RecordScreener):
    """The bulk screener, but the process screening ``DOOMED``'s line is killed."""

    def screen_bundle_line(self, source: str, number: int, data: bytes) -> RecordResult:
        if DOOMED.encode() in data:
            _die()
        return super().screen_bundle_line(source, number, data)

    def screen(self, record: PatientLines) -> RecordResult:
        if any(DOOMED.encode() in line.data for line in record.lines):
            _die()
        return super().screen(record)


def doomed_screener(on: date, policy: Path | None) -> RecordScreener:
    """A ``ScreenerFactory`` of ``_Doomed`` screeners (module level: workers are handed it)."""
    shipped = record_screener(on, policy)
    return _Doomed(shipped.service, shipped.reader, on)


def _line(patient: str) -> bytes:
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": patient, "gender": "female"}},
    ]})  # fmt: skip


@pytest.fixture
def patience() -> Iterator[None]:
    """The test fails, rather than hangs, if it waits longer than ``PATIENCE_SECONDS``."""

    def give_up(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"still waiting after {PATIENCE_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(PATIENCE_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("patience")
@pytest.mark.parametrize("kind", ["file", "records"])
def test_a_run_whose_worker_dies_stops_saying_so_and_keeps_the_pieces_before(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed (as the system kills one for lack of memory) fails the run with
    ``WorkerStoppedError``: no wait for ever on the piece it held. What is written is the
    decisions of the whole pieces before it, in order from the first line (pieces of 4 KB,
    about 35 lines, from a file; batches of 256 records)."""
    monkeypatch.setattr(bulk_chunks, "CHUNK_BYTES", 4096)
    patients = [f"p{n}" for n in range(600)]
    lines = [_line(p) for p in patients[:300]] + [_line(DOOMED)]
    lines += [_line(p) for p in patients[300:]]
    out = io.BytesIO()
    settings = BulkSettings(ON, screener=doomed_screener)
    export = tmp_path / "export.ndjson"
    export.write_bytes(b"\n".join(lines) + b"\n")
    records = [PatientLines("", (Line("in", n, line),), is_bundle=True)
               for n, line in enumerate(lines, start=1)]  # fmt: skip

    def run() -> None:
        writer = BulkWriter(out, io.BytesIO())
        if kind == "file":
            run_inputs([export], settings, writer, workers=2)
        else:
            run_local(records, settings, writer, workers=2)

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the spool folder goes
    with pytest.raises(WorkerStoppedError, match="worker process stopped"):
        run()
    assert multiprocessing.active_children() == []
    assert list(tmp_path.glob("mesoscreen-bulk-*")) == []
    written = [orjson.loads(line)["patient"] for line in out.getvalue().splitlines()]
    assert written == patients[: len(written)]
    if kind == "file":
        assert 300 - 4096 // len(lines[0]) <= len(written) <= 300
    else:
        assert len(written) == 256
