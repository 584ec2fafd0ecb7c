"""Repositories over SQLAlchemy Core: records of one kind, patients, clinics and throttles.

Rows and domain values share field names, so one generic mapper serves every
patient record; every read filters on the caller's clinics, so another
clinic's record is indistinguishable from one that does not exist.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import fields
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Connection,
    Insert,
    RowMapping,
    Select,
    String,
    Table,
    Update,
    any_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from mesoscreen.adapters.db import tables
from mesoscreen.adapters.db.json_rows import json_readers
from mesoscreen.domain.errors import DuplicateRequestError, NotFoundError
from mesoscreen.domain.names import name_search_key
from mesoscreen.domain.records import (
    Clinic,
    LoginThrottle,
    Page,
    Patient,
    StaleVersionError,
)

R = TypeVar("R")


@cache
def _field_names(record_type: type) -> tuple[str, ...]:
    """The field names of a record dataclass (asked for every repository of every unit of
    work: a few per request)."""
    return tuple(f.name for f in fields(record_type))


# Statements built once and run with bound values: building a statement (coercing its
# clauses, computing its cache key) cost more CPU than running it on a patient page, where
# every record kind is read by the same few statements. The clinics are one parameter, so
# one statement serves any number of them: an array on PostgreSQL (``= ANY``), whose
# statement text never changes, and an expanding IN on SQLite, which has no arrays (an
# expanding parameter is rendered into the text again at every execution, which cost a
# patient page on PostgreSQL about 0.4 ms of CPU for its ten reads).


def in_clinics(table: Table, arrays: bool) -> ColumnElement[bool]:
    """The row's clinic is one of the bound ``clinics`` (a list of ids)."""
    if arrays:
        return table.c.clinic_id == any_(bindparam("clinics", type_=postgresql.ARRAY(String)))
    return table.c.clinic_id.in_(bindparam("clinics", expanding=True))


@cache
def _insert(table: Table) -> Insert:
    return insert(table)


@cache
def _save(table: Table) -> Update:
    # The new values are the row's columns; the old version is a parameter of its own.
    return update(table).where(
        table.c.id == bindparam("stored_id"), table.c.version == bindparam("stored_version")
    )


@cache
def _get_by_id(table: Table, arrays: bool) -> Select[Any]:
    return select(table).where(table.c.id == bindparam("id"), in_clinics(table, arrays))


def record_conditions(
    table: Table,
    columns: tuple[str, ...],
    arrays: bool,
    *,
    prefix: str = "w_",
    signed: bool = False,
    current: bool = False,
) -> list[ColumnElement[bool]]:
    """What every read of records filters on: a clinic among the bound ``clinics``, each of
    ``columns`` equal to its parameter (``prefix`` and its name), and as asked signed
    (``signed_at`` set) and current (no record replaces it)."""
    conditions = [in_clinics(table, arrays)]
    conditions += [table.c[name] == bindparam(f"{prefix}{name}") for name in columns]
    if signed:
        conditions.append(table.c.signed_at.is_not(None))
    if current:
        newer = table.alias(f"{prefix}newer")
        conditions.append(~exists().where(newer.c.replaces_id == table.c.id))
    return conditions


def latest_first(table: Table, by: tuple[str, ...]) -> list[ColumnElement[Any]]:
    """The order of ``latest``: the columns ``by``, then the id, last first."""
    return [table.c[name].desc() for name in (*by, "id")]


