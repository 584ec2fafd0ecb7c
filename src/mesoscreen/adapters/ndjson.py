"""NDJSON files, plain or gzip: numbered lines in, JSON lines out."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import orjson

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Line:
    """One non-blank line of an input file, with where it came from."""

    source: str
    number: int
    data: bytes


def open_binary(path: Path) -> IO[bytes]:
    """Open ``path`` for reading, transparently un-gzipping it (by magic bytes, not name)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == GZIP_MAGIC:
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def iter_lines(path: Path) -> Iterator[Line]:
    """The non-blank lines of an NDJSON file, numbered from 1, one at a time."""
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            data = raw.strip()
            if data:
                yield Line(source=str(path), number=number, data=data)


def dumps_line(document: Any) -> bytes:
    """One JSON document as an NDJSON line."""
    return orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE)
