"""Input files cut into chunks of whole lines: byte ranges of plain files, decompressed blocks
of gzip files, and a line too long to read as a marked chunk of its own."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mesoscreen.adapters.ndjson import BROKEN_GZIP, GZIP_MAGIC, MAX_LINE_BYTES, broken_gzip

CHUNK_BYTES = 2 * 1024 * 1024


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


def chunks_of(path: Path, max_line_bytes: int) -> Iterator[FileChunk]:
    """The chunks of a plain or gzip file."""
    if _is_plain_file(path):
        return file_chunks(path, CHUNK_BYTES, max_line_bytes)
    return gzip_chunks(path, CHUNK_BYTES, max_line_bytes)


def _is_plain_file(path: Path) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as probe:
        return probe.read(2) != GZIP_MAGIC
