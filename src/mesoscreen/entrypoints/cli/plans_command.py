"""``mesoscreen check-plans``: every stored treatment plan through the plan gate.

For plans stored before the gate existed, or changed behind the service's back, and after a
new knowledge base or formulary: it lists each plan that fails and why, changes and deletes
nothing, and exits 1 when any fails. The pages show the same reason on the plan, and signing
or recording a session from such a plan is refused until a new plan is made.
"""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from mesoscreen.bootstrap import build_services
from mesoscreen.entrypoints import exit_codes
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.cli.serve_command import settings_for


@app.command("check-plans")
def check_plans_command(
    database: Annotated[str | None, typer.Option("--database", help="Database URL.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per plan.")] = False,
) -> None:
    """Check every stored plan against the plan gate; exit 1 if any fails (nothing changes)."""
    services = build_services(settings_for(database))
    try:
        results = services.plans.check_stored()
    finally:
        services.close()
    for result in results:
        if as_json:
            typer.echo(orjson.dumps({
                "plan_id": result.plan_id, "clinic_id": result.clinic_id,
                "status": result.status, "passes": result.refusal is None,
                "refusal": result.refusal,
            }).decode())  # fmt: skip
        elif result.refusal is not None:
            typer.echo(f"{result.plan_id}  {result.status:<6}  FAILS  {result.refusal}")
    failing = sum(1 for r in results if r.refusal is not None)
    if not as_json:
        typer.echo(f"{len(results)} plan(s) checked, {failing} fail the plan gate")
    if failing:
        raise typer.Exit(exit_codes.FAILED)
