"""Three-valued evaluation of rule conditions."""

from __future__ import annotations

from datetime import date

import pytest

from mesoscreen.domain.conditions import AllOf, AnyOf, FactIs, MonthsSince, Not, Truth

ON = date(2026, 11, 25)
YES = FactIs("a", frozenset({"yes"}))
B_YES = FactIs("b", frozenset({"yes"}))


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"a": "yes"}, Truth.TRUE),
        ({"a": "no"}, Truth.FALSE),
        ({"a": "unknown"}, Truth.UNKNOWN),
        ({}, Truth.UNKNOWN),
    ],
)
def test_a_fact_test_is_unknown_when_the_fact_is_missing_or_unknown(
    facts: dict[str, str], expected: Truth
) -> None:
    """Missing and 'unknown' are never read as 'no'."""
    assert YES.evaluate(facts, ON) is expected


@pytest.mark.parametrize(
    ("a", "b", "all_", "any_"),
    [
        ("yes", "yes", Truth.TRUE, Truth.TRUE),
        ("yes", "no", Truth.FALSE, Truth.TRUE),
        ("no", "unknown", Truth.FALSE, Truth.UNKNOWN),
        ("yes", "unknown", Truth.UNKNOWN, Truth.TRUE),
        ("unknown", "unknown", Truth.UNKNOWN, Truth.UNKNOWN),
        ("no", "no", Truth.FALSE, Truth.FALSE),
    ],
)
def test_all_and_any_follow_kleene_logic(a: str, b: str, all_: Truth, any_: Truth) -> None:
    """FALSE decides 'all', TRUE decides 'any'; otherwise an unknown part keeps it unknown."""
    facts = {"a": a, "b": b}
    assert AllOf((YES, B_YES)).evaluate(facts, ON) is all_
    assert AnyOf((YES, B_YES)).evaluate(facts, ON) is any_


def test_not_keeps_unknown_unknown() -> None:
    """Negating an unknown does not make it known."""
    assert Not(YES).evaluate({}, ON) is Truth.UNKNOWN
    assert Not(YES).evaluate({"a": "no"}, ON) is Truth.TRUE


def test_months_since_window_includes_its_lower_bound_and_excludes_its_upper() -> None:
    """At least 3 and less than 6 months: in on the 3-month day, out on the 6-month day."""
    window = MonthsSince("d", less_than=6, at_least=3)
    start = date(2026, 5, 25)
    assert window.evaluate({"d": start}, date(2026, 8, 24)) is Truth.FALSE
    assert window.evaluate({"d": start}, date(2026, 8, 25)) is Truth.TRUE
    assert window.evaluate({"d": start}, date(2026, 11, 24)) is Truth.TRUE
    assert window.evaluate({"d": start}, date(2026, 11, 25)) is Truth.FALSE


def test_months_since_an_unknown_date_is_unknown() -> None:
    """Without the date the window cannot be decided."""
    assert MonthsSince("d", less_than=3).evaluate({"d": "unknown"}, ON) is Truth.UNKNOWN


def test_conditions_report_the_facts_they_read() -> None:
    """Composite conditions read the union of their parts' facts."""
    condition = AllOf((YES, Not(AnyOf((B_YES, MonthsSince("d", at_least=1))))))
    assert condition.facts() == frozenset({"a", "b", "d"})
