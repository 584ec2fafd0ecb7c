"""The rule that a session is live: open, its user enabled, used within the idle limit and
younger than the absolute limit, to the microsecond; the same as the limits read as spans."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mesoscreen.domain.access import Role
from mesoscreen.domain.records import AuthSession, LiveSessionBounds, User

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
IDLE = timedelta(minutes=15)
ABSOLUTE = timedelta(hours=12)
MICROSECOND = timedelta(microseconds=1)
USER = User("u1", "nurse", Role.NURSE, frozenset({"c1"}), "hash", False, NOW, 1)


def _session(created_ago: timedelta, seen_ago: timedelta) -> AuthSession:
    return AuthSession("s1", USER.id, "bearer", "csrf", NOW - created_ago, NOW - seen_ago)


def test_a_session_is_live_until_the_idle_limit_and_not_at_it() -> None:
    """Idle 15 min − 1 us: live; idle exactly 15 min: not."""
    bounds = LiveSessionBounds.at(NOW, IDLE, ABSOLUTE)
    assert bounds.admit(_session(IDLE, IDLE - MICROSECOND), USER)
    assert not bounds.admit(_session(IDLE, IDLE), USER)


def test_a_session_is_live_until_the_absolute_limit_and_not_at_it() -> None:
    """12 h − 1 us old and just used: live; exactly 12 h old: not."""
    bounds = LiveSessionBounds.at(NOW, IDLE, ABSOLUTE)
    assert bounds.admit(_session(ABSOLUTE - MICROSECOND, timedelta(0)), USER)
    assert not bounds.admit(_session(ABSOLUTE, timedelta(0)), USER)


def test_an_ended_session_or_a_disabled_user_is_never_live() -> None:
    """Fresh but ended, or fresh of a disabled user: not live."""
    bounds = LiveSessionBounds.at(NOW, IDLE, ABSOLUTE)
    fresh = _session(timedelta(minutes=1), timedelta(0))
    assert bounds.admit(fresh, USER)
    assert not bounds.admit(replace(fresh, ended_at=NOW), USER)
    assert not bounds.admit(fresh, replace(USER, disabled=True))


_SPANS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=30))


@given(created_ago=_SPANS, seen_ago=_SPANS)
def test_the_bounds_admit_exactly_what_the_limits_as_spans_do(
    created_ago: timedelta, seen_ago: timedelta
) -> None:
    """Live is ``now − last use < idle`` and ``now − creation < absolute``, to the microsecond
    (the form the service checked before the bounds)."""
    session = _session(created_ago, seen_ago)
    as_spans = NOW - session.last_seen_at < IDLE and NOW - session.created_at < ABSOLUTE
    assert LiveSessionBounds.at(NOW, IDLE, ABSOLUTE).admit(session, USER) == as_spans
