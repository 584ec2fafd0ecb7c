"""``python -m mesoscreen``: the same command line as ``mesoscreen``."""

from mesoscreen.entrypoints.cli import run

run()
