"""Command-line inputs and outputs: files or standard input, JSON documents, dates, and
files the command writes (an unwritable one is bad input naming its option, exit 2)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import BinaryIO

import orjson

from mesoscreen.domain.errors import InputError

MAX_INPUT_BYTES = 16 * 1024 * 1024


def read_bytes(path: str) -> bytes:
    """The bytes of ``path``, or of standard input for ``-``; InputError if unreadable."""
    if path == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        where = "standard input"
    else:
        try:
            with Path(path).open("rb") as handle:
                data = handle.read(MAX_INPUT_BYTES + 1)
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{path}: is a directory, expected a file") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
        where = path
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{where}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB")
    return data


def read_json(path: str) -> object:
    """The JSON document in ``path`` (or standard input); InputError naming the place if not."""
    data = read_bytes(path)
    where = "standard input" if path == "-" else path
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{where}: is not valid JSON ({exc.msg} at character {exc.pos})") from None


def parse_day(value: str | None, option: str = "--on") -> date | None:
    """An ISO date given on the command line; InputError naming the option if malformed."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option}: expected a date YYYY-MM-DD (got {value!r})") from None


def _unwritable(path: Path, option: str, error: OSError) -> InputError:
    reason = error.strerror or type(error).__name__
    return InputError(f"{option} {path}: cannot be written ({reason})")


@contextmanager
def opened_for_writing(path: Path, option: str) -> Iterator[BinaryIO]:
    """``path`` open for writing bytes; InputError naming ``option`` if it cannot be opened
    (a missing folder, no permission, a directory)."""
    try:
        handle = path.open("wb")
    except OSError as error:
        raise _unwritable(path, option, error) from None
    with handle:
        yield handle


def write_output(path: Path, data: bytes, option: str) -> None:
    """Write ``data`` to ``path``; InputError naming ``option`` if it cannot be written."""
    try:
        path.write_bytes(data)
    except OSError as error:
        raise _unwritable(path, option, error) from None
