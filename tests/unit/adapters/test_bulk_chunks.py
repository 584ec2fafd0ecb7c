"""Plain files screened in byte ranges and gzip files in decompressed chunks, in this process
or by workers: the same lines and line numbers as record by record."""

from __future__ import annotations

import errno
import gzip
import io
import os
import tempfile
from datetime import date
from functools import partial
from pathlib import Path

import orjson
import pytest
from benchmarks.synthetic_export import ExportGenerator, bundle_of

from mesoscreen.adapters import bulk_chunks, bulk_runner
from mesoscreen.adapters.bulk_export import records_from_inputs
from mesoscreen.adapters.bulk_output import BulkWriter
from mesoscreen.adapters.bulk_runner import BulkSettings, run_inputs, run_local
from mesoscreen.adapters.ndjson import iter_lines
from mesoscreen.bootstrap import record_screener

ON = date(2026, 11, 25)


def _export(path: Path, seed: int) -> None:
    """Patients with a bad line, a blank line, a long line and no final newline among them."""
    good = [orjson.dumps(bundle_of(r)) for r in ExportGenerator(seed).patients(12)]
    lines = [*good[:3], b'{"resourceType": "Bundle", "entry": [', *good[3:6], b"",
             b'{"resourceType": "Bundle", "pad": "' + b"x" * 9000 + b'"}', *good[6:9],
             b"[1, 2]", *good[9:]]  # fmt: skip
    path.write_bytes(b"\n".join(lines))


def _run(inputs: list[Path], workers: int) -> tuple[bytes, bytes, int]:
    out, errors = io.BytesIO(), io.BytesIO()
    settings = BulkSettings(ON, max_line_bytes=8000, screener=record_screener)
    summary = run_inputs(inputs, settings, BulkWriter(out, errors), workers=workers)
    return out.getvalue(), errors.getvalue(), summary.patients


@pytest.mark.parametrize("workers", [1, 2])
def test_small_ranges_give_the_lines_and_line_numbers_of_reading_record_by_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Ranges of a few lines each, over two files, plain or gzip: decisions and numbered bad
    lines are byte for byte those of reading the files record by record (the error lines of
    the gzip copies name the gzip files)."""
    plain = [tmp_path / "a.ndjson", tmp_path / "b.ndjson"]
    for seed, path in enumerate(plain):
        _export(path, seed)
    zipped = []
    for path in plain:
        copy = path.with_name(path.name + ".gz")
        copy.write_bytes(gzip.compress(path.read_bytes()))
        zipped.append(copy)
    expected = _by_record(plain)
    monkeypatch.setattr(bulk_chunks, "CHUNK_BYTES", 1500)
    assert _run(plain, workers) == expected
    out, errors, patients = _run(zipped, workers)
    assert (out, errors.replace(b'.ndjson.gz"', b'.ndjson"'), patients) == expected
    assert expected[2] == 24
    numbers = [orjson.loads(e)["line"] for e in expected[1].splitlines()]
    assert numbers == [4, 9, 13, 4, 9, 13]


def _by_record(inputs: list[Path]) -> tuple[bytes, bytes, int]:
    """What reading ``inputs`` line by line, one record at a time, gives."""
    out, errors = io.BytesIO(), io.BytesIO()
    settings = BulkSettings(ON, max_line_bytes=8000, screener=record_screener)
    records = records_from_inputs(inputs, settings.max_line_bytes)
    summary = run_local(records, settings, BulkWriter(out, errors), workers=1)
    return out.getvalue(), errors.getvalue(), summary.patients


def test_cuts_are_found_reading_back_over_several_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines longer than the block read backwards from a cut: the ranges still cover the
    file once, end at line ends, and a line over the limit is a marked range of its own."""
    monkeypatch.setattr(bulk_chunks, "_SCAN_BLOCK", 7)
    path = tmp_path / "lines.ndjson"
    lines = [b"a" * (i * 13 % 90 + 1) for i in range(40)] + [b"z" * 500, b"b" * 30]
    path.write_bytes(b"\n".join(lines) + b"\n")
    data = path.read_bytes()
    chunks = list(bulk_chunks.file_chunks(path, size=100, max_line_bytes=300))
    kept = [c for c in chunks if not c.too_long]
    assert [(c.offset, c.length) for c in chunks if c.too_long] == [(data.index(b"z"), 500)]
    assert b"".join(data[c.offset : c.offset + c.length] for c in kept) == data.replace(
        b"z" * 500 + b"\n", b""
    )
    assert all(data[c.offset + c.length - 1] == ord("\n") for c in kept)


def _file_run(inputs: list[Path], out_path: Path, workers: int, mode: str = "wb") -> int:
    """``run_inputs`` writing to a real file, as ``mesoscreen bulk`` does."""
    settings = BulkSettings(ON, max_line_bytes=8000, screener=record_screener)
    with out_path.open(mode) as out, (out_path.parent / "errors.ndjson").open("wb") as errors:
        return run_inputs(inputs, settings, BulkWriter(out, errors), workers=workers).patients


