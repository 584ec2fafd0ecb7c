"""The wall clock: the one place in Mesoscreen that reads the system's date and time.

Everything else asks a ``Clock`` (``services.ports``), so a test can freeze time and a
command, a page and ``mesoscreen.screen()`` agree on what "today" is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo


class SystemClock:
    """The wall clock: times in UTC, dates in ``zone`` (None: the machine's own zone)."""

    def __init__(self, zone: tzinfo | None = UTC) -> None:
        self.zone = zone

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date in the clock's zone."""
        now = self.now()
        return (now.astimezone(self.zone) if self.zone else now.astimezone()).date()
