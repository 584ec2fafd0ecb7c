"""Calendar arithmetic for deferral dates."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mesoscreen.domain.dates import add_months, months_elapsed_at_least


def test_three_months_after_a_mid_month_date_is_the_same_day() -> None:
    """15 Oct + 3 months is 15 Jan of the next year."""
    assert add_months(date(2026, 10, 15), 3) == date(2027, 1, 15)


def test_month_end_clamps_to_the_last_day_of_a_short_month() -> None:
    """30 Nov + 3 months is 28 Feb in a common year."""
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_month_end_clamps_to_29_february_in_a_leap_year() -> None:
    """30 Nov 2027 + 3 months is 29 Feb 2028."""
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)


def test_29_february_plus_twelve_months_is_28_february() -> None:
    """A leap day one year on falls on 28 February."""
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)


def test_31_august_plus_six_months_is_end_of_february() -> None:
    """Six months after 31 Aug lands on the last day of February."""
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


def test_zero_months_is_the_same_date() -> None:
    """Adding nothing changes nothing."""
    assert add_months(date(2026, 1, 31), 0) == date(2026, 1, 31)


def test_elapsed_is_false_the_day_before_and_true_on_the_day() -> None:
    """The boundary day counts as elapsed; the day before does not."""
    since = date(2026, 8, 25)
    assert not months_elapsed_at_least(since, date(2026, 11, 24), 3)
    assert months_elapsed_at_least(since, date(2026, 11, 25), 3)


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    st.integers(0, 240),
)
def test_adding_months_never_goes_backwards_and_keeps_the_day_or_clamps(
    start: date, months: int
) -> None:
    """The result is on or after the start, in the right month, on the same day or a month end."""
    result = add_months(start, months)
    assert result >= start
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    assert result.day == start.day or (result + timedelta(days=1)).day == 1