@pytest.fixture
def spool_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder in which runs make their temporary folders, empty at first."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.mark.parametrize(("mode", "form"), [("wb", "plain"), ("ab", "plain"), ("wb", "gzip")])
def test_workers_files_are_appended_in_order_to_a_file_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spool_root: Path, mode: str, form: str
) -> None:
    """Two workers leave each range's (gzip: each batch's) decisions in a file that is copied
    into the output (in the kernel; an output opened for appending, which copy_file_range
    refuses, by the next way): the output and the numbered bad lines are byte for byte those
    of one worker, and no file is left."""
    plain = [tmp_path / "a.ndjson", tmp_path / "b.ndjson"]
    for seed, path in enumerate(plain):
        _export(path, seed)
    expected, expected_errors, patients = _run(plain, 1)
    monkeypatch.setattr(bulk_chunks, "CHUNK_BYTES", 1500)
    monkeypatch.setattr(bulk_runner, "batches", partial(bulk_runner.batches, max_records=3))
    inputs = plain
    if form == "gzip":
        inputs = [path.with_name(path.name + ".gz") for path in plain]
        for path, copy in zip(plain, inputs, strict=True):
            copy.write_bytes(gzip.compress(path.read_bytes()))
        expected_errors = expected_errors.replace(b'.ndjson"', b'.ndjson.gz"')
    out_path = tmp_path / "out.ndjson"
    out_path.write_bytes(b"before\n" if mode == "ab" else b"")
    assert _file_run(inputs, out_path, 2, mode) == patients == 24
    assert out_path.read_bytes() == (b"before\n" if mode == "ab" else b"") + expected
    errors = (tmp_path / "errors.ndjson").read_bytes()
    if form == "gzip":  # a line too long is reported as read, the others once screened
        assert sorted(errors.splitlines()) == sorted(expected_errors.splitlines())
    else:
        assert errors == expected_errors
    assert list(spool_root.iterdir()) == []


def test_a_failed_copy_leaves_whole_ranges_in_order_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spool_root: Path
) -> None:
    """The disk fills up while the third range is copied: the run fails with that error, the
    output holds the first two ranges' decisions (whole lines, in order) and every worker's
    file is gone."""
    plain = tmp_path / "a.ndjson"
    _export(plain, 3)
    expected, _, _ = _run([plain], 1)
    monkeypatch.setattr(bulk_chunks, "CHUNK_BYTES", 1500)
    copies: list[int] = []
    real_copy = os.copy_file_range

    def copy_until_full(source: int, target: int, count: int, offset: int | None = None) -> int:
        copies.append(count)
        if len(copies) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_copy(source, target, count, offset)

    monkeypatch.setattr(os, "copy_file_range", copy_until_full)
    out_path = tmp_path / "out.ndjson"
    with pytest.raises(OSError, match="No space left"):
        _file_run([plain], out_path, 2)
    written = out_path.read_bytes()
    assert written == expected[: sum(copies[:2])]
    assert written.endswith(b"\n")
    assert len(written.splitlines()) >= 2
    assert list(spool_root.iterdir()) == []


def test_file_chunks_cover_the_file_at_line_ends_and_number_lines_as_iter_lines(
    tmp_path: Path,
) -> None:
    """Small chunks: every byte once, each chunk ends a line, numbering as iter_lines has it."""
    path = tmp_path / "lines.ndjson"
    lines = [f'{{"n": {i}, "pad": "{"x" * (i % 7)}"}}' for i in range(50)]
    path.write_text("\n".join(lines[:20]) + "\n\n" + "\n".join(lines[20:]), encoding="utf-8")
    data = path.read_bytes()
    chunks = list(bulk_chunks.file_chunks(path, size=64))
    assert b"".join(data[c.offset : c.offset + c.length] for c in chunks) == data
    assert all(data[c.offset + c.length - 1 : c.offset + c.length] == b"\n" for c in chunks[:-1])
    numbered = {
        data[: c.offset].count(b"\n") + 1 + i: raw.strip()
        for c in chunks
        for i, raw in enumerate(data[c.offset : c.offset + c.length].split(b"\n"))
        if raw.strip()
    }
    assert numbered == {ln.number: ln.data for ln in iter_lines(path)}


def test_file_chunks_give_a_long_line_a_marked_range_of_its_own(tmp_path: Path) -> None:
    """A line longer than the limit is one too_long chunk (never read whole); the numbering
    and the bytes of the other lines are unchanged, with or without a final newline."""
    for ending in (b"\n", b""):
        path = tmp_path / f"long{len(ending)}.ndjson"
        path.write_bytes(b'{"a":1}\n' + b"z" * 700 + b'\n{"a":2}\n' + b"w" * 600 + ending)
        chunks = list(bulk_chunks.file_chunks(path, size=64, max_line_bytes=256))
        data = path.read_bytes()
        long = [(data[: c.offset].count(b"\n") + 1, c.length) for c in chunks if c.too_long]
        assert long == [(2, 700), (4, 600)]
        kept = [data[c.offset : c.offset + c.length].strip() for c in chunks if not c.too_long]
        assert kept == [b'{"a":1}', b'{"a":2}']
