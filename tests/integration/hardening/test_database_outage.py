"""The database going away and coming back: clear 503s while it is down, service as usual after.

PostgreSQL is reached through a TCP relay the test stops and starts, as a network cut or a
database restart would look to the service; its server-side sessions are also terminated
while it stays up (an administrator's or a failover's doing). SQLite cannot be cut off, but it
can be held: another process keeping the write lock past the busy timeout.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

from mesoscreen.adapters.db import engine as engine_module
from mesoscreen.adapters.db.accounts import SqlAuthSessions
from mesoscreen.adapters.db.migrations import upgrade_database
from mesoscreen.bootstrap import Services, build_services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from tests.conftest import migrated_database, postgres_schema
from tests.factories import ClinicStaff, records_settings, seed_clinic, unique
from tests.integration.api.conftest import bearer
from tests.integration.web.conftest import new_browser, sign_in

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


class Relay:
    """A TCP relay to PostgreSQL that can be cut (closing every connection) and restored."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.close()

    def cut(self) -> None:
        """Stop listening and drop every open connection."""
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
            self._sockets.clear()


@pytest.fixture
def relayed_url() -> Iterator[tuple[str, Relay]]:
    """A migrated PostgreSQL schema reached through a relay the test can cut."""
    with postgres_schema() as url:
        upgrade_database(url)
        parsed = make_url(url)
        relay = Relay((parsed.host or "127.0.0.1", parsed.port or 5432))
        relay.start()
        yield parsed.set(host="127.0.0.1", port=relay.port).render_as_string(False), relay
        relay.cut()


@pytest.mark.postgres
def test_a_database_outage_gives_503_and_the_service_recovers(
    relayed_url: tuple[str, Relay],
) -> None:
    """Down: every data request is a 503 problem with Retry-After; back: answers as before."""
    url, relay = relayed_url
    services = build_services(records_settings(url))
    staff = seed_clinic(services.accounts)
    try:
        with TestClient(create_app(services.settings, services=services)) as client:
            headers = bearer(client, staff.users[Role.CLINICIAN])
            assert client.get("/api/v1/patients", headers=headers).status_code == 200

            relay.cut()
            for _ in range(3):
                response = client.get("/api/v1/patients", headers=headers)
                assert response.status_code == 503
                assert response.headers["Retry-After"] == "5"
                assert response.json()["code"] == "database_unavailable"
            assert client.get("/health").status_code == 200  # the process itself is up

            relay.start()
            assert client.get("/api/v1/patients", headers=headers).status_code == 200
    finally:
        services.close()


