"""Text a database can store, and paging positions: one rule for every edge."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mesoscreen.domain.errors import InputError, UnstorableValueError
from mesoscreen.domain.text import (
    MAX_PAGE_POSITION,
    require_page_position,
    require_storable,
    require_storable_values,
    unstorable_reason,
)
from tests.strategies import page_positions, storable_text, unstorable_text


def _encodable_without_nul(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@given(st.one_of(st.text(), storable_text(), unstorable_text()))
def test_text_is_storable_exactly_when_it_has_a_utf8_form_and_no_nul(text: str) -> None:
    """The rule is what PostgreSQL and SQLite accept: UTF-8 without NUL."""
    assert (unstorable_reason(text) is None) == _encodable_without_nul(text)


@given(unstorable_text())
def test_unstorable_text_is_refused_naming_the_field_never_quoting_it(text: str) -> None:
    """The error names the field and the fault, and is an input error (422 at the edges)."""
    with pytest.raises(UnstorableValueError) as refused:
        require_storable(text, "family_name")
    assert refused.value.field == "family_name"
    assert str(refused.value).startswith("'family_name': ")
    assert isinstance(refused.value, InputError)
    assert refused.value.code == "unstorable_value"


@given(storable_text())
def test_storable_text_passes_unchanged(text: str) -> None:
    """Nothing is stripped or rewritten: the check only refuses."""
    assert require_storable(text, "note") is text


def test_nested_values_name_the_first_bad_field_by_its_path() -> None:
    """Dict keys and list positions make the path; a bad key names its object."""
    body = {"answers": {"sex": "female", "allergens": ["peanuts", "lido\x00caine"]}}
    with pytest.raises(UnstorableValueError) as refused:
        require_storable_values(body)
    assert refused.value.field == "answers.allergens[1]"
    with pytest.raises(UnstorableValueError) as refused:
        require_storable_values({"answers": {"s\ud800x": "female"}})
    assert refused.value.field == "answers"
    assert "a key" in refused.value.problem
    require_storable_values({"answers": {"sex": "female", "n": [1, 2.5, None, True]}})


@given(page_positions())
def test_a_page_position_is_accepted_exactly_from_0_to_2_31_minus_1(value: int) -> None:
    """Inside the range it passes unchanged; outside it is refused naming the parameter."""
    if 0 <= value <= MAX_PAGE_POSITION:
        assert require_page_position(value, "offset") == value
    else:
        with pytest.raises(UnstorableValueError) as refused:
            require_page_position(value, "offset")
        assert refused.value.field == "offset"
        assert len(str(refused.value)) < 120
