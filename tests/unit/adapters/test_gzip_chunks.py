"""A gzip file cut into chunks of decompressed lines gives the lines, line numbers, long
lines and broken-data error of reading it line by line (``ndjson.iter_lines``)."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesoscreen.adapters.bulk_chunks import FileChunk, gzip_chunks
from mesoscreen.adapters.ndjson import Line, LongLine, iter_lines
from mesoscreen.domain.errors import InputError

LIMIT = 40


def _as_read(chunks: list[FileChunk], limit: int) -> list[Line | LongLine]:
    """The lines a worker makes of the chunks, numbered as the parent numbers them."""
    read: list[Line | LongLine] = []
    number = 0
    for chunk in chunks:
        if chunk.too_long:
            number += 1
            read.append(LongLine(chunk.path, number, chunk.length))
            continue
        assert chunk.data is not None
        assert chunk.length == len(chunk.data)
        raws = chunk.data.split(b"\n")
        if raws[-1] == b"":
            raws.pop()
        for raw in raws:
            number += 1
            if len(raw) > limit:
                read.append(LongLine(chunk.path, number, len(raw)))
            elif raw.strip():
                read.append(Line(chunk.path, number, raw.strip()))
    return read


def _chunked(path: Path, size: int, limit: int) -> tuple[list[FileChunk], str | None]:
    chunks: list[FileChunk] = []
    try:
        chunks.extend(gzip_chunks(path, size, limit))
    except InputError as error:
        return chunks, str(error)
    return chunks, None


def _line_by_line(path: Path, limit: int) -> tuple[list[Line | LongLine], str | None]:
    lines: list[Line | LongLine] = []
    try:
        lines.extend(iter_lines(path, limit))
    except InputError as error:
        return lines, str(error)
    return lines, None


_LINE = st.one_of(
    st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
    st.sampled_from([b"", b"  ", b"\r", b'{"a": 1}\r']),
    st.integers(LIMIT - 2, LIMIT * 4).map(lambda n: b"x" * n),  # about the limit, and over it
)


@settings(max_examples=200)
@given(
    lines=st.lists(_LINE, max_size=25),
    final_newline=st.booleans(),
    members=st.integers(1, 3),
    size=st.integers(1, 120),
)
def test_chunks_read_as_the_lines_of_reading_line_by_line(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[bytes],
    final_newline: bool,
    members: int,
    size: int,
) -> None:
    """Any lines (blank, CRLF, at the limit or over it, a last one without a newline), in one
    gzip member or several, in chunks of any size."""
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    cuts = [len(data) * i // members for i in range(members + 1)]
    path = tmp_path_factory.mktemp("gz") / "export.ndjson.gz"
    path.write_bytes(b"".join(gzip.compress(data[a:b]) for a, b in itertools.pairwise(cuts)))
    chunks, error = _chunked(path, size, LIMIT)
    assert error is None
    assert _as_read(chunks, LIMIT) == _line_by_line(path, LIMIT)[0]
    held = [c.data for c in chunks if not c.too_long]
    assert all(held), "no empty chunk"
    assert all(d is not None and d.endswith(b"\n") for d in held[:-1]), "whole lines only"


@settings(max_examples=100)
@given(
    lines=st.lists(_LINE, min_size=1, max_size=25),
    keep=st.floats(0.05, 0.95),
    size=st.integers(1, 120),
)
def test_broken_data_gives_the_lines_before_it_and_the_same_error(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], keep: float, size: int
) -> None:
    """A truncated file: the lines read before the break, then the error with the count of
    lines ``iter_lines`` says it read."""
    whole = gzip.compress(b"\n".join(lines) + b"\n")
    path = tmp_path_factory.mktemp("gz") / "cut.ndjson.gz"
    path.write_bytes(whole[: max(11, int(len(whole) * keep))])
    chunks, error = _chunked(path, size, LIMIT)
    expected, expected_error = _line_by_line(path, LIMIT)
    assert error == expected_error
    assert error is not None
    assert _as_read(chunks, LIMIT) == expected


def test_a_long_line_is_never_held_whole(tmp_path: Path) -> None:
    """A line of 5 MB over a limit of 1 KB: one marked chunk with its length, no chunk larger
    than the chunk size and the limit."""
    path = tmp_path / "long.ndjson.gz"
    path.write_bytes(gzip.compress(b"a\n" + b"x" * 5_000_000 + b"\nb\n"))
    chunks = list(gzip_chunks(path, 64 * 1024, 1024))
    assert [c.too_long for c in chunks] == [False, True, False]
    assert chunks[1].length == 5_000_000
    assert max(len(c.data or b"") for c in chunks) <= 64 * 1024 + 1024


def test_data_that_is_not_gzip_names_the_file_and_no_line_read(tmp_path: Path) -> None:
    fake = tmp_path / "fake.ndjson.gz"
    fake.write_bytes(b"\x1f\x8b" + b"not gzip\n" * 5)
    with pytest.raises(InputError, match=r"fake\.ndjson\.gz: the gzip data is broken after 0"):
        list(gzip_chunks(fake))
