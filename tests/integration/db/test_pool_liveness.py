"""A PostgreSQL connection the server dropped while it waited in the pool is replaced before
use; one given back a moment ago is handed out without a ping (adapters/db/engine.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from mesoscreen.adapters.db.engine import create_database_engine
from tests.conftest import POSTGRES_URL_ENV

pytestmark = pytest.mark.postgres

IDLE = 0.2  # seconds: a short window so the test waits little


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_ENV} (.ci/run sets it)")
    return url


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    made = create_database_engine(postgres_url, ping_after_idle_seconds=IDLE)
    yield made
    made.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(postgres_url: str, pid: int) -> None:
    """End one server process from another connection, as a server restart or a dropped
    network link would."""
    admin = create_engine(postgres_url)
    try:
        with admin.begin() as connection:
            assert connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
            ).scalar_one()
    finally:
        admin.dispose()


def _count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


def test_a_connection_dropped_while_idle_is_replaced_before_use(
    engine: Engine, postgres_url: str
) -> None:
    dropped = _backend_pid(engine)
    _terminate(postgres_url, dropped)
    time.sleep(IDLE * 1.5)
    assert _backend_pid(engine) != dropped, "a new server process answers, no error"


def test_a_connection_given_back_a_moment_ago_is_not_pinged(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(engine)
    pings = _count_pings(engine, monkeypatch)
    assert _backend_pid(engine) == first
    assert pings == [], "reused within the window without a round trip"
    time.sleep(IDLE * 1.5)
    assert _backend_pid(engine) == first
    assert pings == [1], "idle past the window: pinged once, and still alive"


def test_a_new_connection_is_pinged_on_its_first_use(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _count_pings(engine, monkeypatch)
    _backend_pid(engine)
    assert pings == [1]


def test_a_connection_dropped_a_moment_after_use_is_replaced_before_use(
    engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within the window, a server that ended the session has said so on the socket: the
    connection is pinged, dropped and replaced."""
    dropped = _backend_pid(engine)
    pings = _count_pings(engine, monkeypatch)
    _terminate(postgres_url, dropped)
    time.sleep(0.05)  # the server's goodbye reaches the socket
    assert _backend_pid(engine) != dropped
    assert len(pings) >= 1
