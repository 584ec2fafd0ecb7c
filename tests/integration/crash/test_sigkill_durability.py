"""Crash durability: SIGKILL the server again and again in a stream of screening writes.

Every write the client saw acknowledged must be there afterwards, whole, with its audit
entry; nothing half-written may be visible; ``mesoscreen audit verify`` must pass.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from mesoscreen.bootstrap import build_services
from tests.conftest import DIALECTS, migrated_database
from tests.factories import PASSWORD, eligible_answers, records_settings, seed_clinic

KILLS = int(os.environ.get("MESOSCREEN_CRASH_KILLS", "50"))
CHEAP_ARGON2 = {
    "MESOSCREEN_ARGON2_TIME_COST": "1",
    "MESOSCREEN_ARGON2_MEMORY_KIB": "8",
    "MESOSCREEN_ARGON2_PARALLELISM": "1",
}


def _free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Server:
    """``mesoscreen serve`` in a child process that the test can kill."""

    def __init__(self, url: str, log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = os.environ | CHEAP_ARGON2
        self._log = log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "mesoscreen", "serve", "--port", str(self.port),
             "--database", url],
            env=env, stdout=self._log, stderr=self._log,
        )  # fmt: skip

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Return once the server answers."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited early with {self.process.returncode}")
            try:
                httpx.get(f"{self.base}/openapi.json", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        pytest.fail("server did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._log.close()


def _write_until_refused(base: str, token: str, patient: str, acknowledged: list[str]) -> None:
    """Post screenings as fast as possible; keep the ids the server acknowledged."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=5.0) as client:
        while True:
            try:
                response = client.post(
                    f"/api/v1/patients/{patient}/screenings", json={"answers": eligible_answers()}
                )
            except httpx.TransportError:
                return
            if response.status_code == 201:
                acknowledged.append(response.json()["id"])


def _sign_in_and_register(base: str, username: str, clinic_id: str) -> tuple[str, str]:
    """A clinician's bearer token and a new patient's id."""
    login = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    )
    token = str(login.json()["access_token"])
    created = httpx.post(
        f"{base}/api/v1/patients",
        json={"clinic_id": clinic_id, "family_name": "Crash", "given_name": "Test"},
        headers={"Authorization": f"Bearer {token}"},
    )
    return token, str(created.json()["id"])


@pytest.mark.slow
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_sigkilled_server_loses_no_acknowledged_screening(dialect: str, tmp_path: Path) -> None:
    """Kill the server mid-write many times: acknowledged writes survive whole and audited."""
    rng = random.Random(8)  # noqa: S311 - kill timing, not security
    with migrated_database(dialect, tmp_path) as url:
        services = build_services(records_settings(url))
        try:
            staff = seed_clinic(services.accounts)
        finally:
            services.close()
        clinician = next(u for u in staff.users.values() if u.role.value == "clinician")
        acknowledged: list[str] = []
        token = patient = ""
        for _ in range(KILLS):
            server = _Server(url, tmp_path / "server.log")
            server.wait_ready()
            if not token:
                token, patient = _sign_in_and_register(
                    server.base, clinician.username, staff.clinic.id
                )
            writer = threading.Thread(
                target=_write_until_refused, args=(server.base, token, patient, acknowledged)
            )
            writer.start()
            time.sleep(rng.uniform(0.05, 0.4))
            server.kill()
            writer.join()
        _assert_whole_and_audited(url, acknowledged)
        verify = subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "-m", "mesoscreen", "audit", "verify", "--database", url],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert verify.returncode == 0, verify.stdout + verify.stderr
    assert len(acknowledged) > KILLS, "the stream wrote too little to mean anything"


def _assert_whole_and_audited(url: str, acknowledged: list[str]) -> None:
    """Every acknowledged screening is stored whole and audited; nothing unaudited exists."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, decision, knowledge_base_hash FROM screenings")
            ).all()
            audited = {
                row[0]
                for row in connection.execute(
                    text("SELECT entity_id FROM audit_log WHERE event_type = 'screening.create' "
                         "AND outcome = 'success'")
                )
            }  # fmt: skip
    finally:
        engine.dispose()
    stored = {row[0]: row for row in rows}
    lost = [sid for sid in acknowledged if sid not in stored]
    assert not lost, f"{len(lost)} acknowledged screenings lost"
    for row in rows:
        decision = row[1] if isinstance(row[1], dict) else json.loads(row[1])
        assert decision["outcome"] == "eligible"
        assert row[2].startswith("sha256:")
    assert set(stored) == audited, "a screening without its audit entry, or the reverse"