def _bound(
    clinic_ids: Collection[str], where: Mapping[str, str]
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The columns of ``where`` in the order ``record_conditions`` names them, and the bound
    values."""
    columns = tuple(sorted(where))
    values: dict[str, Any] = {f"w_{name}": where[name] for name in columns}
    values["clinics"] = list(clinic_ids)
    return columns, values


@cache
def _page_of(table: Table, order: str, columns: tuple[str, ...], arrays: bool) -> Select[Any]:
    return (
        select(table)
        .where(*record_conditions(table, columns, arrays))
        .order_by(table.c[order], table.c.id)
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


_REPLACED = "replaced_by_a_newer_record"


@cache
def _get_with_replaced(table: Table, arrays: bool) -> Select[Any]:
    newer = table.alias("newer")
    replaced = exists().where(newer.c.replaces_id == table.c.id).label(_REPLACED)
    return select(table, replaced).where(table.c.id == bindparam("id"), in_clinics(table, arrays))


@cache
def _replaced_among(table: Table) -> Select[Any]:
    column = table.c.replaces_id
    return select(column).where(column.in_(bindparam("ids", expanding=True))).distinct()


@cache
def _latest_of(
    table: Table,
    columns: tuple[str, ...],
    by: tuple[str, ...],
    signed: bool,
    current: bool,
    arrays: bool,
) -> Select[Any]:
    conditions = record_conditions(table, columns, arrays, signed=signed, current=current)
    return select(table).where(*conditions).order_by(*latest_first(table, by)).limit(1)


@cache
def _count_of(table: Table, columns: tuple[str, ...], arrays: bool) -> Select[Any]:
    return select(func.count()).select_from(table).where(*record_conditions(table, columns, arrays))


class SqlRecords(Generic[R]):
    """Records of one dataclass type stored in one table with the same column names."""

    def __init__(
        self,
        connection: Connection,
        table: Table,
        record_type: type[R],
        kind: str,
        order_column: str = "created_at",
    ) -> None:
        self._connection = connection
        self._table = table
        self._type = record_type
        self._kind = kind
        self._order = order_column
        # A class is hashable; mypy does not see it through type[R].
        self._names = _field_names(record_type)  # type: ignore[arg-type]
        self._arrays = connection.dialect.name == "postgresql"

    def _row(self, record: R) -> dict[str, Any]:
        return {name: getattr(record, name) for name in self._names}

    def _record(self, row: RowMapping) -> R:
        return self._type(**{name: row[name] for name in self._names})

    @property
    def table(self) -> Table:
        """The table the records are stored in."""
        return self._table

    @property
    def order_column(self) -> str:
        """The column ``page`` orders by (then the id)."""
        return self._order

    def from_json(self, row: Mapping[str, Any]) -> R:
        """The record of a row as PostgreSQL's ``row_to_json`` writes it (decoded): each
        value read back as its column's type reads it from a result row."""
        readers = json_readers(self._table)
        return self._type(**{name: readers[name](row[name]) for name in self._names})

    def add(self, record: R) -> None:
        """Store a new record."""
        self._connection.execute(_insert(self._table), self._row(record))

    def get(self, record_id: str, clinic_ids: Collection[str]) -> R:
        """The record in one of ``clinic_ids``; NotFoundError for any other clinic or none."""
        return self._record(self._one(_get_by_id(self._table, self._arrays), record_id, clinic_ids))

    def _one(self, statement: Select[Any], record_id: str, clinic_ids: Collection[str]) -> Any:
        """The row ``statement`` finds for ``record_id`` in ``clinic_ids``; NotFoundError."""
        values = {"id": record_id, "clinics": list(clinic_ids)}
        row = self._connection.execute(statement, values).mappings().first()
        if row is None:
            raise NotFoundError(f"{self._kind} '{record_id}': not found")
        return row

    def save(self, record: R, expected_version: int) -> None:
        """Overwrite the record only if its stored version is ``expected_version``."""
        row = self._row(record)
        result = self._connection.execute(
            _save(self._table),
            {**row, "stored_id": row["id"], "stored_version": expected_version},
        )
        if result.rowcount != 1:
            raise StaleVersionError(
                f"{self._kind} '{row['id']}': expected version {expected_version} "
                "(got a newer stored version)"
            )

    def _page(self, conditions: list[ColumnElement[bool]], offset: int, limit: int) -> Page[R]:
        rows = self._connection.execute(
            select(self._table)
            .where(*conditions)
            .order_by(self._table.c[self._order], self._table.c.id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        items = tuple(self._record(r) for r in rows)
        if 0 < len(items) < limit or (offset == 0 and not items):
            # The page ends the list: the total is known without counting (most pages of
            # one patient's records, read on every patient page, are such a page).
            return Page(items, offset, limit, offset + len(items))
        total = self._connection.execute(
            select(func.count()).select_from(self._table).where(*conditions)
        ).scalar_one()
        return Page(items, offset, limit, total)

    def page(
        self, clinic_ids: Collection[str], where: Mapping[str, str], offset: int, limit: int
    ) -> Page[R]:
        """Records in ``clinic_ids`` whose columns equal ``where``, oldest first."""
        columns, values = _bound(clinic_ids, where)
        rows = self._connection.execute(
            _page_of(self._table, self._order, columns, self._arrays),
            {**values, "offset": offset, "limit": limit},
        ).mappings()
        items = tuple(self._record(r) for r in rows)
        if 0 < len(items) < limit or (offset == 0 and not items):
            # The page ends the list: the total is known without counting (most pages of
            # one patient's records, read on every patient page, are such a page).
            return Page(items, offset, limit, offset + len(items))
        total = self._connection.execute(
            _count_of(self._table, columns, self._arrays), values
        ).scalar_one()
        return Page(items, offset, limit, total)

    def latest(
        self,
        clinic_ids: Collection[str],
        where: Mapping[str, str],
        *,
        by: tuple[str, ...] = ("created_at",),
        signed: bool = False,
        current: bool = False,
    ) -> R | None:
        """The last record of ``clinic_ids`` equal to ``where`` by ``by`` then id (signed,
        unreplaced as asked), one row read."""
        columns, values = _bound(clinic_ids, where)
        statement = _latest_of(self._table, columns, by, signed, current, self._arrays)
        row = self._connection.execute(statement, values).mappings().first()
        return self._record(row) if row is not None else None

    def get_with_replaced(self, record_id: str, clinic_ids: Collection[str]) -> tuple[R, bool]:
        """The record in one of ``clinic_ids`` and whether a newer record replaces it, in one
        query; NotFoundError as ``get``."""
        row = self._one(_get_with_replaced(self._table, self._arrays), record_id, clinic_ids)
        return self._record(row), bool(row[_REPLACED])

    def replaced_among(self, record_ids: Collection[str]) -> frozenset[str]:
        """Those of ``record_ids`` that a newer record names as the one it replaces."""
        if not record_ids:
            return frozenset()
        rows = self._connection.execute(
            _replaced_among(self._table), {"ids": list(record_ids)}
        ).scalars()
        return frozenset(rows)

    def replaced(self, record_id: str) -> bool:
        """Whether a newer record names ``record_id`` as the one it replaces."""
        query = select(exists().where(self._table.c.replaces_id == record_id))
        return bool(self._connection.execute(query).scalar())


class SqlPatients(SqlRecords[Patient]):
    """Patients, with a name search that ignores case, accents and tone marks.

    Each row keeps its names folded by ``name_search_key`` in a column of their own, written
    with every add and save, so SQLite and PostgreSQL match alike without collations or
    extensions.
    """

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection, tables.patients, Patient, "patient")

    def _row(self, record: Patient) -> dict[str, Any]:
        row = super()._row(record)
        row["name_search_key"] = name_search_key(f"{record.family_name} {record.given_name}")
        return row

    def search(
        self, clinic_ids: Collection[str], name: str | None, offset: int, limit: int
    ) -> Page[Patient]:
        """Patients of ``clinic_ids`` whose folded names contain every word of ``name``."""
        table = tables.patients
        conditions: list[ColumnElement[bool]] = [table.c.clinic_id.in_(list(clinic_ids))]
        for word in name_search_key(name or "").split():
            conditions.append(table.c.name_search_key.contains(word, autoescape=True))
        return self._page(conditions, offset, limit)


class SqlClinics:
    """The clinics of the group."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, clinic: Clinic) -> None:
        """Store a new clinic."""
        self._connection.execute(
            insert(tables.clinics).values(
                id=clinic.id, name=clinic.name, created_at=clinic.created_at
            )
        )

    def list(self, clinic_ids: Collection[str] | None) -> list[Clinic]:
        """Clinics among ``clinic_ids`` (all for None), by name."""
        query = select(tables.clinics).order_by(tables.clinics.c.name)
        if clinic_ids is not None:
            query = query.where(tables.clinics.c.id.in_(list(clinic_ids)))
        return [Clinic(**row) for row in self._connection.execute(query).mappings()]


class SqlThrottles:
    """Failed sign-in counters; increments are single atomic upserts."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, username: str) -> LoginThrottle | None:
        """The counter for ``username``, or None."""
        row = (
            self._connection.execute(
                select(tables.login_throttles).where(tables.login_throttles.c.username == username)
            )
            .mappings()
            .first()
        )
        return LoginThrottle(**row) if row is not None else None

    def record_failure(self, username: str, at: datetime) -> LoginThrottle:
        """Add one failure in one statement, so parallel attempts are all counted."""
        table = tables.login_throttles
        dialect = sqlite if self._connection.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(table).values(
            username=username, failures=1, last_failure_at=at, locked=False
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.username],
            set_={"failures": table.c.failures + 1, "last_failure_at": at},
        ).returning(*table.c)
        row = self._connection.execute(statement).mappings().one()
        return LoginThrottle(**row)

    def lock(self, username: str) -> None:
        """Lock ``username`` until an admin unlocks it."""
        self._connection.execute(
            update(tables.login_throttles)
            .where(tables.login_throttles.c.username == username)
            .values(locked=True)
        )

    def clear(self, username: str) -> None:
        """Forget the failures of ``username``."""
        self._connection.execute(
            update(tables.login_throttles)
            .where(tables.login_throttles.c.username == username)
            .values(failures=0, last_failure_at=None, locked=False)
        )


class SqlIdempotencyKeys:
    """Idempotency keys; the primary key makes a second claim of a key fail atomically."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def find(self, user_id: str, key: str) -> tuple[str, str] | None:
        """The request hash and record id stored under (user, key), if any."""
        table = tables.idempotency_keys
        row = self._connection.execute(
            select(table.c.request_hash, table.c.record_id).where(
                table.c.user_id == user_id, table.c.key == key
            )
        ).first()
        return (row.request_hash, row.record_id) if row is not None else None

    def remember(
        self, user_id: str, key: str, request_hash: str, record_id: str, at: datetime
    ) -> None:
        """Store the key; DuplicateRequestError when a concurrent request stored it first."""
        try:
            with self._connection.begin_nested():
                self._connection.execute(
                    insert(tables.idempotency_keys).values(
                        user_id=user_id, key=key, request_hash=request_hash,
                        record_id=record_id, created_at=at,
                    )
                )  # fmt: skip
        except IntegrityError:
            raise DuplicateRequestError(
                f"Idempotency-Key {key!r}: another request with this key was made first"
            ) from None


class SqlFormKeys:
    """One-use form keys; the primary key makes a second claim of a key fail atomically."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def find(self, clinic_ids: Collection[str], form: str, key: str) -> str | None:
        """The id of the record the form with ``key`` made in ``clinic_ids``, if any."""
        table = tables.form_keys
        return self._connection.execute(
            select(table.c.record_id).where(
                table.c.clinic_id.in_(list(clinic_ids)), table.c.form == form, table.c.key == key
            )
        ).scalar()

    def claim(self, clinic_id: str, form: str, key: str, record_id: str, at: datetime) -> None:
        """Store the key; DuplicateRequestError when another submission stored it first (on
        PostgreSQL a concurrent insert waits for the first to commit, then fails here)."""
        try:
            with self._connection.begin_nested():
                self._connection.execute(
                    insert(tables.form_keys).values(
                        clinic_id=clinic_id, form=form, key=key, record_id=record_id,
                        created_at=at,
                    )
                )  # fmt: skip
        except IntegrityError:
            raise DuplicateRequestError(
                f"form '{form}': this form was already submitted (key {key[:12]}...)"
            ) from None


class SqlKeptForms:
    """Forms kept after a timeout, sealed; one per browser, deleted once given back."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def keep(
        self, row_key: str, page: str, sealed: str, kept_at: datetime, expires_at: datetime
    ) -> None:
        """Keep the form (replacing this browser's earlier one); forget expired ones."""
        table = tables.kept_forms
        self._connection.execute(
            delete(table).where((table.c.expires_at <= kept_at) | (table.c.key_hash == row_key))
        )
        self._connection.execute(
            insert(table).values(
                key_hash=row_key,
                path=page[:300],
                form={"sealed": sealed},
                kept_at=kept_at,
                expires_at=expires_at,
            )
        )

    def find(self, row_key: str, now: datetime) -> tuple[str, str] | None:
        """The page and sealed content under ``row_key`` unless expired."""
        table = tables.kept_forms
        row = self._connection.execute(
            select(table.c.path, table.c.form).where(
                table.c.key_hash == row_key, table.c.expires_at > now
            )
        ).first()
        if row is None or not isinstance(row.form, dict):
            return None
        return row.path, str(row.form.get("sealed", ""))

    def forget(self, row_key: str) -> None:
        """Delete the form kept under ``row_key``."""
        table = tables.kept_forms
        self._connection.execute(delete(table).where(table.c.key_hash == row_key))


class SqlPhotoContents:
    """Photo bytes, one row per photo; the database refuses to change or delete them."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, photo_id: str, data: bytes) -> None:
        """Store the bytes of ``photo_id``."""
        self._connection.execute(insert(tables.photo_contents).values(photo_id=photo_id, data=data))

    def get(self, photo_id: str) -> bytes:
        """The bytes of ``photo_id``; NotFoundError if none are stored."""
        table = tables.photo_contents
        data = self._connection.execute(
            select(table.c.data).where(table.c.photo_id == photo_id)
        ).scalar()
        if data is None:
            raise NotFoundError(f"photo '{photo_id}': not found")
        return bytes(data)


class SqlSourceThrottles:
    """Failed sign-ins per client address; each failure is one atomic upsert."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, source: str) -> tuple[int, datetime] | None:
        """(failures, window start) for ``source``, or None."""
        table = tables.signin_source_failures
        row = self._connection.execute(
            select(table.c.failures, table.c.window_started_at).where(table.c.source == source)
        ).first()
        return (row.failures, row.window_started_at) if row is not None else None

    def record_failure(self, source: str, at: datetime, stale_before: datetime) -> None:
        """Count one failure; restart a window that began at or before ``stale_before``."""
        table = tables.signin_source_failures
        dialect = sqlite if self._connection.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(table).values(source=source, window_started_at=at, failures=1)
        stale = table.c.window_started_at <= stale_before
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.source],
            set_={
                "failures": case((stale, statement.excluded.failures), else_=table.c.failures + 1),
                "window_started_at": case(
                    (stale, statement.excluded.window_started_at),
                    else_=table.c.window_started_at,
                ),
            },
        )
        self._connection.execute(statement)
