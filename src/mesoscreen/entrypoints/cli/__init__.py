"""The ``mesoscreen`` command: one Typer app, one module per sub-command.

Errors become a one-line message on standard error and the exit code the error table
(``mesoscreen.entrypoints.error_table``) gives them; a bad option is one line too, never a
usage box; a traceback never reaches the user.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Sequence

import typer
from sqlalchemy.exc import InterfaceError, OperationalError

from mesoscreen.domain.errors import DatabaseUnavailableError, MesoscreenError
from mesoscreen.entrypoints import exit_codes
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.error_table import edges_for

# Sub-commands register themselves on `app` when imported.
from mesoscreen.entrypoints.cli import screen_command  # noqa: F401  isort: skip
from mesoscreen.entrypoints.cli import plan_command  # noqa: F401  isort: skip
from mesoscreen.entrypoints.cli import plans_command  # noqa: F401  isort: skip
from mesoscreen.entrypoints.cli import bulk_command  # noqa: F401  isort: skip
from mesoscreen.entrypoints.cli import questionnaire_command  # noqa: F401  isort: skip
from mesoscreen.entrypoints.cli import reminders_command  # noqa: F401  isort: skip
from mesoscreen.entrypoints.cli import serve_command  # noqa: F401  isort: skip
from mesoscreen.entrypoints.cli import admin_command  # noqa: F401  isort: skip
from mesoscreen.entrypoints.cli import audit_command  # noqa: F401  isort: skip
from mesoscreen.entrypoints.cli import backup_command  # noqa: F401  isort: skip

_log = logging.getLogger("mesoscreen.cli")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` and return the exit code (the console script exits)."""
    try:
        result = app(
            args=list(argv) if argv is not None else None,
            prog_name="mesoscreen",
            standalone_mode=False,
        )
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else exit_codes.OK
    except typer.TyperException as exc:
        # Typer's own (vendored Click) usage errors: a bad option, argument or command.
        return _refuse_usage(exc)
    except typer.Abort:
        typer.echo("mesoscreen: aborted", err=True)
        return exit_codes.FAILED
    except MesoscreenError as exc:
        return _refuse(exc)
    except (OperationalError, InterfaceError) as exc:
        # The type only: a driver's message may quote a statement's parameters.
        _log.warning("database unavailable: %s", type(exc).__name__)
        return _refuse(DatabaseUnavailableError("the database cannot be reached; try again"))
    except KeyboardInterrupt:
        typer.echo("mesoscreen: interrupted", err=True)
        return exit_codes.INTERRUPTED
    except Exception as exc:
        return _internal_error(exc)
    return result if isinstance(result, int) else exit_codes.OK


def _refuse(error: MesoscreenError) -> int:
    """One line on standard error; the exit code the error table gives ``error``."""
    edges = edges_for(error)
    if edges.exit_code == exit_codes.INTERNAL_ERROR:
        return _internal_error(error)
    typer.echo(f"mesoscreen: error: {_one_line(error.message)}", err=True)
    return edges.exit_code


def _refuse_usage(error: typer.TyperException) -> int:
    """A bad option, argument or command as one line (never a usage box), exit 2; the
    command's help when it was given no arguments at all."""
    context = getattr(error, "ctx", None)
    if type(error).__name__ == "NoArgsIsHelpError":
        typer.echo(error.format_message(), err=True)
        return exit_codes.INVALID_INPUT
    where = getattr(context, "command_path", None) or "mesoscreen"
    typer.echo(f"{where}: error: {_one_line(error.format_message())}", err=True)
    return exit_codes.INVALID_INPUT


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _internal_error(error: BaseException) -> int:
    reference = uuid.uuid4().hex[:12]
    # The exception type only: messages may quote patient data.
    _log.error("internal error %s: %s", reference, type(error).__name__)
    typer.echo(f"mesoscreen: internal error (reference {reference})", err=True)
    return exit_codes.INTERNAL_ERROR


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
