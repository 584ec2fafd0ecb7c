"""The intake as a FHIR SDC Questionnaire, generated from the knowledge base.

Every question is an item whose linkId is the question id; yes/no questions offer "not known"
as an answer, because an unknown answer is an answer here (it never counts as "no"). A
question that applies only sometimes is shown unless its condition is definitely false, or a
question it follows up is itself hidden, as in the engine (applicability is transitive: no
weaning date is asked of a man, even if a stale "yes" to "recently weaned" is still held).

Each such item carries exactly one of the two forms (the SDC invariant sdc-behave-2 forbids
both): plain ``enableWhen`` for a single test on a question that is always shown (with
``exists = false`` so that an unanswered question keeps it shown); otherwise an SDC
``enableWhenExpression`` in FHIRPath, which also says the composite and follow-up conditions
``enableWhen`` cannot (R4 reads a hidden question as unanswered, and ``exists = false`` would
then show its follow-ups). Texts are in the chosen language (``Questionnaire.language``) and
carry the other one through the core translation extension, so one resource serves both.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from mesoscreen.domain.conditions import AllOf, AnyOf, Condition, FactIs, Not
from mesoscreen.domain.errors import UnsupportedConditionError as UnsupportedConditionError
from mesoscreen.domain.knowledge_base import AnswerType, KnowledgeBase, Question, Text
from mesoscreen.domain.vocabulary import Language

QUESTIONNAIRE_URL = "https://mesoscreen.org/fhir/Questionnaire/scalp-mesotherapy-intake"
ANSWER_SYSTEM = "https://mesoscreen.org/fhir/CodeSystem/intake-answer"
# Codes the items (and the Observations an SDC extraction makes of their answers).
QUESTION_SYSTEM = "https://mesoscreen.org/fhir/CodeSystem/intake-question"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
ENABLE_WHEN_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)
YES_NO_UNKNOWN = {
    "yes": Text("Yes", "Có"),
    "no": Text("No", "Không"),
    "unknown": Text("Not known", "Không rõ"),
}
CHOICE_TEXTS = {
    "female": Text("Female", "Nữ"),
    "male": Text("Male", "Nam"),
    "other": Text("Other", "Khác"),
}
_ITEM_TYPE = {
    AnswerType.YES_NO_UNKNOWN: "choice",
    AnswerType.CHOICE: "choice",
    AnswerType.DATE: "date",
}


def _translated(text: Text, language: Language) -> dict[str, Any]:
    """The ``_text``/``_display`` element carrying the translations other than ``language``."""
    return {
        "extension": [
            {
                "url": TRANSLATION,
                "extension": [
                    {"url": "lang", "valueCode": other.value},
                    {"url": "content", "valueString": text.in_language(other)},
                ],
            }
            for other in Language
            if other is not language
        ]
    }


def _answer(fact: str) -> str:
    return f"%resource.repeat(item).where(linkId = '{fact}').answer.value"


def _codes(values: frozenset[str]) -> str:
    return " | ".join(f"'{v}'" for v in sorted(values))


def definitely_true(condition: Condition) -> str:
    """FHIRPath that is true when the answers make ``condition`` TRUE."""
    if isinstance(condition, FactIs):
        return f"{_answer(condition.fact)}.where(code in ({_codes(condition.values)})).exists()"
    if isinstance(condition, Not):
        return f"({not_definitely_false(condition.part)}).not()"
    if isinstance(condition, AllOf):
        return " and ".join(f"({definitely_true(p)})" for p in condition.parts)
    if isinstance(condition, AnyOf):
        return " or ".join(f"({definitely_true(p)})" for p in condition.parts)
    raise UnsupportedConditionError(type(condition).__name__)


def not_definitely_false(condition: Condition) -> str:
    """FHIRPath that is true unless the answers make ``condition`` FALSE (Kleene logic)."""
    if isinstance(condition, FactIs):
        answer = _answer(condition.fact)
        return (
            f"{answer}.exists().not() or "
            f"{answer}.where(code = 'unknown' or code in ({_codes(condition.values)})).exists()"
        )
    if isinstance(condition, Not):
        return f"({definitely_true(condition.part)}).not()"
    if isinstance(condition, AllOf):
        return " and ".join(f"({not_definitely_false(p)})" for p in condition.parts)
    if isinstance(condition, AnyOf):
        return " or ".join(f"({not_definitely_false(p)})" for p in condition.parts)
    raise UnsupportedConditionError(type(condition).__name__)


def _coding(code: str, text: Text, language: Language) -> dict[str, Any]:
    return {"system": ANSWER_SYSTEM, "code": code, "display": text.in_language(language),
            "_display": _translated(text, language)}  # fmt: skip


def _enable_when(condition: Condition) -> list[dict[str, Any]] | None:
    """Plain enableWhen items for a single test, or None when only the expression can say it."""
    negated = isinstance(condition, Not)
    test = condition.part if isinstance(condition, Not) else condition
    if not isinstance(test, FactIs) or (negated and len(test.values) != 1):
        return None
    unanswered = {"question": test.fact, "operator": "exists", "answerBoolean": False}
    if negated:
        (value,) = test.values
        return [unanswered, {"question": test.fact, "operator": "!=",
                             "answerCoding": {"system": ANSWER_SYSTEM, "code": value}}]  # fmt: skip
    return [unanswered] + [
        {"question": test.fact, "operator": "=",
         "answerCoding": {"system": ANSWER_SYSTEM, "code": value}}
        for value in sorted({*test.values, "unknown"})
    ]  # fmt: skip


def _shown_expression(question: Question, gated: dict[str, Question], cache: dict[str, str]) -> str:
    """FHIRPath true when ``question`` is shown: its own condition is not definitely false and
    every gated question its condition reads is shown too."""
    if question.id in cache:
        return cache[question.id]
    condition = question.applies_when
    parts: list[str] = []
    if condition is not None:
        # Shown whatever the answers when it has no FHIRPath form: asking too much is safe.
        with suppress(UnsupportedConditionError):
            parts.append(not_definitely_false(condition))
        for fact in sorted(condition.facts()):
            if fact in gated:
                parts.append(_shown_expression(gated[fact], gated, cache))
    expression = " and ".join(f"({p})" for p in parts) if parts else "true"
    cache[question.id] = expression
    return expression


def _enable_logic(
    question: Question, gated: dict[str, Question], cache: dict[str, str]
) -> dict[str, Any]:
    """The item elements that say when ``question`` is shown: enableWhen or the expression."""
    condition = question.applies_when
    if condition is None:
        return {}
    plain = _enable_when(condition)
    if plain is not None and condition.facts().isdisjoint(gated):
        return {"enableWhen": plain, "enableBehavior": "any"}
    expression = _shown_expression(question, gated, cache)
    if expression == "true":
        return {}
    return {
        "extension": [
            {
                "url": ENABLE_WHEN_EXPRESSION,
                "valueExpression": {"language": "text/fhirpath", "expression": expression},
            }
        ]
    }


def _item(
    question: Question,
    language: Language,
    gated: dict[str, Question],
    cache: dict[str, str],
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": question.id,
        "code": [{"system": QUESTION_SYSTEM, "code": question.id}],
        "text": question.text.in_language(language),
        "_text": _translated(question.text, language),
        "type": _ITEM_TYPE.get(question.answer_type, "string"),
        "required": question.required,
    }
    if question.answer_type is AnswerType.YES_NO_UNKNOWN:
        item["answerOption"] = [
            {"valueCoding": _coding(c, t, language)} for c, t in YES_NO_UNKNOWN.items()
        ]
    elif question.answer_type is AnswerType.CHOICE:
        texts = {**CHOICE_TEXTS, "unknown": YES_NO_UNKNOWN["unknown"]}
        item["answerOption"] = [
            {"valueCoding": _coding(c, texts.get(c, Text(c, c)), language)}
            for c in (*question.choices, "unknown")
        ]
    elif question.answer_type is AnswerType.TEXT_LIST:
        item["repeats"] = True
    item.update(_enable_logic(question, gated, cache))
    return item


TITLE = Text(
    "Scalp mesotherapy for hair loss: pre-treatment questions",
    "Tiêm meso da đầu điều trị rụng tóc: câu hỏi trước điều trị",
)


def questionnaire(kb: KnowledgeBase, language: Language = Language.EN) -> dict[str, Any]:
    """The SDC Questionnaire of the knowledge base's intake questions, in ``language``."""
    gated = {q.id: q for q in kb.questions if q.applies_when is not None}
    cache: dict[str, str] = {}
    return {
        "resourceType": "Questionnaire",
        "id": "scalp-mesotherapy-intake",
        "meta": {
            "profile": ["http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-behave"]
        },
        "url": QUESTIONNAIRE_URL,
        "version": kb.version,
        "name": "ScalpMesotherapyIntake",
        "title": TITLE.in_language(language),
        "_title": _translated(TITLE, language),
        "status": "active",
        "language": language.value,
        "subjectType": ["Patient"],
        "item": [_item(q, language, gated, cache) for q in kb.questions],
    }
