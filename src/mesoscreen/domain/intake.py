"""The intake: a patient's answers, checked against the knowledge base's questions.

Answers are ``"yes"``, ``"no"`` or ``"unknown"``; dates are ISO ``YYYY-MM-DD``;
``null`` and a missing key both mean unknown. Unknown keys and values of the
wrong form are refused with an ``IntakeError`` naming the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from mesoscreen.domain.conditions import UNKNOWN_VALUE, FactValue
from mesoscreen.domain.errors import IntakeError
from mesoscreen.domain.knowledge_base import AnswerType, Question
from mesoscreen.domain.reasons import Reason, problem

MAX_LIST_ITEMS = 50
MAX_TEXT_LENGTH = 200
_YES_NO_UNKNOWN = ("yes", "no", "unknown")


@dataclass(frozen=True, slots=True)
class Intake:
    """Validated answers keyed by question id; absent keys are unknown."""

    facts: Mapping[str, FactValue]

    def as_dict(self) -> dict[str, object]:
        """JSON form: dates as ISO strings, lists as lists."""
        out: dict[str, object] = {}
        for key, value in self.facts.items():
            if isinstance(value, date):
                out[key] = value.isoformat()
            elif isinstance(value, tuple):
                out[key] = list(value)
            else:
                out[key] = value
        return out


def _describe(value: object) -> str:
    """``'x' that is a <str>``-style description of a received value, for error messages."""
    return f"{value!r} that is a <{type(value).__name__}>"


def _parse_answer(question: Question, value: object) -> FactValue:
    """One answer checked against its question's type."""
    if value is None:
        return UNKNOWN_VALUE
    kind = question.answer_type
    if kind is AnswerType.YES_NO_UNKNOWN:
        if isinstance(value, str) and value in _YES_NO_UNKNOWN:
            return value
        raise IntakeError(
            question.id,
            f"must be 'yes', 'no' or 'unknown' (got {_describe(value)})",
            problems=problem(Reason.NOT_A_CHOICE, question.id),
        )
    if kind is AnswerType.CHOICE:
        allowed = (*question.choices, UNKNOWN_VALUE)
        if isinstance(value, str) and value in allowed:
            return value
        raise IntakeError(
            question.id,
            f"must be one of {', '.join(allowed)} (got {_describe(value)})",
            problems=problem(Reason.NOT_A_CHOICE, question.id),
        )
    if kind is AnswerType.DATE:
        if value == UNKNOWN_VALUE:
            return UNKNOWN_VALUE
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise IntakeError(
            question.id,
            f"must be an ISO date YYYY-MM-DD or 'unknown' (got {_describe(value)})",
            problems=problem(Reason.NOT_A_DATE, question.id),
        )
    return _parse_text_list(question, value)


def _parse_text_list(question: Question, value: object) -> FactValue:
    """A list of short non-empty strings, or ``unknown``."""
    if value == UNKNOWN_VALUE:
        return UNKNOWN_VALUE
    if not isinstance(value, list):
        raise IntakeError(
            question.id, f"must be a list of strings or 'unknown' (got {_describe(value)})"
        )
    if len(value) > MAX_LIST_ITEMS:
        raise IntakeError(
            question.id,
            f"must have at most {MAX_LIST_ITEMS} items (got {len(value)})",
            problems=problem(
                Reason.TOO_MANY_ITEMS, question.id, most=MAX_LIST_ITEMS, got=len(value)
            ),
        )
    items: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise IntakeError(
                f"{question.id}[{index}]", f"must be a non-empty string (got {_describe(item)})"
            )
        if len(item) > MAX_TEXT_LENGTH:
            raise IntakeError(
                f"{question.id}[{index}]",
                f"must be at most {MAX_TEXT_LENGTH} characters (got {len(item)})",
                problems=problem(Reason.TOO_LONG, question.id, most=MAX_TEXT_LENGTH, got=len(item)),
            )
        items.append(item.strip())
    return tuple(items)


class IntakeSchema:
    """The questions of one knowledge base, indexed once for checking many intakes."""

    def __init__(self, questions: Iterable[Question]) -> None:
        self._by_id = {q.id: q for q in questions}
        self._expected = ", ".join(sorted(self._by_id))

    def parse(self, raw: Mapping[str, object], on: date) -> Intake:
        """Check ``raw`` answers on the screening date ``on``.

        Raises IntakeError naming the first key that is unknown or of a bad value.
        Dates of past events may not lie after ``on``.
        """
        by_id = self._by_id
        facts: dict[str, FactValue] = {}
        for key, value in raw.items():
            question = by_id.get(key) if isinstance(key, str) else None
            if question is None:
                raise IntakeError(
                    str(key), f"is not an intake question (expected one of: {self._expected})"
                )
            if (
                question.answer_type is AnswerType.YES_NO_UNKNOWN
                and isinstance(value, str)
                and value in _YES_NO_UNKNOWN
            ):
                facts[key] = value  # the common case, without the general checks
                continue
            facts[key] = _checked(question, value, on)
        return Intake(facts=MappingProxyType(facts))

    def answers(self, key: str, value: object, on: date) -> bool:
        """Whether ``value`` answers the question ``key`` on the screening date ``on``: it
        is taken (``parse`` would not refuse it) and is not unknown."""
        question = self._by_id.get(key)
        if question is None:
            return False
        try:
            return _checked(question, value, on) != UNKNOWN_VALUE
        except IntakeError:
            return False


def _checked(question: Question, value: object, on: date) -> FactValue:
    """``value`` checked as the answer to ``question`` on the screening date ``on``."""
    parsed = _parse_answer(question, value)
    if question.past_date and isinstance(parsed, date) and parsed > on:
        raise IntakeError(
            question.id,
            f"must not be after the screening date {on.isoformat()} (got {parsed.isoformat()})",
            problems=problem(Reason.AFTER_SCREENING_DATE, question.id, got=parsed, screening=on),
        )
    return parsed


def parse_intake(raw: Mapping[str, object], questions: Iterable[Question], on: date) -> Intake:
    """Check ``raw`` answers against ``questions`` on ``on`` (see ``IntakeSchema.parse``)."""
    return IntakeSchema(questions).parse(raw, on)
