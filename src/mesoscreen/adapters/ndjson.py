"""NDJSON files, plain or gzip: numbered lines in, JSON lines out."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from mesoscreen.domain.errors import InputError

# The default limit is the use case's (the command line shows it); re-exported for readers.
from mesoscreen.services.bulk_screening import MAX_LINE_BYTES as MAX_LINE_BYTES

GZIP_MAGIC = b"\x1f\x8b"
_SKIP_BLOCK = 1024 * 1024
_READ_BUFFER = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Line:
    """One non-blank line of an input file, with where it came from."""

    source: str
    number: int
    data: bytes


@dataclass(frozen=True, slots=True)
class LongLine:
    """A line longer than the limit: where it is and how long it was; its bytes were skipped."""

    source: str
    number: int
    length: int


def long_line_reason(length: int, limit: int) -> str:
    """Why a long line was not screened (the same words from every engine)."""
    return f"line too long: {length} bytes, more than the limit of {limit} (--max-line-bytes)"


def open_binary(path: Path) -> IO[bytes]:
    """Open ``path`` for reading, transparently un-gzipping it (by magic bytes, not name).

    The buffer is large: reading lines of a few KB through the default 8 KB buffer cost
    4.6 us a line, through 1 MiB 1.0 us (gzip: 7.9 and 4.6; benchmarks/bench_bulk.py (d)).
    """
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == GZIP_MAGIC:
        return io.BufferedReader(_GzipStream(gzip.open(path, "rb")), buffer_size=_READ_BUFFER)
    return path.open("rb", buffering=_READ_BUFFER)


class _GzipStream(io.RawIOBase):
    """A gzip file read as it decompresses (``readinto1``), so the lines before a truncated
    end are given out before the error, not lost with the buffer being filled."""

    def __init__(self, source: gzip.GzipFile) -> None:
        super().__init__()
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._source.readinto1(buffer)

    def close(self) -> None:
        self._source.close()
        super().close()


def iter_lines(path: Path, max_bytes: int = MAX_LINE_BYTES) -> Iterator[Line | LongLine]:
    """The non-blank lines of an NDJSON file, numbered from 1, one at a time; a line longer
    than ``max_bytes`` comes as a LongLine and is never read whole.

    InputError, saying how many lines were read, when gzip data turns out fake or truncated;
    the lines before it have been given out already.
    """
    counted = [0]
    try:
        yield from _numbered_lines(path, max_bytes, counted)
    except BROKEN_GZIP as broken:
        raise broken_gzip(str(path), counted[0], broken) from None


# What the gzip module raises on data that is not gzip or ends too soon.
BROKEN_GZIP = (gzip.BadGzipFile, EOFError, zlib.error)


def broken_gzip(source: str, lines_read: int, broken: Exception) -> InputError:
    """The error for gzip data found broken after ``lines_read`` lines (the same words from
    every reader of the file)."""
    reason = str(broken) or type(broken).__name__
    return InputError(
        f"{source}: the gzip data is broken after {lines_read} line(s) read ({reason}); "
        "the results of the lines read are kept"
    )


def _numbered_lines(path: Path, max_bytes: int, counted: list[int]) -> Iterator[Line | LongLine]:
    source = str(path)
    with open_binary(path) as handle:
        number = 0
        while raw := handle.readline(max_bytes + 1):
            number += 1
            counted[0] = number
            ended = raw.endswith(b"\n")
            length = len(raw) - ended
            if length > max_bytes:
                while not ended and (rest := handle.readline(_SKIP_BLOCK)):
                    ended = rest.endswith(b"\n")
                    length += len(rest) - ended
                yield LongLine(source, number, length)
                continue
            data = raw.strip()
            if data:
                yield Line(source=source, number=number, data=data)


def dumps_line(document: Any) -> bytes:
    """One JSON document as an NDJSON line."""
    return orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE)
