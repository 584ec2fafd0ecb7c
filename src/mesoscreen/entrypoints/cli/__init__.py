"""The ``mesoscreen`` command: one Typer app, one module per sub-command.

Errors become a one-line message on standard error and an exit code from
``exit_codes``; a traceback never reaches the user.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Sequence

import typer

from mesoscreen.domain.errors import MesoscreenError
from mesoscreen.entrypoints.cli import exit_codes
from mesoscreen.entrypoints.cli.app import app

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
        app(args=list(argv) if argv is not None else None, prog_name="mesoscreen")
    except SystemExit as exc:
        # Typer's own usage errors exit 2 with its message; success exits 0.
        return exc.code if isinstance(exc.code, int) else exit_codes.OK
    except MesoscreenError as exc:
        typer.echo(f"mesoscreen: error: {exc.message}", err=True)
        return exit_codes.INVALID_INPUT
    except KeyboardInterrupt:
        typer.echo("mesoscreen: interrupted", err=True)
        return exit_codes.INTERRUPTED
    except Exception as exc:
        reference = uuid.uuid4().hex[:12]
        # The exception type only: messages may quote patient data.
        _log.error("internal error %s: %s", reference, type(exc).__name__)
        typer.echo(f"mesoscreen: internal error (reference {reference})", err=True)
        return exit_codes.INTERNAL_ERROR
    return exit_codes.OK


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
