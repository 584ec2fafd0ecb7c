"""The database going away and coming back: clear 503s while it is down, service as usual after.

PostgreSQL is reached through a TCP relay the test stops and starts, as a network cut or a
database restart would look to the service.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import make_url

from mesoscreen.adapters.db.migrations import upgrade_database
from mesoscreen.bootstrap import build_services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from tests.conftest import postgres_schema
from tests.factories import records_settings, seed_clinic
from tests.integration.api.conftest import bearer

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgres


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
    with postgres_schema() as url:
        upgrade_database(url)
        parsed = make_url(url)
        relay = Relay((parsed.host or "127.0.0.1", parsed.port or 5432))
        relay.start()
        yield parsed.set(host="127.0.0.1", port=relay.port).render_as_string(False), relay
        relay.cut()


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
