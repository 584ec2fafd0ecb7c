"""Rows that PostgreSQL wrote as JSON (``row_to_json``, ``json_agg``), read back as a result
row reads them: each value through its column's type.

JSON has no dates, times or floats of their own: a timestamp is its ISO 8601 text in the
session's time zone (read back as aware UTC, as ``UTCDateTime`` reads a column) and a date its
ISO text. A float would be a number that loses what a float holds (``2`` for ``2.0``, ``0``
for ``-0.0``) or a string (``"NaN"``), so a float column is selected as its text
(``json_columns``), the form the driver reads a float from too (the shortest exact one at
PostgreSQL's default ``extra_float_digits``), and read back with ``float``. Strings,
integers, booleans and JSON documents come as they are. A column of any other type has no
reader: building the readers of its table fails, so a new column type cannot be read wrong
without a test failing first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Date, Float, Integer, String, Table, Text, cast
from sqlalchemy.sql.elements import ColumnElement

from mesoscreen.adapters.db.tables import UTCDateTime

Reader = Callable[[Any], Any]


# Nineteen digits in a row may be a number orjson reads otherwise than the standard library:
# an integer beyond 64 bits becomes a float (PostgreSQL writes a large JSONB number as its
# digits, never in exponent form). Found by mapping every digit to 9 and looking for nineteen
# 9s: a regular expression took ten times longer on a plan's document full of decimals.
_DIGITS_AS_NINES = bytes.maketrans(b"0123456789", b"9" * 10)
_LONG_NUMBER = b"9" * 19


def loads(text: str | bytes) -> Any:
    """JSON text PostgreSQL wrote, decoded as the standard library decodes it (integers of
    any size, ``1e400`` as infinity, lone surrogates kept): by orjson, about five times
    faster on a plan's document, when no run of digits is long enough for the two to differ,
    and by the standard library otherwise or when orjson refuses the text. The engine's
    driver decodes JSON columns with it too (``create_database_engine``)."""
    data = text.encode() if isinstance(text, str) else text
    if _LONG_NUMBER not in data.translate(_DIGITS_AS_NINES):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


def _as_is(value: Any) -> Any:
    return value


def _utc_time(value: str | None) -> datetime | None:
    """As ``UTCDateTime`` reads a column: a time without an offset is UTC's."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _float(value: str | None) -> float | None:
    return None if value is None else float(value)


def _reader(table: Table, name: str) -> Reader:
    kind = table.c[name].type
    if isinstance(kind, UTCDateTime):
        return _utc_time
    if isinstance(kind, Date):
        return _day
    if isinstance(kind, Float):
        return _float
    if isinstance(kind, String | Integer | Boolean | JSON):
        return _as_is
    raise TypeError(f"{table.name}.{name}: no reading of a {kind!r} column from JSON")


@cache
def json_readers(table: Table) -> dict[str, Reader]:
    """The reader of each column of ``table``, by its name."""
    return {column.name: _reader(table, column.name) for column in table.columns}


@cache
def json_columns(table: Table) -> tuple[ColumnElement[Any], ...]:
    """The columns of ``table`` to select for ``row_to_json``, by their names: a float column
    as its text."""
    return tuple(
        cast(column, Text).label(column.name) if isinstance(column.type, Float) else column
        for column in table.columns
    )
