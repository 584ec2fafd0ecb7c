"""`restore` as an operator might run it, against a real `mesoscreen serve` on the embedded
database: refused while the server runs with exit 75, sysexits' temporary failure (every
write acknowledged since the backup is kept), refused for a copy without the append-only
triggers; the server signs audit checkpoints when it starts and when it stops, and they match
the log."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mesoscreen.entrypoints import exit_codes
from mesoscreen.entrypoints.cli import main
from tests.factories import PASSWORD
from tests.integration.crash.test_sigkill_durability import CHEAP_ARGON2, _free_port


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of an operator: a data folder, cheap Argon2, a checkpoint key."""
    env = {
        "MESOSCREEN_DATA_DIR": str(tmp_path / "data"),
        "MESOSCREEN_AUDIT_CHECKPOINT_KEY": str(tmp_path / "keys" / "checkpoint.pem"),
        "MESOSCREEN_AUDIT_CHECKPOINT_INTERVAL_SECONDS": "3600",
        **CHEAP_ARGON2,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MESOSCREEN_DATABASE_URL", raising=False)
    assert main(["audit", "keygen", "--private-key", env["MESOSCREEN_AUDIT_CHECKPOINT_KEY"]]) == 0
    assert main(["clinic", "create", "Can Tho"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["admin", "create", "--username", "boss", "--clinic", "Can Tho",
                 "--password-stdin"]) == 0  # fmt: skip
    return env


class _Server:
    """`mesoscreen serve` in a child process on a free port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.base = f"http://127.0.0.1:{_free_port()}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "mesoscreen", "serve", "--port", self.base.rsplit(":", 1)[1]],
            env=os.environ | env, stdout=self._log, stderr=self._log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server exited with {self.process.returncode}"
            try:
                httpx.get(f"{self.base}/health", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        pytest.fail("server did not start")

    def stop(self) -> int:
        """Stop it as a service manager would (SIGTERM); its exit code."""
        self.process.terminate()
        code = self.process.wait(timeout=30)
        self._log.close()
        return code


def _clinic_names(data: Path) -> list[str]:
    with sqlite3.connect(data / "mesoscreen.sqlite3") as connection:
        return sorted(row[0] for row in connection.execute("SELECT name FROM clinics"))


def test_restore_is_refused_while_the_server_runs_and_no_acknowledged_write_is_lost(
    operator: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 with one line; the clinic created after the backup is still there."""
    data = Path(operator["MESOSCREEN_DATA_DIR"])
    backup = tmp_path / "backup.sqlite3"
    assert main(["backup", str(backup)]) == 0
    server = _Server(operator, tmp_path / "server.log")
    try:
        credentials = {"username": "boss", "password": PASSWORD}
        signed_in = httpx.post(f"{server.base}/api/v1/auth/token", json=credentials)
        token = signed_in.json()["access_token"]
        created = httpx.post(f"{server.base}/api/v1/clinics", json={"name": "After backup"},
                             headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert created.status_code == 201, created.text
        capsys.readouterr()
        assert main(["restore", str(backup)]) == exit_codes.TEMPORARY_FAILURE
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert "in use by a running server" in err
    finally:
        assert server.stop() == 0
    assert _clinic_names(data) == ["After backup", "Can Tho"]
    # Stopped, the restore goes ahead, and sets the signed checkpoints of the lost tail aside.
    assert main(["restore", str(backup)]) == 0
    assert "kept as" in capsys.readouterr().out
    assert _clinic_names(data) == ["Can Tho"]


def test_the_server_signs_the_head_when_it_starts_and_when_it_stops(
    operator: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two checkpoints: the head at start, the head after the server's own writes at stop."""
    server = _Server(operator, tmp_path / "server.log")
    try:
        signed_in = httpx.post(f"{server.base}/api/v1/auth/token",
                               json={"username": "boss", "password": PASSWORD})  # fmt: skip
        assert signed_in.status_code == 200
    finally:
        assert server.stop() == 0
    lines = (Path(operator["MESOSCREEN_DATA_DIR"]) / "audit-checkpoints.jsonl").read_text()
    checkpoints = [json.loads(line) for line in lines.splitlines()]
    assert [c["sequence"] for c in checkpoints] == [1, 2]
    assert checkpoints[1]["entry_count"] > checkpoints[0]["entry_count"]
    capsys.readouterr()
    checkpoint_file = Path(operator["MESOSCREEN_DATA_DIR"]) / "audit-checkpoints.jsonl"
    assert main(["audit", "verify", "--checkpoints", str(checkpoint_file)]) == 0
    assert "2 signed checkpoints match the log" in capsys.readouterr().out


def test_restore_refuses_a_copy_without_the_append_only_triggers(
    operator: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy whose audit triggers were dropped could hold a rewritten log: exit 2, untouched."""
    backup = tmp_path / "backup.sqlite3"
    assert main(["backup", str(backup)]) == 0
    with sqlite3.connect(backup) as connection:
        connection.execute("DROP TRIGGER audit_log_refuse_update")
    main(["clinic", "create", "Kept"])
    capsys.readouterr()
    assert main(["restore", str(backup)]) == 2
    err = capsys.readouterr().err
    assert "lacks the append-only protections (audit_log_refuse_update)" in err
    assert _clinic_names(Path(operator["MESOSCREEN_DATA_DIR"])) == ["Can Tho", "Kept"]
