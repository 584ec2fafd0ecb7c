"""The README's records section names every option of ``mesoscreen admin create``."""

from __future__ import annotations

from pathlib import Path

import typer.main

from mesoscreen.entrypoints.cli.admin_command import admin_app

README = Path(__file__).parents[4] / "README.md"


def test_every_option_of_admin_create_is_in_the_readme() -> None:
    """A scripted install finds --password-stdin (and any option added later) documented."""
    command = typer.main.get_command(admin_app)
    # One command in the group: Typer serves it as the group itself.
    create = getattr(command, "commands", {}).get("create", command)
    options = {name for param in create.params for name in param.opts if name.startswith("--")}
    assert {"--password-stdin", "--username"} <= options  # the scan sees the options
    section = README.read_text("utf-8").split("## Clinic records service", 1)[1]
    section = section.split("\n## ", 1)[0]
    ours = options - {"--help", "--install-completion", "--show-completion"}  # Typer's own
    assert sorted(option for option in ours if option not in section) == []
