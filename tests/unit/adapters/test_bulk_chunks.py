"""Plain files screened in byte ranges, in this process or by workers: the same lines and
line numbers as record by record."""

from __future__ import annotations

import gzip
import io
from datetime import date
from pathlib import Path

import orjson
import pytest
from benchmarks.synthetic_export import ExportGenerator, bundle_of

from mesoscreen.adapters import bulk_runner
from mesoscreen.adapters.bulk_runner import BulkSettings, BulkWriter, run_inputs
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
    """Ranges of a few lines each, over two files: decisions and numbered bad lines are
    byte for byte those of the gzip copies, which are read line by line (the error lines
    name the plain files)."""
    plain = [tmp_path / "a.ndjson", tmp_path / "b.ndjson"]
    for seed, path in enumerate(plain):
        _export(path, seed)
    zipped = []
    for path in plain:
        copy = path.with_name(path.name + ".gz")
        copy.write_bytes(gzip.compress(path.read_bytes()))
        zipped.append(copy)
    out, errors, patients = _run(zipped, 1)
    expected = (out, errors.replace(b'.ndjson.gz"', b'.ndjson"'), patients)
    monkeypatch.setattr(bulk_runner, "CHUNK_BYTES", 1500)
    assert _run(plain, workers) == expected
    assert expected[2] == 24
    numbers = [orjson.loads(e)["line"] for e in expected[1].splitlines()]
    assert numbers == [4, 9, 13, 4, 9, 13]


def test_cuts_are_found_reading_back_over_several_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines longer than the block read backwards from a cut: the ranges still cover the
    file once, end at line ends, and a line over the limit is a marked range of its own."""
    monkeypatch.setattr(bulk_runner, "_SCAN_BLOCK", 7)
    path = tmp_path / "lines.ndjson"
    lines = [b"a" * (i * 13 % 90 + 1) for i in range(40)] + [b"z" * 500, b"b" * 30]
    path.write_bytes(b"\n".join(lines) + b"\n")
    data = path.read_bytes()
    chunks = list(bulk_runner.file_chunks(path, size=100, max_line_bytes=300))
    kept = [c for c in chunks if not c.too_long]
    assert [(c.offset, c.length) for c in chunks if c.too_long] == [(data.index(b"z"), 500)]
    assert b"".join(data[c.offset : c.offset + c.length] for c in kept) == data.replace(
        b"z" * 500 + b"\n", b""
    )
    assert all(data[c.offset + c.length - 1] == ord("\n") for c in kept)
