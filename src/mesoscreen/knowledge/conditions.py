"""Parse the rule condition language of the knowledge files into domain conditions.

Checks as it goes that every fact is a question, that compared values are answers
the question can have, and that date tests read date questions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mesoscreen.domain.conditions import (
    AllOf,
    Answered,
    AnyOf,
    Condition,
    DateBefore,
    FactIs,
    MonthsSince,
    Named,
    Not,
    Possibly,
)
from mesoscreen.domain.errors import ConditionSyntaxError as ConditionSyntaxError
from mesoscreen.domain.knowledge_base import AnswerType

_YES_NO_UNKNOWN = ("yes", "no")


def _answer(value: Any) -> str:
    """A compared value as a string; YAML 1.1 booleans back to yes/no."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if not isinstance(value, str):
        raise ConditionSyntaxError(f"compared value must be a string (got {value!r})")
    return value


class ConditionParser:
    """Parses conditions against the question types of one knowledge base."""

    def __init__(self, question_types: Mapping[str, tuple[AnswerType, tuple[str, ...]]]) -> None:
        self._types = question_types

    def parse(self, node: Any) -> Condition:
        """The condition ``node`` describes; ConditionSyntaxError if it is malformed."""
        if not isinstance(node, Mapping):
            raise ConditionSyntaxError(f"a condition must be a mapping (got {node!r})")
        parsers: dict[str, Callable[[Mapping[str, Any]], Condition]] = {
            "fact": self._fact,
            "months_since": self._months_since,
            "all": self._all,
            "any": self._any,
            "not": self._not,
            "possibly": self._possibly,
            "named": self._named,
            "answered": self._answered,
            "date": self._date_before,
        }
        heads = [key for key in parsers if key in node]
        if len(heads) != 1:
            raise ConditionSyntaxError(
                f"a condition needs exactly one of {', '.join(parsers)} (got keys {sorted(node)})"
            )
        return parsers[heads[0]](node)

    def _question(self, fact: Any) -> tuple[AnswerType, tuple[str, ...]]:
        """The type of the question behind ``fact``."""
        if not isinstance(fact, str) or fact not in self._types:
            raise ConditionSyntaxError(f"unknown fact {fact!r}: it is not an intake question")
        return self._types[fact]

    def _fact(self, node: Mapping[str, Any]) -> Condition:
        """``{fact: F, is: V}`` or ``{fact: F, in: [V, ...]}``."""
        extra = set(node) - {"fact", "is", "in"}
        if extra or ("is" in node) == ("in" in node):
            raise ConditionSyntaxError(
                f"a fact test is {{fact, is}} or {{fact, in}} (got keys {sorted(node)})"
            )
        answer_type, choices = self._question(node["fact"])
        raw = [node["is"]] if "is" in node else node["in"]
        if not isinstance(raw, list) or not raw:
            raise ConditionSyntaxError("'in' must be a non-empty list")
        values = [_answer(v) for v in raw]
        if answer_type is AnswerType.YES_NO_UNKNOWN:
            allowed: tuple[str, ...] = _YES_NO_UNKNOWN
        elif answer_type is AnswerType.CHOICE:
            allowed = choices
        else:
            raise ConditionSyntaxError(
                f"fact {node['fact']!r} is a {answer_type.value} question; "
                "only yes/no and choice questions can be compared"
            )
        for value in values:
            if value not in allowed:
                raise ConditionSyntaxError(
                    f"fact {node['fact']!r} cannot be {value!r} (expected one of "
                    f"{', '.join(allowed)}; 'unknown' is never a rule's trigger)"
                )
        return FactIs(fact=node["fact"], values=frozenset(values))

    def _months_since(self, node: Mapping[str, Any]) -> Condition:
        """``{months_since: F, less_than: N, at_least: M}``."""
        extra = set(node) - {"months_since", "less_than", "at_least"}
        if extra:
            raise ConditionSyntaxError(f"unexpected keys in a date test: {sorted(extra)}")
        fact = node["months_since"]
        answer_type, _ = self._question(fact)
        if answer_type is not AnswerType.DATE:
            raise ConditionSyntaxError(f"months_since needs a date question ({fact!r} is not one)")
        less_than, at_least = node.get("less_than"), node.get("at_least")
        if less_than is None and at_least is None:
            raise ConditionSyntaxError("a date test needs less_than, at_least or both")
        for name, bound in (("less_than", less_than), ("at_least", at_least)):
            if bound is not None and (
                not isinstance(bound, int) or isinstance(bound, bool) or bound < 0
            ):
                raise ConditionSyntaxError(
                    f"{name} must be a whole number of months >= 0 (got {bound!r})"
                )
        if less_than is not None and at_least is not None and at_least >= less_than:
            raise ConditionSyntaxError(
                f"at_least ({at_least}) must be below less_than ({less_than})"
            )
        return MonthsSince(fact=fact, less_than=less_than, at_least=at_least)

    def _parts(self, node: Mapping[str, Any], key: str) -> tuple[Condition, ...]:
        """The parsed parts of an ``all``/``any``."""
        parts = node[key]
        if set(node) != {key} or not isinstance(parts, list) or not parts:
            raise ConditionSyntaxError(f"'{key}' takes a non-empty list and nothing else")
        return tuple(self.parse(part) for part in parts)

    def _all(self, node: Mapping[str, Any]) -> Condition:
        """``{all: [...]}``."""
        return AllOf(self._parts(node, "all"))

    def _any(self, node: Mapping[str, Any]) -> Condition:
        """``{any: [...]}``."""
        return AnyOf(self._parts(node, "any"))

    def _not(self, node: Mapping[str, Any]) -> Condition:
        """``{not: ...}``."""
        if set(node) != {"not"}:
            raise ConditionSyntaxError("'not' takes one condition and nothing else")
        return Not(self.parse(node["not"]))

    def _possibly(self, node: Mapping[str, Any]) -> Condition:
        """``{possibly: ...}``: an unknown counts as the risk."""
        if set(node) != {"possibly"}:
            raise ConditionSyntaxError("'possibly' takes one condition and nothing else")
        return Possibly(self.parse(node["possibly"]))

    def _named(self, node: Mapping[str, Any]) -> Condition:
        """``{named: F}``: the list question F names at least one item."""
        if set(node) != {"named"}:
            raise ConditionSyntaxError("'named' takes one list question and nothing else")
        answer_type, _ = self._question(node["named"])
        if answer_type is not AnswerType.TEXT_LIST:
            raise ConditionSyntaxError(f"named needs a text_list question (got {node['named']!r})")
        return Named(node["named"])

    def _answered(self, node: Mapping[str, Any]) -> Condition:
        """``{answered: F}``: the intake gives F (consistency checks only)."""
        if set(node) != {"answered"}:
            raise ConditionSyntaxError("'answered' takes one question and nothing else")
        self._question(node["answered"])
        return Answered(node["answered"])

    def _date_before(self, node: Mapping[str, Any]) -> Condition:
        """``{date: F, before: G}``: the date F lies before the date G."""
        if set(node) != {"date", "before"}:
            raise ConditionSyntaxError(
                f"a date order test is {{date, before}} (got {sorted(node)})"
            )
        for fact in (node["date"], node["before"]):
            answer_type, _ = self._question(fact)
            if answer_type is not AnswerType.DATE:
                raise ConditionSyntaxError(f"{fact!r} is not a date question")
        return DateBefore(node["date"], node["before"])
