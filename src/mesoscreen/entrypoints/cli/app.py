"""The Typer application every sub-command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="mesoscreen",
    help="Decision support for scalp mesotherapy for hair loss: screen, plan, record.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Decision support for scalp mesotherapy for hair loss: screen, plan, record."""
