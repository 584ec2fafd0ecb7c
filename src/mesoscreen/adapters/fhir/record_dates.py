"""The dates of a record resource, read from every form FHIR R4 gives them.

``onset[x]``, ``abatement[x]`` and ``effective[x]`` come as dateTime, instant, Period, Age,
Range or string (and ``abatementBoolean``); an Age or a Range of ages is counted from the
patient's birth date. A date is read as the last day it can mean ('2026' is 2026-12-31), so a
resource is never judged older than it may be. What cannot be read is None: the caller treats
an undated resource as current (fail safe), and an undated abatement as ended.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# UCUM units of an Age, in days (a year and a month as their longest, so never too old).
_AGE_DAYS = {"a": 366, "mo": 31, "wk": 7, "d": 1, "h": 1 / 24, "min": 1 / 1440}


# A bulk export repeats dates from patient to patient, and reading one costs more than the rest
# of a small record's resource: dateTimes, partial dates and one-day spans are kept by their
# text, bounded (a plain day is read each time by ``fromisoformat``, as fast). Longer text (a
# dateTime is at most 35 characters) is read each time, never kept.
_KEPT_DAYS = 4096
_DAY_CHARS = 40


def latest_day(value: object) -> date | None:
    """The last day a FHIR date/dateTime/instant can mean; None if unreadable."""
    if not isinstance(value, str):
        return None
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        # A day, the commonest form. With these dashes CPython's ``fromisoformat`` takes only
        # a 'YYYY-MM-DD' of ASCII digits that makes a real day, and any ``fromisoformat``
        # reads the same parts as ``_read_day`` does; what it refuses is read that way. It
        # costs about what finding the day in the memo costs (155 against 116 ns) and half a
        # miss, and days, whose variety (birth dates) would push out the dateTimes the memo
        # is for, no longer take its places.
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    return _known_day(value) if len(value) <= _DAY_CHARS else _read_day(value)


@functools.lru_cache(maxsize=_KEPT_DAYS)
def _known_day(value: str) -> date | None:
    """``_read_day``, kept per text."""
    return _read_day(value)


def _read_day(value: str) -> date | None:
    """``latest_day`` of a text, read."""
    if len(value) < 4:
        return None
    try:
        year = int(value[:4])
        if len(value) < 7:
            return date(year, 12, 31)
        month = int(value[5:7])
        if len(value) < 10:
            return date(year, month, calendar.monthrange(year, month)[1])
        return date(year, month, int(value[8:10]))
    except ValueError:
        return None


def _age_day(age: object, born: date | None) -> date | None:
    """The day a patient born on ``born`` reached ``age`` (an Age: value and UCUM code)."""
    if born is None or not isinstance(age, dict):
        return None
    value, unit = age.get("value"), age.get("code") or age.get("unit")
    per_unit = _AGE_DAYS.get(unit) if isinstance(unit, str) else None
    if per_unit is None and isinstance(unit, str) and unit.lower().startswith("year"):
        per_unit = 366
    if not isinstance(value, int | float) or isinstance(value, bool) or per_unit is None:
        return None
    try:
        return born + timedelta(days=int(value * per_unit))
    except OverflowError:
        return None


@dataclass(frozen=True, slots=True)
class Span:
    """When something began and ended, as far as the resource says (None: not said)."""

    start: date | None = None
    end: date | None = None
    stated: bool = False  # the element is present, dated or not (an abatementString)

    @property
    def last(self) -> date | None:
        """The latest day the span names."""
        return self.end or self.start


_SUFFIXES = ("DateTime", "Instant", "Period", "Age", "Range", "String", "Boolean")
_FORMS = {
    element: frozenset(element + suffix for suffix in _SUFFIXES)
    for element in ("onset", "abatement", "effective")
}


def span_of(resource: Mapping[str, Any], element: str, born: date | None = None) -> Span:
    """The span of ``element``[x] (``onset``, ``abatement``, ``effective``) of ``resource``."""
    if _FORMS[element].isdisjoint(resource.keys()):
        return _UNSTATED
    for suffix in ("DateTime", "Instant"):
        value = resource.get(element + suffix)
        if value is not None:
            return _day_span(value)
    period = resource.get(element + "Period")
    if isinstance(period, dict):
        return Span(latest_day(period.get("start")), latest_day(period.get("end")), True)
    age = resource.get(element + "Age")
    if age is not None:
        day = _age_day(age, born)
        return Span(day, day, True)
    age_range = resource.get(element + "Range")
    if isinstance(age_range, dict):
        return Span(_age_day(age_range.get("low"), born), _age_day(age_range.get("high"), born),
                    True)  # fmt: skip
    if resource.get(element + "String") is not None:
        return Span(stated=True)
    if resource.get(element + "Boolean") is True:
        return Span(stated=True)
    return Span()


_UNSTATED = Span()


def _day_span(value: object) -> Span:
    """The span a dateTime or instant ``value`` states."""
    if isinstance(value, str) and len(value) <= _DAY_CHARS:
        return _known_day_span(value)
    day = latest_day(value)
    return Span(day, day, True)


@functools.lru_cache(maxsize=_KEPT_DAYS)
def _known_day_span(value: str) -> Span:
    """The one-day span of a short text, kept per text (a Span is frozen, so shared)."""
    day = latest_day(value)
    return Span(day, day, True)
