"""Many clients against several server processes sharing one database, as in production.

``mesoscreen serve --workers 2`` runs in child processes; client threads release their
requests together. Edits of one version: one is saved and the rest get 412, so no update is
lost. Creates repeated under one Idempotency-Key: one patient. Screenings written meanwhile
all land. Afterwards ``mesoscreen audit verify`` passes. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from mesoscreen.bootstrap import build_services
from mesoscreen.domain.access import Role
from tests.conftest import DIALECTS, migrated_database
from tests.factories import PASSWORD, eligible_answers, records_settings, seed_clinic, unique
from tests.integration.crash.test_sigkill_durability import CHEAP_ARGON2, _free_port

CLIENTS = 8
ENV = os.environ | CHEAP_ARGON2

pytestmark = pytest.mark.slow


class _Workers:
    """``mesoscreen serve --workers 2`` on a free port, in child processes."""

    def __init__(self, url: str, log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "mesoscreen", "serve", "--port", str(self.port),
             "--database", url, "--workers", "2"],
            env=ENV, stdout=self._log, stderr=self._log,
        )  # fmt: skip

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Return once the server answers."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited early with {self.process.returncode}")
            try:
                httpx.get(f"{self.base}/health", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        pytest.fail("server did not start")

    def stop(self) -> None:
        """Terminate the server and its workers."""
        self.process.terminate()
        self.process.wait(timeout=30)
        self._log.close()


@pytest.fixture(params=DIALECTS)
def served(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(database URL, base URL, bearer tokens by role plus the clinic id) of a running server."""
    with migrated_database(request.param, tmp_path) as url:
        services = build_services(records_settings(url))
        try:
            staff = seed_clinic(services.accounts)
        finally:
            services.close()
        server = _Workers(url, tmp_path / "server.log")
        try:
            server.wait_ready()
            tokens = {}
            for role in (Role.NURSE, Role.CLINICIAN):
                login = httpx.post(f"{server.base}/api/v1/auth/token", json={
                    "username": staff.users[role].username, "password": PASSWORD})  # fmt: skip
                tokens[role.value] = login.json()["access_token"]
            tokens["clinic_id"] = staff.clinic.id
            yield url, server.base, tokens
        finally:
            server.stop()


def _together(
    calls: list[Callable[[httpx.Client], httpx.Response]], base: str
) -> list[httpx.Response]:
    """Run the calls from one thread each, released at the same moment."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=30.0) as client:
            client.get("/health")  # connect first, so the barrier releases requests, not dials
            start.wait()
            return call(client)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_many_clients_on_several_processes_lose_no_update_and_make_no_duplicate(
    served: tuple[str, str, dict[str, str]],
) -> None:
    """8 edits of version 1 at once: one 200, seven 412, the stored record is the winner's;
    8 creates under one key at once: one patient; 8 screenings at once: all stored; the audit
    chain verifies with the command line."""
    url, base, tokens = served
    nurse = {"Authorization": f"Bearer {tokens['nurse']}"}
    family = unique("Concurrent")
    body = {"clinic_id": tokens["clinic_id"], "family_name": family, "given_name": "Start"}
    patient = httpx.post(f"{base}/api/v1/patients", json=body, headers=nurse).json()

    def edit(n: int) -> Callable[[httpx.Client], httpx.Response]:
        changed = {"family_name": family, "given_name": f"Edit{n}"}
        headers = nurse | {"If-Match": 'W/"1"'}
        return lambda c: c.put(f"/api/v1/patients/{patient['id']}", json=changed, headers=headers)

    edits = _together([edit(n) for n in range(CLIENTS)], base)
    statuses = sorted(r.status_code for r in edits)
    assert statuses == [200] + [412] * (CLIENTS - 1), [r.text for r in edits]
    winner = next(r.json() for r in edits if r.status_code == 200)
    stored = httpx.get(f"{base}/api/v1/patients/{patient['id']}", headers=nurse).json()
    assert (stored["version"], stored["given_name"]) == (2, winner["given_name"])

    twin = {"clinic_id": tokens["clinic_id"], "family_name": unique("Twin"), "given_name": "T"}
    keyed = nurse | {"Idempotency-Key": f"form-{unique('k')}"}
    creates = _together(
        [lambda c: c.post("/api/v1/patients", json=twin, headers=keyed)] * CLIENTS, base
    )
    assert {r.status_code for r in creates} == {201}, [r.text for r in creates]
    assert len({r.json()["id"] for r in creates}) == 1
    found = httpx.get(f"{base}/api/v1/patients", params={"name": twin["family_name"]},
                      headers=nurse).json()  # fmt: skip
    assert found["total"] == 1

    clinician = {"Authorization": f"Bearer {tokens['clinician']}"}
    intake: dict[str, Any] = {"answers": eligible_answers()}
    screenings = _together(
        [lambda c: c.post(f"/api/v1/patients/{patient['id']}/screenings", json=intake,
                          headers=clinician)] * CLIENTS, base)  # fmt: skip
    assert {r.status_code for r in screenings} == {201}
    listed = httpx.get(f"{base}/api/v1/patients/{patient['id']}/screenings",
                       headers=clinician).json()  # fmt: skip
    assert listed["total"] == CLIENTS

    verify = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "mesoscreen", "audit", "verify", "--database", url],
        capture_output=True, text=True, env=ENV, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
