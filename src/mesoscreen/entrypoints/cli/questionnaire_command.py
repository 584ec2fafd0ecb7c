"""``mesoscreen questionnaire``: the intake questions, as text or as a FHIR SDC Questionnaire."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from mesoscreen.bootstrap import fhir_documents
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.cli.app import app
from mesoscreen.knowledge import default_knowledge_base


@app.command("questionnaire")
def questionnaire_command(
    as_fhir: Annotated[
        bool, typer.Option("--fhir", help="Print the FHIR R4 SDC Questionnaire (JSON).")
    ] = False,
    language: Annotated[
        Language,
        typer.Option("--language", help="Language of the texts (the FHIR form carries both)."),
    ] = Language.EN,
) -> None:
    """The pre-treatment questions from the knowledge base; answers go to `mesoscreen screen`."""
    kb = default_knowledge_base()
    if as_fhir:
        document = fhir_documents().questionnaire(kb, language)
        typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        return
    for number, question in enumerate(kb.questions, start=1):
        shown = "" if question.applies_when is None else "  (only when it applies)"
        typer.echo(f"{number:>2}. [{question.id}] {question.text.in_language(language)}{shown}")
