"""``mesoscreen bulk INPUT... --out RESULTS.ndjson``: screen a FHIR Bulk Data export."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mesoscreen.bootstrap import bulk_engine, command_clock
from mesoscreen.domain.errors import InputError
from mesoscreen.entrypoints import exit_codes
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.cli.command_settings import policy_file_for
from mesoscreen.entrypoints.cli.inputs import opened_for_writing, parse_day
from mesoscreen.knowledge import default_knowledge_base, load_policy
from mesoscreen.services.bulk_screening import MAX_LINE_BYTES, BulkSummary
from mesoscreen.services.ports import BulkJob


class Engine(StrEnum):
    """Where the screening runs."""

    LOCAL = "local"
    SPARK = "spark"


def _check_inputs(inputs: list[Path]) -> None:
    """Every input exists: a file or an export folder."""
    for path in inputs:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")


def _summary_table(summary: BulkSummary) -> Table:
    """Counts per outcome and per category, as the run's last words."""
    table = Table(title="Bulk screening summary", show_lines=False)
    table.add_column("outcome / category")
    table.add_column("patients", justify="right")
    for outcome, count in summary.outcome_rows():
        table.add_row(outcome, str(count))
    table.add_section()
    for category, count in summary.category_rows():
        table.add_row(f"category: {category}", str(count))
    table.add_section()
    table.add_row("patients screened", str(summary.patients))
    for reason, count in sorted(summary.not_screened.items()):
        table.add_row(f"not screened: {reason}", str(count))
    table.add_row("bad lines", str(summary.bad_lines))
    return table


@app.command("bulk")
def bulk_command(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="NDJSON files (plain or gzip, one Bundle per line) or export folders."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write one decision per patient.")],
    errors: Annotated[
        Path | None,
        typer.Option("--errors", help="Where to write bad lines (default: OUT with .errors)."),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=256)] = 1,
    on: Annotated[str | None, typer.Option("--on", help="Screening date (default today).")] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Clinic policy file; default: MESOSCREEN_POLICY_FILE."),
    ] = None,
    engine: Annotated[Engine, typer.Option("--engine")] = Engine.LOCAL,
    max_line_bytes: Annotated[
        int,
        typer.Option(
            "--max-line-bytes",
            min=1024,
            help="Longest line read; a longer one is reported as a bad line and skipped.",
        ),
    ] = MAX_LINE_BYTES,
) -> None:
    """Screen every patient of an export; bad lines go to an error file and do not stop the run.

    Exits 0 when every line was screened, 1 when some lines failed, 2 for bad options, an
    unwritable --out or --errors, or a gzip file that breaks off (the results of the lines
    read before it are kept in --out), 69 when a worker process dies (--out then holds the
    decisions of the input's first lines, in order).
    """
    _check_inputs(inputs)
    policy = policy_file_for(policy)
    if policy is not None:
        load_policy(policy, default_knowledge_base())  # fail early, with the file named
    job = BulkJob(on=parse_day(on) or command_clock().today(), policy_path=policy,
                  max_line_bytes=max_line_bytes)  # fmt: skip
    errors_path = errors or out.with_name(out.name + ".errors.ndjson")
    console = Console(stderr=True)
    show_progress = sys.stderr.isatty()
    with (
        opened_for_writing(out, "--out") as out_handle,
        opened_for_writing(errors_path, "--errors") as errors_handle,
        Progress(
            TextColumn("screening"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not show_progress,
            transient=True,
        ) as progress,  # fmt: skip
    ):
        task = progress.add_task("screening", total=None)
        advance = (lambda n: progress.advance(task, n)) if show_progress else None
        summary = bulk_engine(engine.value, workers).run(
            inputs, job, out_handle, errors_handle, advance
        )
    Console().print(_summary_table(summary))
    if summary.bad_lines:
        typer.echo(f"{summary.bad_lines} line(s) failed: see {errors_path}", err=True)
        raise typer.Exit(exit_codes.FAILED)
