"""``mesoscreen screen FILE``: screen one intake and print the report or the decision JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from mesoscreen.bootstrap import command_clock, fhir_documents
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.entrypoints.cli.command_settings import policy_file_for
from mesoscreen.entrypoints.cli.input_kinds import screening_input
from mesoscreen.entrypoints.cli.inputs import parse_day, read_json
from mesoscreen.entrypoints.cli.report import render_report
from mesoscreen.knowledge import default_knowledge_base, load_policy
from mesoscreen.services.screening import screening_service


def _say_not_screened(deceased: str, as_json: bool, as_fhir: bool) -> None:
    """A deceased patient is not screened: say so, as text, as data or as FHIR."""
    if as_fhir:
        outcome = {"resourceType": "OperationOutcome", "issue": [{
            "severity": "information", "code": "business-rule",
            "diagnostics": f"Not screened: the record shows the patient has died ({deceased})",
        }]}  # fmt: skip
        typer.echo(orjson.dumps(outcome, option=orjson.OPT_INDENT_2).decode())
    elif as_json:
        document = {"outcome": "not_screened", "reason": "deceased",
                    "record": {"deceased": [deceased]}}  # fmt: skip
        typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(
            f"NOT SCREENED: the record shows this patient has died ({deceased}).\n"
            "No screening decision was made."
        )


@app.command("screen")
def screen_command(
    file: Annotated[
        str,
        typer.Argument(help="Intake JSON or FHIR Bundle file, or - for standard input."),
    ],
    on: Annotated[
        str | None, typer.Option("--on", help="Screening date YYYY-MM-DD (default: today).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision object.")] = False,
    as_fhir: Annotated[
        bool,
        typer.Option("--fhir", help="Print the decision as a FHIR R4 GuidanceResponse Bundle."),
    ] = False,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="Clinic policy file (YAML or JSON); default: MESOSCREEN_POLICY_FILE."
        ),
    ] = None,
    language: Annotated[
        Language, typer.Option("--language", help="Language of the report.")
    ] = Language.EN,
) -> None:
    """Screen an intake: outcome first, then reasons with their sources, then what to do next.

    A FHIR Bundle is read as the patient's record: it can show risks, never their absence, so
    what it does not say stays unknown and the report lists what to ask the patient.
    Exits 0 whatever the outcome; 2 for unreadable or invalid input.
    """
    kb = default_knowledge_base()
    policy = policy_file_for(policy)
    chosen_policy = load_policy(policy, kb) if policy is not None else None
    day = parse_day(on) or command_clock().today()
    given = screening_input(read_json(file), day)
    if given.deceased is not None:
        _say_not_screened(given.deceased, as_json, as_fhir)
        return
    decision = screening_service(kb, chosen_policy).screen(given.answers, day)
    if as_fhir:
        bundle = fhir_documents().guidance_response(
            decision, given.patient_reference, language, given.evidence
        )
        typer.echo(orjson.dumps(bundle, option=orjson.OPT_INDENT_2).decode())
    elif as_json:
        document = decision.as_dict()
        # The answers screened go with the decision, so `plan --screening` can make it again
        # and trust it only when identical.
        document["input"] = {
            "kind": given.kind,
            "answers": given.answers,
            "evidence": dict(given.evidence),
            "dates": dict(given.dates),
            "hints": dict(given.hints),
        }
        typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(render_report(decision, kb, language))
        if given.evidence:
            typer.echo("\nFrom the record:")
            for question, references in given.evidence.items():
                dated = [f"{r} ({given.dates[r]})" if r in given.dates else r for r in references]
                typer.echo(f"  {question}: {', '.join(dated)}")
        if given.hints:
            typer.echo("\nTo ask, because the record mentions it without a code:")
            for question, hints in given.hints.items():
                for hint in hints:
                    typer.echo(f"  {question}: {hint}")
