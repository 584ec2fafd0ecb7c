"""Shared fixtures: migrated databases for the storage, API and CLI tests (SQLite and PostgreSQL).

PostgreSQL tests run against ``MESOSCREEN_TEST_POSTGRES_URL`` in a schema of
their own, dropped at the end; they fail when the URL is set and the server
does not answer, and skip with the reason when it is not set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from mesoscreen.adapters.db.migrations import upgrade_database

POSTGRES_URL_ENV = "MESOSCREEN_TEST_POSTGRES_URL"

# Speed is shown by benchmarks, never by timed tests: hypothesis checks what an example gives,
# not how long it took (a loaded machine made its 200 ms deadline fail a sound property).
settings.register_profile("mesoscreen", deadline=None)
settings.load_profile("mesoscreen")

# Every page rendered by a test reads its words strictly: an unknown message id or a text a
# language lacks raises instead of falling back to English (entrypoints/web/i18n.py).
os.environ["MESOSCREEN_STRICT_MESSAGES"] = "1"
DIALECTS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose connections use a fresh PostgreSQL schema, dropped afterwards."""
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_ENV} (.ci/run sets it)")
    admin = create_engine(base)
    schema = f"mesoscreen_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.fail(f"{POSTGRES_URL_ENV} is set but PostgreSQL cannot be reached: {error.orig}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def migrated_database(dialect: str, folder: Path) -> Iterator[str]:
    """A URL of a new database of ``dialect`` with the schema at head."""
    if dialect == "sqlite":
        url = f"sqlite:///{folder / 'mesoscreen.sqlite3'}"
        upgrade_database(url)
        yield url
        return
    with postgres_schema() as url:
        upgrade_database(url)
        yield url


@pytest.fixture(scope="session", params=DIALECTS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database shared by the tests of one run (tests make their own clinics)."""
    with migrated_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(params=DIALECTS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of this test alone (for tampering and first-run tests)."""
    with migrated_database(request.param, tmp_path) as url:
        yield url
