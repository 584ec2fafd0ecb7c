"""Intake validation: unknown keys and bad values are refused with the key named."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mesoscreen.domain.errors import IntakeError
from mesoscreen.domain.intake import IntakeSchema, parse_intake
from mesoscreen.knowledge import default_knowledge_base
from tests.intakes import intake

ON = date(2026, 11, 25)


def _parse(raw: dict[str, Any]) -> Any:
    """Parse against the shipped questions."""
    return parse_intake(raw, default_knowledge_base().questions, ON)


_BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"pregnnt": "yes"}, "pregnnt", "is not an intake question"),
    ({"pregnant": True}, "pregnant", "must be 'yes', 'no' or 'unknown'"),
    ({"pregnant": "Yes"}, "pregnant", "(got 'Yes' that is a <str>)"),
    ({"sex": "f"}, "sex", "must be one of female, male, other, unknown"),
    ({"birth_date": "12/04/1990"}, "birth_date", "ISO date"),
    ({"birth_date": "2030-01-01"}, "birth_date", "must not be after the screening date"),
    ({"weaned_on": "2026-02-30"}, "weaned_on", "ISO date"),
    ({"allergens": "lidocaine"}, "allergens", "must be a list of strings"),
    ({"allergens": ["lidocaine", ""]}, "allergens[1]", "non-empty string"),
    ({"allergens": ["x" * 201]}, "allergens[0]", "at most 200 characters"),
    ({"allergens": ["x"] * 51}, "allergens", "at most 50 items"),
]


@pytest.mark.parametrize(("raw", "field", "fragment"), _BAD)
def test_bad_intakes_are_refused_naming_the_field(
    raw: dict[str, Any], field: str, fragment: str
) -> None:
    """The error names the field and says what was expected and what was received."""
    with pytest.raises(IntakeError) as caught:
        _parse(raw)
    assert caught.value.field == field
    assert fragment in str(caught.value)


@pytest.mark.parametrize("raw", [raw for raw, _, _ in _BAD])
def test_a_single_answer_parse_refuses_is_no_answer(raw: dict[str, Any]) -> None:
    """``IntakeSchema.answers`` says no to every answer ``parse`` refuses."""
    [(key, value)] = raw.items()
    assert not IntakeSchema(default_knowledge_base().questions).answers(key, value, ON)


@pytest.mark.parametrize(
    ("key", "value", "answers"),
    [
        ("birth_date", "1990-04-12", True),
        ("birth_date", ON.isoformat(), True),
        ("birth_date", "unknown", False),
        ("birth_date", None, False),
        ("pregnant", "no", True),
        ("pregnant", "unknown", False),
        ("sex", "female", True),
        ("allergens", ["lidocaine"], True),
        ("allergens", "unknown", False),
    ],
)
def test_an_answer_parse_takes_answers_unless_unknown(key: str, value: Any, answers: bool) -> None:
    """A value ``parse`` takes answers its question unless it means unknown."""
    _parse({key: value})
    assert IntakeSchema(default_knowledge_base().questions).answers(key, value, ON) is answers


def test_null_and_unknown_are_both_unknown() -> None:
    """A null answer is kept as unknown, like a missing key."""
    parsed = _parse({"pregnant": None, "weaned_on": "unknown"})
    assert parsed.facts["pregnant"] == "unknown"
    assert parsed.facts["weaned_on"] == "unknown"


def test_a_valid_intake_keeps_dates_and_lists_typed() -> None:
    """Dates become dates and lists become tuples; the JSON form round-trips."""
    raw = intake(allergy_history="yes", allergens=[" lidocaine "], weaned_on="2026-10-15")
    parsed = _parse(raw)
    assert parsed.facts["weaned_on"] == date(2026, 10, 15)
    assert parsed.facts["allergens"] == ("lidocaine",)
    assert parsed.as_dict()["weaned_on"] == "2026-10-15"
