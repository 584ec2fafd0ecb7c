"""The system clock: times in UTC, dates in the zone it is given."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from mesoscreen.adapters.clock import SystemClock


class _At(SystemClock):
    """The system clock read at a fixed instant (the zone arithmetic is what is tested)."""

    def __init__(self, instant: datetime, zone: timezone | None) -> None:
        super().__init__(zone)
        self.instant = instant

    def now(self) -> datetime:
        return self.instant


def test_now_is_timezone_aware_utc() -> None:
    """A timestamp for the audit trail never depends on the machine's zone."""
    now = SystemClock().now()
    assert now.tzinfo is UTC


@pytest.mark.parametrize(
    ("zone", "expected"),
    [(UTC, date(2026, 11, 25)), (timezone(timedelta(hours=7)), date(2026, 11, 26))],
)
def test_today_is_the_date_in_the_clocks_zone(zone: timezone, expected: date) -> None:
    """At 20:00 UTC it is already tomorrow in Ho Chi Minh City (UTC+7)."""
    assert _At(datetime(2026, 11, 25, 20, 0, tzinfo=UTC), zone).today() == expected


def test_without_a_zone_today_is_the_machines_own_date() -> None:
    """The command line's clock dates as the person at the keyboard does."""
    instant = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    assert _At(instant, None).today() == instant.astimezone().date()
