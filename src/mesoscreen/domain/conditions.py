"""Conditions over intake facts, evaluated in three-valued (Kleene) logic.

A condition is TRUE, FALSE or UNKNOWN. A fact that is missing or answered
``unknown`` makes a comparison UNKNOWN, never FALSE: what the intake does not say
is not a 'no'. ``all`` is FALSE as soon as one part is FALSE, ``any`` is TRUE as
soon as one part is TRUE; otherwise an UNKNOWN part makes the whole UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Protocol

from mesoscreen.domain.dates import add_months

# A fact's value after intake validation: an answer or choice string, a date, or a list of strings.
FactValue = str | date | tuple[str, ...]
Facts = Mapping[str, FactValue]

UNKNOWN_VALUE = "unknown"


class Truth(Enum):
    """A three-valued truth value."""

    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"


def is_known(value: FactValue | None) -> bool:
    """Whether a fact value says something: present and not ``unknown``."""
    return value is not None and value != UNKNOWN_VALUE


class Condition(Protocol):
    """A predicate over facts on a screening date."""

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """Three-valued truth of the condition for ``facts`` on the date ``on``."""
        ...

    def facts(self) -> frozenset[str]:
        """Ids of every fact the condition reads."""
        ...


@dataclass(frozen=True, slots=True)
class FactIs:
    """TRUE when the fact equals one of ``values`` (``yes``, ``female``, ...)."""

    fact: str
    values: frozenset[str]

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """Compare the fact with the accepted values; UNKNOWN if the fact is not known."""
        value = facts.get(self.fact)
        if value is None or value == UNKNOWN_VALUE:
            return Truth.UNKNOWN
        return Truth.TRUE if value in self.values else Truth.FALSE

    def facts(self) -> frozenset[str]:
        """The one fact compared."""
        return frozenset((self.fact,))


@dataclass(frozen=True, slots=True)
class MonthsSince:
    """Compares the calendar months from a date fact to the screening date with a bound.

    ``less_than=3`` is TRUE while fewer than 3 months have passed (``on`` before
    the date + 3 months); ``at_least=3`` is TRUE from that date on. Both bounds may
    be given, making a window.
    """

    fact: str
    less_than: int | None = None
    at_least: int | None = None

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """Check the window; UNKNOWN when the date fact is not known."""
        value = facts.get(self.fact)
        if not isinstance(value, date):
            return Truth.UNKNOWN
        if self.at_least is not None and on < add_months(value, self.at_least):
            return Truth.FALSE
        if self.less_than is not None and on >= add_months(value, self.less_than):
            return Truth.FALSE
        return Truth.TRUE

    def facts(self) -> frozenset[str]:
        """The one date fact read."""
        return frozenset((self.fact,))


@dataclass(frozen=True, slots=True)
class AllOf:
    """Kleene conjunction of its parts."""

    parts: tuple[Condition, ...]

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """FALSE if any part is FALSE, TRUE if all are TRUE, else UNKNOWN."""
        result = Truth.TRUE
        for part in self.parts:
            truth = part.evaluate(facts, on)
            if truth is Truth.FALSE:
                return Truth.FALSE
            if truth is Truth.UNKNOWN:
                result = Truth.UNKNOWN
        return result

    def facts(self) -> frozenset[str]:
        """Every fact read by any part."""
        return frozenset().union(*(part.facts() for part in self.parts))


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Kleene disjunction of its parts."""

    parts: tuple[Condition, ...]

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """TRUE if any part is TRUE, FALSE if all are FALSE, else UNKNOWN."""
        result = Truth.FALSE
        for part in self.parts:
            truth = part.evaluate(facts, on)
            if truth is Truth.TRUE:
                return Truth.TRUE
            if truth is Truth.UNKNOWN:
                result = Truth.UNKNOWN
        return result

    def facts(self) -> frozenset[str]:
        """Every fact read by any part."""
        return frozenset().union(*(part.facts() for part in self.parts))


@dataclass(frozen=True, slots=True)
class Not:
    """Kleene negation: UNKNOWN stays UNKNOWN."""

    part: Condition

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """Swap TRUE and FALSE."""
        truth = self.part.evaluate(facts, on)
        if truth is Truth.TRUE:
            return Truth.FALSE
        if truth is Truth.FALSE:
            return Truth.TRUE
        return Truth.UNKNOWN

    def facts(self) -> frozenset[str]:
        """The facts of the negated part."""
        return self.part.facts()


@dataclass(frozen=True, slots=True)
class Possibly:
    """TRUE unless its part is definitely FALSE: an unknown counts as the risk.

    For the few rules whose source treats "may" as "is" (a woman who may become pregnant);
    knowing more can make it FALSE, so it is the one non-monotone test (ADR 0011).
    """

    part: Condition

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """FALSE only when the part is FALSE."""
        return Truth.FALSE if self.part.evaluate(facts, on) is Truth.FALSE else Truth.TRUE

    def facts(self) -> frozenset[str]:
        """The facts of the part."""
        return self.part.facts()


@dataclass(frozen=True, slots=True)
class Named:
    """TRUE when a list answer names at least one item, FALSE for an empty list."""

    fact: str

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """UNKNOWN when the list is not known."""
        value = facts.get(self.fact)
        if not isinstance(value, tuple):
            return Truth.UNKNOWN
        return Truth.TRUE if value else Truth.FALSE

    def facts(self) -> frozenset[str]:
        """The one list fact read."""
        return frozenset((self.fact,))


@dataclass(frozen=True, slots=True)
class Answered:
    """TRUE when the fact is known (any answer), FALSE when missing or ``unknown``.

    Used only by consistency checks, which judge the answers as given.
    """

    fact: str

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """Whether the intake gives this fact."""
        return Truth.TRUE if is_known(facts.get(self.fact)) else Truth.FALSE

    def facts(self) -> frozenset[str]:
        """The one fact read."""
        return frozenset((self.fact,))


@dataclass(frozen=True, slots=True)
class DateBefore:
    """TRUE when the date fact ``fact`` lies before the date fact ``other``."""

    fact: str
    other: str

    def evaluate(self, facts: Facts, on: date) -> Truth:
        """UNKNOWN unless both dates are known."""
        first, second = facts.get(self.fact), facts.get(self.other)
        if not isinstance(first, date) or not isinstance(second, date):
            return Truth.UNKNOWN
        return Truth.TRUE if first < second else Truth.FALSE

    def facts(self) -> frozenset[str]:
        """Both date facts."""
        return frozenset((self.fact, self.other))


def month_bounds(condition: Condition) -> dict[str, set[int]]:
    """Every month bound each date fact is compared with (for completing unknown dates)."""
    found: dict[str, set[int]] = {}
    stack: list[object] = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, MonthsSince):
            bounds = found.setdefault(node.fact, set())
            bounds.update(b for b in (node.less_than, node.at_least) if b is not None)
        elif isinstance(node, AllOf | AnyOf):
            stack.extend(node.parts)
        elif isinstance(node, Not | Possibly):
            stack.append(node.part)
    return found


def possibly_facts(condition: Condition) -> frozenset[str]:
    """Facts read under ``Possibly``: their unknown is a state, never completed."""
    found: set[str] = set()
    stack: list[object] = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, Possibly):
            found |= node.facts()
        elif isinstance(node, AllOf | AnyOf):
            stack.extend(node.parts)
        elif isinstance(node, Not):
            stack.append(node.part)
    return frozenset(found)
