"""Calendar arithmetic for deferral dates, clamped at month ends (31 Jan + 1 month = 28/29 Feb)."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(start: date, months: int) -> date:
    """The date ``months`` calendar months after ``start``; the month's last day if shorter."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def months_elapsed_at_least(since: date, on: date, months: int) -> bool:
    """Whether at least ``months`` calendar months have passed from ``since`` to ``on``."""
    return on >= add_months(since, months)


def age_in_years(birth_date: date, on: date) -> int:
    """Whole years from ``birth_date`` to ``on`` (a birthday on 29 Feb counts on 1 Mar)."""
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - before_birthday
