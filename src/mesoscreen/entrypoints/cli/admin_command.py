"""``mesoscreen admin create`` and ``mesoscreen clinic create``: first accounts, from the server."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mesoscreen.bootstrap import build_services, prepare_database
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.cli.serve_command import settings_for

admin_app = typer.Typer(help="Administrator accounts.", no_args_is_help=True)
clinic_app = typer.Typer(help="Clinics of the group.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
app.add_typer(clinic_app, name="clinic")

DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="Database URL (default: as for serve).")
]


def _read_password(from_stdin: bool) -> str:
    """The new password, from standard input or a prompt that does not echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@admin_app.command("create")
def create_admin(
    username: Annotated[str, typer.Option("--username", help="The admin's username.")],
    clinic: Annotated[
        list[str] | None, typer.Option("--clinic", help="A clinic the admin runs (repeatable).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Create an admin account; the password is read, never shown or logged."""
    settings = settings_for(database)
    prepare_database(settings)
    password = _read_password(password_stdin)
    services = build_services(settings)
    try:
        user = services.accounts.create_admin_locally(username, password, clinic or [])
    finally:
        services.close()
    typer.echo(f"created admin {user.username} ({user.id})")


@clinic_app.command("create")
def create_clinic(
    name: Annotated[str, typer.Argument(help="The clinic's name.")],
    database: DatabaseOption = None,
) -> None:
    """Create a clinic."""
    settings = settings_for(database)
    prepare_database(settings)
    services = build_services(settings)
    try:
        clinic = services.accounts.create_clinic_locally(name)
    finally:
        services.close()
    typer.echo(f"created clinic {clinic.name} ({clinic.id})")
