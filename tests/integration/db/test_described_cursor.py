"""The PostgreSQL engine's cursor describes each result as psycopg's own cursor does, built
when read (adapters/db/described_cursor.py), and refuses to describe a result it has left."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import literal, select, text
from sqlalchemy.engine import make_url

from mesoscreen.adapters.db.described_cursor import DescribedOnReadCursor, ResultDescription
from mesoscreen.adapters.db.engine import create_database_engine
from tests.conftest import POSTGRES_URL_ENV

pytestmark = pytest.mark.postgres

# Statements whose results differ in what psycopg describes: rows of several types, no rows,
# rows without columns, a command without rows, and rows a write returns.
STATEMENTS = [
    (
        "SELECT 1 AS n, 'x'::varchar(20) AS word, now() AS at, '{}'::jsonb AS doc, "
        "ARRAY['a']::varchar[] AS ids, 1.5::numeric(4,2) AS amount",
        None,
    ),
    ("SELECT n FROM generate_series(1, 3) AS n WHERE n > %s", (5,)),
    ("SELECT", None),
    ("CREATE TEMPORARY TABLE described (id integer, name text) ON COMMIT DROP", None),
    ("INSERT INTO described VALUES (1, 'a')", None),
    ("INSERT INTO described VALUES (2, 'b') RETURNING id, name", None),
    ("SET LOCAL statement_timeout = '5s'", None),
    (
        "CREATE PROCEDURE pg_temp.described_add(n integer) LANGUAGE sql "
        "AS $$ INSERT INTO described VALUES (n, 'p') $$",
        None,
    ),
    ("CALL pg_temp.described_add(%s)", (3,)),
]


@pytest.fixture
def driver_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_ENV} (.ci/run sets it)")
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def pair(driver_url: str) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """A connection with psycopg's cursor and one with the engine's."""
    with (
        psycopg.connect(driver_url) as plain,
        psycopg.connect(driver_url, cursor_factory=DescribedOnReadCursor) as described,
    ):
        yield plain, described


def _as_read(description: Any) -> Any:
    if description is None:
        return None
    return [(tuple(column), column.type_display) for column in description]


def test_every_result_is_described_as_psycopg_describes_it(
    pair: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
) -> None:
    """Each statement's description has psycopg's length, names, types and sizes, or is
    None when psycopg's is."""
    plain, described = pair
    with plain.cursor() as eager, described.cursor() as lazy:
        assert isinstance(lazy, DescribedOnReadCursor)
        for statement, values in STATEMENTS:
            eager.execute(statement, values)
            lazy.execute(statement, values)
            expected, got = eager.description, lazy.description
            assert (got is None) == (expected is None), statement
            if got is not None and expected is not None:
                assert isinstance(got, ResultDescription)
                assert len(got) == len(expected), statement
            assert _as_read(got) == _as_read(expected), statement
            if got is not None and expected is not None:
                assert _as_read(got[0:1]) == _as_read(expected[0:1]), statement


def test_each_result_of_an_executemany_is_described_as_psycopg_describes_it(
    pair: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
) -> None:
    """The results of an executemany that returns rows, walked with nextset, alike."""
    plain, described = pair
    create = "CREATE TEMPORARY TABLE many (id integer, name text) ON COMMIT DROP"
    insert = "INSERT INTO many VALUES (%s, %s) RETURNING id, name"
    rows = [(1, "a"), (2, "b"), (3, "c")]
    with plain.cursor() as eager, described.cursor() as lazy:
        for cursor in (eager, lazy):
            cursor.execute(create)
            cursor.executemany(insert, rows, returning=True)
        seen = 0
        while True:
            assert _as_read(lazy.description) == _as_read(eager.description)
            assert lazy.fetchall() == eager.fetchall()
            seen += 1
            more = eager.nextset()
            assert lazy.nextset() == more
            if not more:
                break
        assert seen == len(rows)


def test_a_read_through_the_engine_builds_no_column_objects(
    driver_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement compiled once (its columns known to SQLAlchemy) runs again without a
    single psycopg ``Column`` built: what the cursor saves."""
    built = {"columns": 0}
    make = psycopg.Column.__init__

    def counted(column: psycopg.Column, cursor: Any, index: int) -> None:
        built["columns"] += 1
        make(column, cursor, index)

    statement = select(literal(1).label("n"), literal("x").label("word"))
    engine = create_database_engine(make_url(driver_url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            connection.execute(statement).one()  # the first run keeps the result's columns
            monkeypatch.setattr(psycopg.Column, "__init__", counted)
            row = connection.execute(statement).mappings().one()
    finally:
        engine.dispose()
    assert dict(row) == {"n": 1, "word": "x"}
    assert built["columns"] == 0


def test_a_description_read_after_the_cursor_moved_on_is_refused(
    pair: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
) -> None:
    """A description kept unread past the next statement fails instead of describing the
    later result; one read before it keeps describing its own result."""
    _, described = pair
    with described.cursor() as cursor:
        cursor.execute("SELECT 1 AS first_read")
        read_in_time = cursor.description
        assert read_in_time is not None
        assert [column.name for column in read_in_time] == ["first_read"]
        cursor.execute("SELECT 1 AS left_unread")
        left = cursor.description
        cursor.execute("SELECT 2 AS later, 3 AS other")
        assert left is not None
        assert len(left) == 1
        with pytest.raises(psycopg.ProgrammingError, match="expected the result it was read from"):
            list(left)
        assert "no longer readable" in repr(left)
        assert [column.name for column in read_in_time] == ["first_read"]
        cursor.execute("SELECT 4 AS before_close")
        unread = cursor.description
    assert unread is not None
    with pytest.raises(psycopg.ProgrammingError, match="or closed"):
        unread[0]


def test_the_engine_hands_out_the_cursor_and_text_results_keep_their_names(
    driver_url: str,
) -> None:
    """Engine connections use the cursor; a statement without a compiled form (its columns
    read from the description) still gives its rows by name."""
    engine = create_database_engine(make_url(driver_url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            assert isinstance(cursor, DescribedOnReadCursor)
            cursor.close()
            row = connection.execute(text("SELECT 1 AS n, 'x' AS word")).mappings().one()
            assert dict(row) == {"n": 1, "word": "x"}
            found = connection.exec_driver_sql("SELECT 2 AS m").mappings().one()
            assert dict(found) == {"m": 2}
    finally:
        engine.dispose()
