"""The service's session check trusts storage's check-and-touch only within the rule: a
session storage touched though the rule refuses it is refused and ended (the check runs in
no transaction, so the touch stands and cannot be undone)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from mesoscreen.domain.access import AuthenticationError, Role
from mesoscreen.domain.records import AuthSession, LiveSessionBounds, User
from mesoscreen.services.authentication import Authentication, SessionPolicy, token_hash
from tests.factories import PASSWORD, ClinicStaff
from tests.fakes import FakeHasher, FakeUnitOfWorkFactory, FrozenClock, _Sessions


def _touch_any(
    self: _Sessions, session_id: str, seen_at: datetime, bounds: LiveSessionBounds
) -> tuple[AuthSession, User] | None:
    """A broken storage: touches the session whatever the bounds, and returns it as it was."""
    found = self.get_with_user(session_id)
    if found is None:
        return None
    self.touch(session_id, seen_at)
    return found


@pytest.mark.parametrize("unused", [timedelta(minutes=15), timedelta(hours=12)],
                         ids=["idle", "absolute"])  # fmt: skip
def test_a_session_storage_touched_past_a_limit_is_refused_and_ended(
    uow: FakeUnitOfWorkFactory,
    clock: FrozenClock,
    staff: ClinicStaff,
    monkeypatch: pytest.MonkeyPatch,
    unused: timedelta,
) -> None:
    """Storage touches a session unused for 15 minutes or 12 hours and returns it: refused
    and ended, so refused again once storage keeps the rule."""
    auth = Authentication(uow, clock, FakeHasher(), SessionPolicy())
    signed_in = auth.login(staff.users[Role.NURSE].username, PASSWORD, "bearer", None)
    monkeypatch.setattr(_Sessions, "touch_if_live", _touch_any)
    clock.advance(unused)
    with pytest.raises(AuthenticationError):
        auth.authenticate(signed_in.token, None)
    with uow() as unit:
        stored = unit.auth_sessions.get(token_hash(signed_in.token))
    assert stored is not None
    assert stored.ended_at == clock.now()
    monkeypatch.undo()  # a storage that keeps the rule again: the session stays dead
    clock.advance(timedelta(seconds=1))
    with pytest.raises(AuthenticationError, match="ended"):
        auth.authenticate(signed_in.token, None)


def test_a_live_session_is_checked_and_touched_by_storage_in_one_step(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff
) -> None:
    """A session used 14 minutes ago is accepted and its last use is now."""
    auth = Authentication(uow, clock, FakeHasher(), SessionPolicy())
    signed_in = auth.login(staff.users[Role.NURSE].username, PASSWORD, "bearer", None)
    clock.advance(timedelta(minutes=14))
    authenticated = auth.authenticate(signed_in.token, None)
    assert authenticated.principal.username == staff.users[Role.NURSE].username
    with uow() as unit:
        stored = unit.auth_sessions.get(token_hash(signed_in.token))
    assert stored is not None
    assert stored.last_seen_at == clock.now()


def test_the_fake_storage_returns_the_session_as_it_was_and_keeps_the_touch(
    uow: FakeUnitOfWorkFactory, clock: FrozenClock, staff: ClinicStaff
) -> None:
    """As the SQL storage does: the touched session comes back as it was before the touch, and
    a unit of work without a transaction keeps the touch though it is never committed."""
    auth = Authentication(uow, clock, FakeHasher(), SessionPolicy())
    signed_in = auth.login(staff.users[Role.NURSE].username, PASSWORD, "bearer", None)
    signed_at = clock.now()
    clock.advance(timedelta(minutes=5))
    bounds = LiveSessionBounds.at(clock.now(), timedelta(minutes=15), timedelta(hours=12))
    with uow.without_transaction() as unit:
        found = unit.auth_sessions.touch_if_live(token_hash(signed_in.token), clock.now(), bounds)
    assert found is not None
    assert found[0].last_seen_at == signed_at
    with uow() as unit:
        stored = unit.auth_sessions.get(token_hash(signed_in.token))
    assert stored is not None
    assert stored.last_seen_at == clock.now()