@pytest.mark.postgres
def test_a_connection_lost_during_the_session_check_gives_503(
    relayed_url: tuple[str, Relay], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database goes away while the session is checked (in no transaction): a 503 problem,
    as for any other statement, not an error of leaving the check."""
    url, relay = relayed_url
    services = build_services(records_settings(url))
    staff = seed_clinic(services.accounts)
    check = SqlAuthSessions.touch_if_live

    def cut_then_check(self: SqlAuthSessions, *args: Any) -> Any:
        relay.cut()
        return check(self, *args)

    try:
        with TestClient(create_app(services.settings, services=services)) as client:
            headers = bearer(client, staff.users[Role.CLINICIAN])
            monkeypatch.setattr(SqlAuthSessions, "touch_if_live", cut_then_check)
            response = client.get("/api/v1/patients", headers=headers)
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "database_unavailable"
            monkeypatch.undo()
            relay.start()
            assert client.get("/api/v1/patients", headers=headers).status_code == 200
    finally:
        services.close()


def _assert_unavailable(client: TestClient, headers: dict[str, str], staff: ClinicStaff) -> None:
    """Reads, writes and pages answer 503 with Retry-After: problem details or a page."""
    body = {"clinic_id": staff.clinic.id, "family_name": unique("Down"), "given_name": "A"}
    for response in (
        client.get("/api/v1/patients", headers=headers),
        client.post("/api/v1/patients", json=body, headers=headers),
    ):
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == "database_unavailable"
        assert problem["detail"] == "the database cannot be reached; try again shortly"
        assert "Traceback" not in response.text
        assert "SELECT" not in response.text
    page = client.get("/patients", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "The database cannot be reached" in page.text
    assert client.get("/health").status_code == 200  # the process itself is up


def _assert_answering(client: TestClient, headers: dict[str, str], services: Services) -> None:
    """Back to normal: a read and a page, and the audit chain is whole."""
    assert client.get("/api/v1/patients", headers=headers).status_code == 200
    assert client.get("/patients", headers={"Accept": "text/html"}).status_code == 200
    assert services.audit.verify().intact


@pytest.mark.postgres
def test_reads_writes_and_pages_are_503_while_cut_off_and_work_after(
    relayed_url: tuple[str, Relay],
) -> None:
    """While PostgreSQL is unreachable every kind of request is a clear 503; after, all work and
    nothing half-written was left behind (the audit chain verifies)."""
    url, relay = relayed_url
    services = build_services(records_settings(url))
    staff = seed_clinic(services.accounts)
    try:
        with new_browser(services) as client:
            sign_in(client, staff, Role.NURSE)
            headers = bearer(client, staff.users[Role.NURSE])
            relay.cut()
            _assert_unavailable(client, headers, staff)
            relay.start()
            body = {"clinic_id": staff.clinic.id, "family_name": unique("Up"), "given_name": "B"}
            assert client.post("/api/v1/patients", json=body, headers=headers).status_code == 201
            _assert_answering(client, headers, services)
    finally:
        services.close()


@pytest.mark.postgres
def test_terminated_database_sessions_cost_no_request() -> None:
    """PostgreSQL ending every session of the service (it stays up): the pool notices on its
    pre-ping and reconnects, so the next requests are answered as usual, not with errors."""
    name = f"mesoscreen-{uuid.uuid4().hex[:12]}"
    with postgres_schema() as base:
        upgrade_database(base)
        url = make_url(base).update_query_dict({"application_name": name})
        services = build_services(records_settings(url.render_as_string(False)))
        staff = seed_clinic(services.accounts)
        admin = create_engine(make_url(base).difference_update_query(["options"]))
        try:
            with new_browser(services) as client:
                sign_in(client, staff, Role.NURSE)
                headers = bearer(client, staff.users[Role.NURSE])
                for _ in range(3):
                    assert client.get("/api/v1/patients", headers=headers).status_code == 200
                with admin.begin() as connection:
                    ended = connection.execute(
                        text(
                            # Waits (up to 5 s) for each to be gone, as after a restart.
                            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
                            "FROM pg_stat_activity WHERE application_name = :name"
                        ),
                        {"name": name},
                    ).scalar_one()
                assert ended >= 1
                for _ in range(3):
                    assert client.get("/api/v1/patients", headers=headers).status_code == 200
                _assert_answering(client, headers, services)
        finally:
            services.close()
            admin.dispose()


def test_sqlite_held_by_another_process_is_503_and_recovers_when_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holding SQLite's write lock past the busy timeout (a long backup, a
    shell left in a transaction): clear 503s, then normal answers once it lets go."""
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setitem(engine_module.SQLITE_SETTINGS, "busy_timeout", "200")
    with migrated_database("sqlite", tmp_path) as url:
        services = build_services(records_settings(url))
        staff = seed_clinic(services.accounts)
        holder = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        try:
            with new_browser(services) as client:
                sign_in(client, staff, Role.NURSE)
                headers = bearer(client, staff.users[Role.NURSE])
                holder.execute("BEGIN EXCLUSIVE")
                _assert_unavailable(client, headers, staff)
                holder.execute("ROLLBACK")
                _assert_answering(client, headers, services)
        finally:
            holder.close()
            services.close()
