"""The intake questionnaire as a form, generated from the knowledge base, and its answers back.

Every question of the knowledge base becomes a field: yes / no / not known, a choice, a date
or a list. A question that applies only sometimes carries its condition for the page script,
which hides (and disables) it when the condition is definitely false. The server keeps every
answer the browser sent: applicability is the engine's, as for the API, the CLI and bulk, and
an answer to a question that does not apply is used or reported there, never dropped here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

import orjson

from mesoscreen.domain.conditions import AllOf, AnyOf, Condition, FactIs, Not
from mesoscreen.domain.knowledge_base import AnswerType, KnowledgeBase
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.i18n import Messages, message_or

YES_NO_UNKNOWN = ("yes", "no", "unknown")


def condition_json(condition: Condition) -> dict[str, Any] | None:
    """The applicability condition for the page script; None when it cannot be expressed
    (the question is then always shown: asking too much is safe, hiding a question is not)."""
    if isinstance(condition, FactIs):
        return {"fact": condition.fact, "is": sorted(condition.values)}
    if isinstance(condition, Not):
        inner = condition_json(condition.part)
        return None if inner is None else {"not": inner}
    if isinstance(condition, AllOf | AnyOf):
        parts = [condition_json(p) for p in condition.parts]
        if any(p is None for p in parts):
            return None
        return {"all" if isinstance(condition, AllOf) else "any": parts}
    return None


def intake_from_form(form: Mapping[str, str], kb: KnowledgeBase) -> dict[str, object]:
    """Answers from the posted form, every one of them (issue 17: no answer is ignored).

    Fields that are not questions of the knowledge base are not answers; an empty field is
    an unanswered question.
    """
    answers: dict[str, object] = {}
    for question in kb.questions:
        value = form.get(question.id, "").strip()
        if not value:
            continue
        if question.answer_type is AnswerType.TEXT_LIST:
            answers[question.id] = [line.strip() for line in value.splitlines() if line.strip()]
        else:
            answers[question.id] = value
    return answers


@dataclass(frozen=True, slots=True)
class QuestionField:
    """One question as the form shows it."""

    id: str
    text: str
    help: str | None
    kind: str
    options: tuple[tuple[str, str], ...]
    value: str | None
    applies: str | None  # the condition as JSON for the page script
    required: bool
    past_date: bool  # a date of a past event: the form refuses later dates


@dataclass(frozen=True, slots=True)
class Section:
    """The questions of one section of the knowledge base, in its order."""

    id: str
    questions: tuple[QuestionField, ...]


def _shown(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "\n".join(map(str, value))
    return value.isoformat() if isinstance(value, date) else str(value)


def questionnaire(
    kb: KnowledgeBase, language: Language, words: Messages, given: Mapping[str, object]
) -> list[Section]:
    """The form's sections in ``language`` with the answers ``given`` filled in."""
    fields = []
    for question in kb.questions:
        if question.answer_type is AnswerType.CHOICE:
            options = tuple((c, message_or(words, c, c)) for c in question.choices)
        else:
            options = tuple((v, str(words[v])) for v in YES_NO_UNKNOWN)
        applies = condition_json(question.applies_when) if question.applies_when else None
        fields.append(
            (
                question.section,
                QuestionField(
                    id=question.id,
                    text=question.text.in_language(language),
                    help=question.help.in_language(language) if question.help else None,
                    kind=question.answer_type.value,
                    options=options,
                    value=_shown(given.get(question.id)),
                    applies=orjson.dumps(applies).decode() if applies else None,
                    required=question.required,
                    past_date=question.past_date,
                ),
            )
        )
    return [
        Section(section, tuple(field for _, field in group))
        for section, group in groupby(fields, key=lambda pair: pair[0])
    ]
