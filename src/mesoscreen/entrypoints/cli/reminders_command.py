"""``mesoscreen reminders --due-within 7d``: what a mail or SMS tool should remind patients of.

It only lists (text, or JSON for a tool); it sends nothing. Every run is audited.
"""

from __future__ import annotations

import re
from typing import Annotated

import orjson
import typer

from mesoscreen.bootstrap import build_services, command_clock
from mesoscreen.domain.errors import InputError
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.cli.inputs import parse_day
from mesoscreen.entrypoints.cli.serve_command import settings_for

_WITHIN = re.compile(r"^(\d{1,3})d?$")


def parse_within(value: str) -> int:
    """Days from ``7d`` or ``7``; InputError naming the option otherwise."""
    found = _WITHIN.match(value.strip())
    if found is None or int(found.group(1)) > 366:
        raise InputError(f"--due-within: expected days like 7d, at most 366d (got {value!r})")
    return int(found.group(1))


@app.command("reminders")
def reminders_command(
    due_within: Annotated[str, typer.Option("--due-within", help="Horizon, e.g. 7d.")] = "7d",
    on: Annotated[str | None, typer.Option("--on", help="Today, YYYY-MM-DD.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    database: Annotated[str | None, typer.Option("--database", help="Database URL.")] = None,
) -> None:
    """Overdue and upcoming sessions, adverse-event follow-ups and re-screenings."""
    days = parse_within(due_within)
    today = parse_day(on) or command_clock().today()
    services = build_services(settings_for(database))
    try:
        items = services.follow_ups.reminders(today, days)
    finally:
        services.close()
    for item in items:
        patient = item.patient
        if as_json:
            typer.echo(orjson.dumps({
                "due_on": item.due_on.isoformat(), "overdue": item.overdue, "kind": item.kind,
                "detail": item.detail, "patient_id": patient.id, "clinic_id": patient.clinic_id,
                "family_name": patient.family_name, "given_name": patient.given_name,
                "phone": patient.phone,
            }).decode())  # fmt: skip
        else:
            state = "OVERDUE" if item.overdue else "due"
            typer.echo(f"{item.due_on.isoformat()}  {state:<7}  {item.kind:<23}  "
                       f"{patient.family_name} {patient.given_name}  {patient.phone or '-'}  "
                       f"{item.detail}")  # fmt: skip
    if not as_json:
        typer.echo(f"{len(items)} reminder(s) due by {days} day(s) after {today.isoformat()}")
