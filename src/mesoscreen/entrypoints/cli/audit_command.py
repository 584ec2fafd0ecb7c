"""``mesoscreen audit verify|export|keygen|checkpoint``: check, dump and anchor the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from mesoscreen.bootstrap import (
    build_services,
    checkpoint_log,
    generate_checkpoint_keys,
    read_checkpoint_file,
)
from mesoscreen.config import Settings
from mesoscreen.domain.errors import InputError
from mesoscreen.entrypoints import exit_codes
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.cli.inputs import write_output
from mesoscreen.entrypoints.cli.serve_command import settings_for
from mesoscreen.services.audit_chain import canonical_time
from mesoscreen.services.audit_integrity import AuditLogAlteredError
from mesoscreen.services.ports import CheckpointFile

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="Database URL (default: as for serve).")
]


CheckpointsOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        help="Signed checkpoint file (JSON lines) to check the log against.",
        dir_okay=False,
    ),
]
PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        help="Public key of the checkpoints (default: MESOSCREEN_AUDIT_CHECKPOINT_PUBLIC_KEY).",
        dir_okay=False,
    ),
]


def _checkpoints(settings: Settings, path: Path | None, public_key: Path | None) -> CheckpointFile:
    """The verified checkpoints of ``path``; InputError without a public key to check them."""
    assert path is not None  # noqa: S101 (only called with a file)
    key_path = public_key or settings.resolved_checkpoint_public_key()
    if key_path is None:
        raise InputError(
            "--public-key: expected the checkpoints' public key "
            "(or MESOSCREEN_AUDIT_CHECKPOINT_PUBLIC_KEY)"
        )
    return read_checkpoint_file(path, key_path)


@audit_app.command("verify")
def verify(
    database: DatabaseOption = None,
    checkpoints: CheckpointsOption = None,
    public_key: PublicKeyOption = None,
) -> None:
    """Check the hash chain, every signed record and, given a file, the signed checkpoints.

    Exit 1 naming what is wrong: an entry whose link breaks, a checkpoint the log no longer
    matches (rows removed from its end, or the chain recomputed), a signed record changed.
    """
    settings = settings_for(database)
    found = _checkpoints(settings, checkpoints, public_key) if checkpoints else None
    services = build_services(settings)
    try:
        report = services.audit_integrity.verify(found)
    finally:
        services.close()
    chain = report.chain
    if not chain.intact:
        typer.echo(
            f"audit log BROKEN at entry {chain.first_bad_seq}: {chain.problem} "
            f"({chain.entries} entries read)",
            err=True,
        )
    for problem in report.problems:
        typer.echo(f"audit log BROKEN: {problem}", err=True)
    if not report.intact:
        raise typer.Exit(exit_codes.FAILED)
    typer.echo(f"audit log intact: {chain.entries} entries verified")
    typer.echo(
        f"signed records: {report.signed_records} match what was signed"
        + (
            f" ({report.unverifiable_records} signed before content hashes were kept)"
            if report.unverifiable_records
            else ""
        )
    )
    if found is not None:
        typer.echo(f"checkpoints: {report.checkpoints} signed checkpoints match the log")


@audit_app.command("keygen")
def keygen(
    private_key: Annotated[
        Path, typer.Option("--private-key", help="Where to write the private key (mode 0600).")
    ],
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="Where to write the public key (default: KEY.pub)."),
    ] = None,
) -> None:
    """Create the Ed25519 key pair that signs audit checkpoints; never overwrites a key."""
    public = public_key or private_key.with_name(private_key.name + ".pub")
    try:
        identifier = generate_checkpoint_keys(private_key, public)
    except OSError as error:
        where = Path(error.filename) if error.filename else private_key
        option = "--public-key" if where == public else "--private-key"
        raise InputError(f"{option} {where}: cannot be written ({error.strerror})") from None
    typer.echo(f"checkpoint key {identifier}: private {private_key}, public {public}")


@audit_app.command("checkpoint")
def checkpoint(database: DatabaseOption = None) -> None:
    """Sign the audit chain head into the checkpoint file now (serve does it on its own)."""
    settings = settings_for(database)
    log = checkpoint_log(settings)
    if log is None:
        raise InputError("checkpoint: set MESOSCREEN_AUDIT_CHECKPOINT_KEY to the private key")
    services = build_services(settings)
    try:
        written = services.audit_integrity.checkpoint(log)
    except AuditLogAlteredError as error:
        typer.echo(f"audit log BROKEN: {error.message}", err=True)
        raise typer.Exit(exit_codes.FAILED) from None
    finally:
        services.close()
    if written is None:
        typer.echo("no new audit entries since the last checkpoint")
    else:
        typer.echo(
            f"checkpoint {written.sequence}: {written.entry_count} entries, "
            f"head {written.head_hash}"
        )


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
                        **entry.plain_fields(),
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
        write_output(out, body, "OUT")
        typer.echo(f"exported {len(lines)} audit entries to {out}")
