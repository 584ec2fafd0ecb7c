"""Answers as a key: equal keys only for equal answers, and a key for every text and list of
texts (the memos of decisions look there first)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mesoscreen.services.answer_keys import answers_key


class Text(str):
    """A text of another type: its answer is not kept by its value."""


class Listed(list[str]):
    """A list of another type: not kept either."""


TEXTS = st.sampled_from(["yes", "no", "unknown", "female", "2001-02-03", "lidocaine", ""])
VALUES = st.one_of(
    TEXTS,
    st.lists(TEXTS, max_size=3),
    st.tuples(TEXTS),  # a tuple is never taken for the list it equals in a key
    st.lists(st.one_of(TEXTS, st.none(), st.integers(0, 2)), min_size=1, max_size=2),
    st.none(),
    st.booleans(),
    st.integers(0, 2),
    TEXTS.map(Text),
    st.lists(TEXTS.map(Text), min_size=1, max_size=2),
    st.lists(TEXTS, max_size=2).map(Listed),
    st.dictionaries(TEXTS, TEXTS, max_size=1),
)
ANSWERS = st.dictionaries(st.sampled_from(["sex", "allergens", "pregnant", "birth_date"]), VALUES)


def _kept(value: Any) -> bool:
    return type(value) is str or (type(value) is list and all(type(item) is str for item in value))


@given(ANSWERS, ANSWERS)
def test_equal_keys_are_equal_answers_of_the_same_types(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    key = answers_key(first)
    if key is not None and key == answers_key(second):
        assert first == second
        assert [type(v) for v in first.values()] == [type(v) for v in second.values()]


@given(ANSWERS)
def test_answers_have_a_key_exactly_when_each_is_a_text_or_a_list_of_texts(
    answers: dict[str, Any],
) -> None:
    key = answers_key(answers)
    assert (key is not None) == all(_kept(value) for value in answers.values())
    if key is not None:
        assert answers_key(dict(answers)) == key  # the same answers again: the same key


def test_a_list_of_texts_is_kept_as_a_tuple_and_the_order_of_answers_counts() -> None:
    answers = {"sex": "male", "allergens": ["lidocaine", "EGF"]}
    assert answers_key(answers) == (("sex", "male"), ("allergens", ("lidocaine", "EGF")))
    assert answers_key({"allergens": ["EGF", "lidocaine"], "sex": "male"}) != answers_key(answers)
    assert answers_key({"sex": "male", "allergens": ["EGF", "lidocaine"]}) != answers_key(answers)
    assert answers_key({"sex": "male", "allergens": ("lidocaine", "EGF")}) is None
    assert answers_key({"allergens": ["lidocaine", None]}) is None
    assert answers_key({}) == ()
