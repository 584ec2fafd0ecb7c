"""What a form filler shows: R4 ``enableWhen`` and SDC ``enableWhenExpression``, run on a
QuestionnaireResponse as the specifications say (an independent reading for the tests).

R4 Questionnaire: "If enableWhen logic depends on an item that is disabled, the logic should
proceed as though the item is not valued", and a disabled item's answers are not kept. Items
are visited in order (a follow-up comes after the question it reads), and each item is judged
on the answers of the items already found enabled. Expressions run in fhirpathpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fhirpathpy import evaluate
from fhirpathpy.models import models

ENABLE_WHEN_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)


def _values(answers: Sequence[Mapping[str, Any]]) -> list[Any]:
    return [next(v for k, v in a.items() if k.startswith("value")) for a in answers]


def _same(value: Any, expected: Any) -> bool:
    if isinstance(expected, dict):  # Coding: system and code both given here
        return isinstance(value, dict) and all(value.get(k) == expected[k] for k in expected)
    return bool(value == expected)


def _condition_holds(condition: Mapping[str, Any], answers: Sequence[Mapping[str, Any]]) -> bool:
    """One enableWhen condition (R4 Questionnaire.item.enableWhen)."""
    operator = condition["operator"]
    expected = next(v for k, v in condition.items() if k.startswith("answer"))
    values = _values(answers)
    if operator == "exists":
        return bool(values) is expected
    if not values:
        return False  # "the condition is false" for an unanswered question (bar exists)
    if operator == "=":
        return any(_same(v, expected) for v in values)
    if operator == "!=":
        return not any(_same(v, expected) for v in values)
    raise AssertionError(f"operator {operator!r} not used by the questionnaire")


def _expression(item: Mapping[str, Any]) -> str | None:
    for extension in item.get("extension", ()):
        if extension["url"] == ENABLE_WHEN_EXPRESSION:
            return str(extension["valueExpression"]["expression"])
    return None


def enabled_items(
    questionnaire: Mapping[str, Any], response: dict[str, Any], *, keep_hidden_answers: bool
) -> set[str]:
    """The linkIds a filler shows for ``response``; with ``keep_hidden_answers`` the answers
    of hidden items stay in the resource the expressions read (a lenient filler)."""
    given = {i["linkId"]: i.get("answer", []) for i in response.get("item", [])}
    enabled: set[str] = set()
    kept: dict[str, Any] = {**response, "item": []}
    for item in questionnaire["item"]:
        link = item["linkId"]
        seen = {k: v for k, v in given.items() if k in enabled}
        expression = _expression(item)
        if "enableWhen" in item:
            results = [_condition_holds(c, seen.get(c["question"], [])) for c in item["enableWhen"]]
            shown = any(results) if item.get("enableBehavior") == "any" else all(results)
        elif expression is not None:
            resource = response if keep_hidden_answers else kept
            result = evaluate(resource, expression, {"resource": resource}, models["r4"])
            shown = result == [True]
        else:
            shown = True
        if shown:
            enabled.add(link)
            if link in given:
                kept["item"].append({"linkId": link, "answer": given[link]})
    return enabled
