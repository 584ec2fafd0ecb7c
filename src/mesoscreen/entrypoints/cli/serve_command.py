"""``mesoscreen serve``: run the clinic records service (embedded SQLite unless told otherwise).

Before it listens, the server takes the lock a restore waits for (embedded database),
creates or upgrades the schema, and refuses to start on a database whose append-only
protections are gone. While it runs, and once more when it stops, it signs the audit chain
head into the checkpoint file (when a key is set).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer

from mesoscreen.bootstrap import (
    build_services,
    check_protections,
    checkpoint_log,
    hold_database,
    prepare_database,
)
from mesoscreen.config import Settings
from mesoscreen.domain.errors import MesoscreenError
from mesoscreen.entrypoints import exit_codes
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.cli.command_settings import settings_for as settings_for
from mesoscreen.services.audit_integrity import AuditIntegrity
from mesoscreen.services.ports import CheckpointLog

_log = logging.getLogger("mesoscreen.checkpoints")


def _write_checkpoint(integrity: AuditIntegrity, log: CheckpointLog) -> None:
    """Sign the chain head once; a failure is logged (message only: it holds no patient data)."""
    try:
        integrity.checkpoint(log)
    except MesoscreenError as error:
        _log.error("audit checkpoint: %s", error.message)
    except Exception as error:  # the server goes on; the next interval tries again
        _log.error("audit checkpoint failed: %s", type(error).__name__)


@contextmanager
def checkpointing(settings: Settings) -> Iterator[None]:
    """Checkpoints every interval in a thread while the body runs, and one when it ends."""
    log = checkpoint_log(settings)
    if log is None:
        typer.echo(
            "mesoscreen: warning: audit checkpoints are off (set MESOSCREEN_AUDIT_CHECKPOINT_KEY;"
            " see `mesoscreen audit keygen`)",
            err=True,
        )
        yield
        return
    services = build_services(settings)
    stop = threading.Event()

    def every_interval() -> None:
        while not stop.wait(settings.audit_checkpoint_interval_seconds):
            _write_checkpoint(services.audit_integrity, log)

    _write_checkpoint(services.audit_integrity, log)
    timer = threading.Thread(target=every_interval, name="audit-checkpoints", daemon=True)
    timer.start()
    try:
        yield
    finally:
        stop.set()
        timer.join()
        _write_checkpoint(services.audit_integrity, log)
        services.close()


def _stop(signum: int, frame: FrameType | None) -> None:
    """SIGTERM: leave through the ``with`` blocks, as after a normal stop."""
    raise SystemExit(exit_codes.OK)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Database URL (default: MESOSCREEN_DATABASE_URL or the embedded file).",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Server processes (state is shared).")
    ] = 1,
) -> None:
    """Start the HTTP service; creates or upgrades the database schema first."""
    import os

    import uvicorn

    from mesoscreen.entrypoints.api import create_app

    settings = settings_for(database)
    with hold_database(settings):
        prepare_database(settings)
        check_protections(settings, "serve")
        # uvicorn stops gracefully on SIGTERM and then raises the signal again; unwinding
        # from it (instead of dying) writes the last checkpoint and lets go of the lock.
        signal.signal(signal.SIGTERM, _stop)
        with checkpointing(settings):
            if workers == 1:
                uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=False)
                return
            # Worker processes build their own app from the environment; nothing that matters
            # is kept in process memory, so they can share the database.
            if database:
                os.environ["MESOSCREEN_DATABASE_URL"] = database
            uvicorn.run(
                "mesoscreen.entrypoints.api:create_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                proxy_headers=False,
                log_level="warning",
            )
