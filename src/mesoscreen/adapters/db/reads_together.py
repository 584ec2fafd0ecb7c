"""``UnitOfWork.read_together`` on PostgreSQL: several reads of records, of one kind or of
several, in one statement.

Each read is a scalar subquery of the statement's one row: every record it finds as one JSON
array (``json_agg``, in ``page``'s order), or the latest as one JSON object (``row_to_json``,
in ``latest``'s order, null when there is none), sent as text and decoded once, as the
driver decodes a JSON column (``json_rows.loads``). Its
conditions and the latest's order are the repository's own (``record_conditions``,
``latest_first``: the caller's clinics as one array, each column of ``where`` equal to its
value, signed and not replaced as asked), so it finds what ``every_record`` or ``latest``
would; the records are read back from JSON through their
columns' types (``json_rows``). A patient page's header read its plans, consents, adverse
events, latest photo, newest screening and latest signed screening as six statements, each
costing more client CPU in SQLAlchemy and psycopg than the server spends on it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    Select,
    Table,
    Text,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from mesoscreen.adapters.db.json_rows import json_columns, loads
from mesoscreen.adapters.db.repositories import SqlRecords, latest_first, record_conditions
from mesoscreen.services.ports import RecordRead

# One read's shape: table, order of ``page``, the columns of ``where``, then ``latest_by``,
# ``signed`` and ``current``; a statement is built once for each sequence of shapes.
_Shape = tuple[Table, str, tuple[str, ...], tuple[str, ...] | None, bool, bool]


def _found_by(index: int, shape: _Shape) -> ColumnElement[Any]:
    """What read ``index`` finds, as JSON text: an array of every row, or the latest row."""
    table, order, columns, latest_by, signed, current = shape
    conditions = record_conditions(table, columns, arrays=True, prefix=f"r{index}_",
                                   signed=signed, current=current)  # fmt: skip
    if latest_by is None:
        if isinstance(table.c[order].type, Float):  # selected as text: it would sort as text
            raise TypeError(f"{table.name}.{order}: a float column cannot order reads together")
        rows = select(*json_columns(table)).where(*conditions).subquery(f"r{index}")
        ordered = aggregate_order_by(rows.table_valued(), rows.c[order], rows.c.id)
        found = func.coalesce(func.json_agg(ordered), literal_column("'[]'::json"))
        return cast(select(found).scalar_subquery(), Text)
    by = latest_first(table, latest_by)
    latest = select(*json_columns(table)).where(*conditions).order_by(*by).limit(1)
    row = latest.subquery(f"r{index}")
    return cast(select(func.row_to_json(row.table_valued())).scalar_subquery(), Text)


@cache
def _statement(shapes: tuple[_Shape, ...]) -> Select[Any]:
    return select(*(_found_by(i, shape).label(f"r{i}") for i, shape in enumerate(shapes)))


def read_together_sql(
    connection: Connection,
    repositories: Sequence[SqlRecords[Any]],
    clinic_ids: Collection[str],
    reads: Sequence[RecordRead],
) -> list[tuple[Any, ...]]:
    """What each of ``reads`` finds, ``repositories[i]`` the repository of ``reads[i]``."""
    if not reads:
        return []
    shapes: list[_Shape] = []
    values: dict[str, Any] = {"clinics": list(clinic_ids)}
    for index, (read, records) in enumerate(zip(reads, repositories, strict=True)):
        columns = tuple(sorted(read.where))
        shapes.append((records.table, records.order_column, columns, read.latest_by,
                       read.signed, read.current))  # fmt: skip
        values.update({f"r{index}_{name}": read.where[name] for name in columns})
    row = connection.execute(_statement(tuple(shapes)), values).one()
    found: list[tuple[Any, ...]] = []
    for read, records, text in zip(reads, repositories, row, strict=True):
        if read.latest_by is None:
            found.append(tuple(records.from_json(r) for r in loads(text)))
        else:
            found.append(() if text is None else (records.from_json(loads(text)),))
    return found
