"""A QuestionnaireResponse to the intake Questionnaire as raw intake answers.

Each answered item becomes its question's answer: a coding's code, a date, or strings for
list questions; an item without an answer stays unknown, so an ``in-progress`` or ``stopped``
response is screened as far as it goes (and comes out ``incomplete``). A response marked
``entered-in-error`` counts for nothing and is refused, as is a coding from another code
system (a "yes" in SNOMED CT is not our "yes"). The intake validator then checks every
answer as it checks a JSON intake, so a response gets the same clear errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mesoscreen.adapters.fhir.questionnaire import ANSWER_SYSTEM, QUESTIONNAIRE_URL
from mesoscreen.domain.errors import FhirInputError
from mesoscreen.domain.knowledge_base import AnswerType, KnowledgeBase

USABLE_STATUSES = ("in-progress", "completed", "amended", "stopped")


def _items(items: object, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every item, nested ones included, with its path for error messages."""
    if items is None:
        return
    if not isinstance(items, list):
        raise FhirInputError(f"'{path}': expected a list")
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("linkId"), str):
            raise FhirInputError(f"'{where}.linkId': expected a string")
        yield where, item
        yield from _items(item.get("item"), f"{where}.item")


def _value(answer: object, where: str) -> object:
    if not isinstance(answer, dict):
        raise FhirInputError(f"'{where}': expected an answer object")
    for key in ("valueCoding", "valueDate", "valueString", "valueBoolean"):
        if key in answer:
            value = answer[key]
            if key == "valueCoding":
                code = value.get("code") if isinstance(value, dict) else None
                if not isinstance(code, str):
                    raise FhirInputError(f"'{where}.valueCoding.code': expected a string")
                system = value.get("system", ANSWER_SYSTEM)
                if system != ANSWER_SYSTEM:
                    raise FhirInputError(
                        f"'{where}.valueCoding.system': expected {ANSWER_SYSTEM} (got {system!r})"
                    )
                return code
            if key == "valueBoolean":
                if not isinstance(value, bool):
                    raise FhirInputError(f"'{where}.valueBoolean': expected true or false")
                return "yes" if value else "no"
            return value
    raise FhirInputError(f"'{where}': expected valueCoding, valueDate, valueString or valueBoolean")


def answers_from_response(response: Mapping[str, Any], kb: KnowledgeBase) -> dict[str, object]:
    """The raw intake a QuestionnaireResponse gives; FhirInputError naming the bad element."""
    if response.get("resourceType") != "QuestionnaireResponse":
        raise FhirInputError("'resourceType': expected 'QuestionnaireResponse'")
    status = response.get("status")
    if status not in USABLE_STATUSES:
        raise FhirInputError(
            f"'status': expected one of {', '.join(USABLE_STATUSES)} (got {status!r})"
        )
    canonical = response.get("questionnaire")
    if canonical is not None and (
        not isinstance(canonical, str) or canonical.split("|")[0] != QUESTIONNAIRE_URL
    ):
        raise FhirInputError(f"'questionnaire': expected {QUESTIONNAIRE_URL} (got {canonical!r})")
    types = {q.id: q.answer_type for q in kb.questions}
    answers: dict[str, object] = {}
    for where, item in _items(response.get("item"), "item"):
        link = item["linkId"]
        given = item.get("answer")
        if given is None:
            continue
        if not isinstance(given, list):
            raise FhirInputError(f"'{where}.answer': expected a list")
        values = [_value(a, f"{where}.answer[{i}]") for i, a in enumerate(given)]
        if not values:
            continue
        if types.get(link) is AnswerType.TEXT_LIST:
            answers[link] = values
        elif len(values) > 1:
            raise FhirInputError(f"'{where}.answer': '{link}' takes one answer")
        else:
            answers[link] = values[0]
    return answers
