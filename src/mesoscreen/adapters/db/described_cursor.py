"""A psycopg cursor whose result description is built when it is read, not for every result.

SQLAlchemy reads ``cursor.description`` after every statement, but for a statement compiled
once (every statement the repositories run) it only asks whether the description is None:
the result's columns are already known from the compiled form. psycopg builds one ``Column``
object for every column of the result each time ``description`` is read, about 1 us a
column on a quiet machine, and a patient page's results have about 180 columns. This cursor
hands out a sequence that builds those objects the first time something reads an element,
from the result it describes, then lets go of the result. First read after the cursor has
moved to another result or closed, it raises psycopg's ``ProgrammingError`` rather than
describing the wrong one. It relies on ``psycopg.Column(cursor, index)``, which psycopg's own
cursor calls; the tests compare the two on every kind of result.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import psycopg
from psycopg import pq
from psycopg.rows import Row

# The statuses psycopg describes even when the result has no columns ("SELECT ;").
_DESCRIBED = frozenset(
    {pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK}
)


class ResultDescription(Sequence[psycopg.Column]):
    """The columns of one result, built from it when first read."""

    __slots__ = ("_columns", "_count", "_cursor", "_result")

    def __init__(self, cursor: psycopg.Cursor[Any], result: pq.abc.PGresult) -> None:
        # Held until the columns are built, then let go (the result holds every row).
        self._cursor: psycopg.Cursor[Any] | None = cursor
        self._result: pq.abc.PGresult | None = result
        self._count: int = result.nfields
        self._columns: list[psycopg.Column] | None = None

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> psycopg.Column: ...

    @overload
    def __getitem__(self, index: slice) -> list[psycopg.Column]: ...

    def __getitem__(self, index: int | slice) -> psycopg.Column | list[psycopg.Column]:
        return self._built()[index]

    def __iter__(self) -> Iterator[psycopg.Column]:
        return iter(self._built())

    def __repr__(self) -> str:
        if self._columns is None and not self._current():
            return f"<ResultDescription of {self._count} columns, no longer readable>"
        return repr(self._built())

    def _current(self) -> bool:
        return self._cursor is not None and self._cursor.pgresult is self._result

    def _built(self) -> list[psycopg.Column]:
        if self._columns is None:
            cursor = self._cursor
            if cursor is None or cursor.pgresult is not self._result:
                # A misuse of the driver, as psycopg reports its own (never shown to a user).
                raise psycopg.ProgrammingError(
                    "cursor description: expected the result it was read from (got a "
                    "cursor that moved to another result or closed; read the description "
                    "before the next statement)"
                )
            self._columns = [psycopg.Column(cursor, i) for i in range(self._count)]
            self._cursor = self._result = None
        return self._columns


class DescribedOnReadCursor(psycopg.Cursor[Row]):
    """A client cursor whose ``description`` costs nothing until an element is read."""

    @property
    def description(self) -> ResultDescription | None:  # type: ignore[override]  # lazy, not a list
        """The current result's columns (psycopg's rule: None when it returned no rows)."""
        result = self.pgresult
        if result and (result.nfields or result.status in _DESCRIBED):
            return ResultDescription(self, result)
        return None
