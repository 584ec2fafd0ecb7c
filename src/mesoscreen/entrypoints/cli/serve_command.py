"""``mesoscreen serve``: run the clinic records service (embedded SQLite unless told otherwise)."""

from __future__ import annotations

from typing import Annotated

import typer

from mesoscreen.bootstrap import prepare_database
from mesoscreen.config import Settings
from mesoscreen.entrypoints.cli.app import app


def settings_for(database: str | None) -> Settings:
    """Settings from the environment, with ``--database`` taking precedence."""
    return Settings(database_url=database) if database else Settings()


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
    prepare_database(settings)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=False)
        return
    # Worker processes build their own app from the environment; nothing that matters is
    # kept in process memory, so they can share the database.
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
