"""``mesoscreen backup OUT`` and ``mesoscreen restore IN`` for the embedded database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mesoscreen.bootstrap import (
    backup_database,
    command_clock,
    embedded_database_file,
    restore_database,
)
from mesoscreen.config import Settings
from mesoscreen.domain.errors import InputError
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.cli.serve_command import settings_for

DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="Database URL (default: as for serve).")
]


def _embedded_file(database: str | None) -> Path:
    path = embedded_database_file(settings_for(database))
    if path is None:
        raise InputError(
            "backup/restore: expected the embedded SQLite database "
            "(got PostgreSQL; use pg_dump and pg_restore)"
        )
    return path


@app.command("backup")
def backup_command(
    out: Annotated[Path, typer.Argument(help="File to write the backup to.")],
    database: DatabaseOption = None,
) -> None:
    """Write a consistent copy of the embedded database, even while the server runs."""
    database_file = _embedded_file(database)
    try:
        backup_database(database_file, out)
    except FileNotFoundError as missing:
        if not database_file.exists():
            raise InputError(f"backup: {missing}") from None
        raise InputError(f"OUT {out}: cannot be written ({missing.strerror})") from None
    except ValueError as error:
        raise InputError(f"backup: {error}") from None
    except OSError as error:
        raise InputError(f"OUT {out}: cannot be written ({error.strerror})") from None
    typer.echo(f"backup written to {out}")


def _set_checkpoints_aside(settings: Settings) -> Path | None:
    """Move the checkpoint file aside: it signed entries the restored log no longer holds.

    Kept under a new name, it still records the history before the restore (and shipped
    copies still show what was lost); new checkpoints start a new file.
    """
    current = settings.resolved_checkpoint_file()
    if not current.exists():
        return None
    stamp = command_clock().now().strftime("%Y%m%dT%H%M%SZ")
    aside = current.with_name(f"{current.name}.before-restore-{stamp}")
    current.rename(aside)
    return aside


@app.command("restore")
def restore_command(
    backup: Annotated[Path, typer.Argument(help="Backup file to restore.")],
    database: DatabaseOption = None,
) -> None:
    """Replace the embedded database with a backup; refused while a server runs on it."""
    if not backup.is_file():
        raise InputError(f"restore: backup file {backup} does not exist")
    try:
        restore_database(backup, _embedded_file(database))
    except ValueError as error:
        raise InputError(f"restore: {error}") from None
    typer.echo(f"restored from {backup}")
    aside = _set_checkpoints_aside(settings_for(database))
    if aside is not None:
        typer.echo(f"audit checkpoints of the replaced log kept as {aside}; new ones start afresh")
