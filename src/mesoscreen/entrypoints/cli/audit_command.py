"""``mesoscreen audit verify`` and ``audit export``: check and dump the hash-chained audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from mesoscreen.bootstrap import build_services
from mesoscreen.entrypoints.cli import exit_codes
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.cli.serve_command import settings_for
from mesoscreen.services.audit_chain import canonical_time

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="Database URL (default: as for serve).")
]


@audit_app.command("verify")
def verify(database: DatabaseOption = None) -> None:
    """Check every hash link of the audit log; exit 1 and name the first bad entry if broken."""
    services = build_services(settings_for(database))
    try:
        report = services.audit.verify()
    finally:
        services.close()
    if report.intact:
        typer.echo(f"audit log intact: {report.entries} entries verified")
        return
    typer.echo(
        f"audit log BROKEN at entry {report.first_bad_seq}: {report.problem} "
        f"({report.entries} entries read)",
        err=True,
    )
    raise typer.Exit(exit_codes.FAILED)


@audit_app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="NDJSON file to write, or - for standard output.")],
    database: DatabaseOption = None,
) -> None:
    """Write every audit entry, with its chain hashes, as one JSON object per line."""
    services = build_services(settings_for(database))
    lines = []
    try:
        for stored in services.audit.all_entries():
            entry = stored.entry
            lines.append(
                orjson.dumps(
                    {
                        "seq": stored.seq,
                        "recorded_at": canonical_time(entry.recorded_at),
                        "event_type": entry.event_type,
                        "action": entry.action.value,
                        "outcome": entry.outcome.value,
                        "actor_id": entry.actor_id,
                        "actor_role": entry.actor_role,
                        "clinic_id": entry.clinic_id,
                        "patient_id": entry.patient_id,
                        "entity_type": entry.entity_type,
                        "entity_id": entry.entity_id,
                        "source": entry.source,
                        "detail": dict(entry.detail),
                        "prev_hash": stored.prev_hash,
                        "hash": stored.hash,
                    }
                )
            )
    finally:
        services.close()
    body = b"\n".join(lines) + (b"\n" if lines else b"")
    if str(out) == "-":
        typer.echo(body.decode(), nl=False)
    else:
        out.write_bytes(body)
        typer.echo(f"exported {len(lines)} audit entries to {out}")
