"""Reading a record's dates: a day's text read the quick way is the day read the general way."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from mesoscreen.adapters.fhir import record_dates
from mesoscreen.adapters.fhir.record_dates import Span, latest_day, span_of

# Texts shaped like a day ('YYYY-MM-DD'), with characters that int() takes and an ISO date
# does not (a sign, a space, an underscore, other scripts' digits) and a week date's 'W'.
_DAY_SHAPED = st.from_regex(
    r"[0-9+ _\u0663\uff12]{4}-[0-9+ _W\u0663]{2}-[0-9+ _\uff12]{2}", fullmatch=True
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=45) | st.from_regex(r"\d{4}(-\d{2}(-\d{2}(T.*)?)?)?", fullmatch=True))
def test_a_day_read_twice_is_the_day_read_once(text: str) -> None:
    """The memo of days gives what reading the text gives, the first time and after."""
    expected = record_dates._read_day(text)
    assert latest_day(text) == expected
    assert latest_day(text) == expected


@settings(max_examples=500, deadline=None)
@given(_DAY_SHAPED | st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True))
def test_a_text_shaped_like_a_day_is_read_as_the_general_reading_reads_it(text: str) -> None:
    """Every ten-character text with dashes where a day has them, a real day or not, is
    the day the general reading gives (or None with it)."""
    assert latest_day(text) == record_dates._read_day(text)


@given(st.dates())
def test_a_day_is_that_day(day: date) -> None:
    assert latest_day(day.isoformat()) == day
    assert span_of({"onsetDateTime": day.isoformat()}, "onset") == Span(day, day, True)


def test_a_day_is_read_without_the_memo_which_keeps_the_longer_forms() -> None:
    """A plain day costs no more to read than to look up, so it does not take a place in the
    bounded memo that dateTimes and partial dates repeat through."""
    record_dates._known_day.cache_clear()
    assert latest_day("2024-02-29") == date(2024, 2, 29)
    assert latest_day("2023-02-29") is None
    assert latest_day("+024-01-01") == date(24, 1, 1)  # int() takes the sign
    assert latest_day("2021-W01-1") is None  # a week date (fromisoformat would take it)
    assert record_dates._known_day.cache_info().currsize == 3  # the three read the general way
    assert latest_day("2024-02-29T10:00:00+01:00") == date(2024, 2, 29)
    assert latest_day("2024-02") == date(2024, 2, 29)
    assert record_dates._known_day.cache_info().currsize == 5
