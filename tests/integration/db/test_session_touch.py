"""Every request's session check and its touch, on SQLite and PostgreSQL: a live session is
accepted and its last use moves; an idle-expired, absolute-expired or ended session, or one
of a disabled user, is refused and its last use stays where it was, to the second (RELIABILITY
A2). On PostgreSQL the check and the touch of a live session are one statement, sent in no
transaction; a session storage touched though the rule refuses it is ended."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import OperationalError

from mesoscreen.adapters.db import tables
from mesoscreen.adapters.db.accounts import SqlAuthSessions
from mesoscreen.adapters.db.engine import create_database_engine
from mesoscreen.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import AuthenticationError, Role
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.domain.errors import NotFoundError
from mesoscreen.domain.records import AuthSession, LiveSessionBounds, User
from tests.factories import PASSWORD, principal_for, seed_clinic, unique
from tests.fakes import FrozenClock

IDLE = timedelta(minutes=15)  # the policy's defaults, as the services are built
ABSOLUTE = timedelta(hours=12)
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Stored:
    """A session row as stored."""

    last_seen_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class SignedIn:
    """A nurse signed in: the token, the stored session's id and the nurse."""

    token: str
    session_id: str
    user: User


def _sign_in(services: Services) -> SignedIn:
    staff = seed_clinic(services.accounts)
    nurse = staff.users[Role.NURSE]
    signed = services.authentication.login(nurse.username, PASSWORD, "bearer", "127.0.0.1")
    return SignedIn(signed.token, signed.principal.session_id, nurse)


def _stored(services: Services, session_id: str) -> Stored:
    sessions = tables.auth_sessions
    query = select(sessions.c.last_seen_at, sessions.c.ended_at).where(sessions.c.id == session_id)
    with services.engine.connect() as connection:
        row = connection.execute(query).one()
    return Stored(row.last_seen_at, row.ended_at)


def _check(services: Services, signed: SignedIn | str) -> bool:
    """Whether the session check accepts the token (of ``signed``) now."""
    token = signed if isinstance(signed, str) else signed.token
    try:
        services.authentication.authenticate(token, "127.0.0.1")
    except AuthenticationError:
        return False
    return True


@contextmanager
def _statements(services: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(services.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(services.engine, "before_cursor_execute", count)


def _disable_without_ending(services: Services, user: User) -> None:
    """Disable the user in storage and leave its sessions open (disabling through the
    services ends them too, which would hide this check behind the ended one)."""
    with services.engine.begin() as connection:
        connection.execute(
            update(tables.users).where(tables.users.c.id == user.id).values(disabled=True)
        )


def test_a_live_session_is_accepted_and_its_last_use_moves(
    services: Services, clock: FrozenClock
) -> None:
    """Five minutes after sign-in the check passes and the session's last use is now."""
    signed = _sign_in(services)
    clock.advance(timedelta(minutes=5))
    authenticated = services.authentication.authenticate(signed.token, "127.0.0.1")
    assert authenticated.principal.user_id == signed.user.id
    assert authenticated.principal.clinic_ids == signed.user.clinic_ids
    assert _stored(services, signed.session_id) == Stored(clock.now(), None)


def test_the_idle_limit_holds_to_the_second_and_a_refusal_leaves_the_last_use(
    services: Services, clock: FrozenClock
) -> None:
    """Idle 15 min − 1 s: accepted and touched; then idle exactly 15 min: refused, the last
    use unmoved and the session ended."""
    signed = _sign_in(services)
    clock.advance(IDLE - SECOND)
    assert _check(services, signed)
    touched = clock.now()
    assert _stored(services, signed.session_id).last_seen_at == touched
    clock.advance(IDLE)
    assert not _check(services, signed)
    assert _stored(services, signed.session_id) == Stored(touched, clock.now())
    clock.advance(SECOND)  # and it stays dead
    assert not _check(services, signed)
    assert _stored(services, signed.session_id).last_seen_at == touched


def test_one_microsecond_under_the_idle_limit_is_still_live(
    services: Services, clock: FrozenClock
) -> None:
    """Storage compares at the precision it keeps: idle 15 min − 1 us is accepted."""
    signed = _sign_in(services)
    clock.advance(IDLE - MICROSECOND)
    assert _check(services, signed)
    assert _stored(services, signed.session_id) == Stored(clock.now(), None)


def test_the_absolute_limit_holds_to_the_second_however_busy_the_session(
    services: Services, clock: FrozenClock
) -> None:
    """Used every 10 minutes up to 12 h − 1 s after sign-in, then at exactly 12 h: refused
    and its last use unmoved."""
    signed = _sign_in(services)
    for _ in range(71):
        clock.advance(timedelta(minutes=10))
        assert _check(services, signed)
    clock.advance(timedelta(minutes=10) - SECOND)  # 12 h − 1 s
    assert _check(services, signed)
    touched = clock.now()
    clock.advance(SECOND)  # exactly 12 h
    assert not _check(services, signed)
    assert _stored(services, signed.session_id) == Stored(touched, clock.now())


def test_an_ended_session_is_refused_and_its_last_use_stays(
    services: Services, clock: FrozenClock
) -> None:
    """After logout the token is refused; neither its last use nor its end moves."""
    signed = _sign_in(services)
    services.authentication.logout(principal_for(signed.user, signed.session_id))
    before = _stored(services, signed.session_id)
    clock.advance(SECOND)
    assert not _check(services, signed)
    assert _stored(services, signed.session_id) == before


def test_a_session_of_a_disabled_user_is_refused_and_its_last_use_stays(
    services: Services, clock: FrozenClock
) -> None:
    """The user disabled (sessions left open): refused, last use unmoved, session ended."""
    signed = _sign_in(services)
    _disable_without_ending(services, signed.user)
    clock.advance(SECOND)
    assert not _check(services, signed)
    assert _stored(services, signed.session_id) == Stored(clock.now() - SECOND, clock.now())


def test_an_unknown_token_is_refused(services: Services) -> None:
    """A token no session has is refused."""
    assert not _check(services, unique("token"))


# What touch_if_live is given at each boundary and whether it must touch.
Case = Callable[[Services, FrozenClock, SignedIn], None]


def _idle(services: Services, clock: FrozenClock, signed: SignedIn) -> None:
    clock.advance(IDLE)


def _old(services: Services, clock: FrozenClock, signed: SignedIn) -> None:
    clock.current = clock.now() + ABSOLUTE
    with services.engine.begin() as connection:  # used a minute ago: only its age expires it
        connection.execute(
            update(tables.auth_sessions)
            .where(tables.auth_sessions.c.id == signed.session_id)
            .values(last_seen_at=clock.now() - timedelta(minutes=1))
        )


def _ended(services: Services, clock: FrozenClock, signed: SignedIn) -> None:
    services.authentication.logout(principal_for(signed.user, signed.session_id))


def _disabled(services: Services, clock: FrozenClock, signed: SignedIn) -> None:
    _disable_without_ending(services, signed.user)


@pytest.mark.parametrize("refuse", [_idle, _old, _ended, _disabled])
def test_touch_if_live_changes_nothing_of_a_session_the_rule_refuses(
    services: Services, clock: FrozenClock, refuse: Case
) -> None:
    """Storage's check-and-touch alone (not the service's second look) returns None and leaves
    the row as it was, for each reason a session is not live."""
    signed = _sign_in(services)
    refuse(services, clock, signed)
    before = _stored(services, signed.session_id)
    bounds = LiveSessionBounds.at(clock.now(), IDLE, ABSOLUTE)
    with SqlUnitOfWorkFactory(services.engine)() as uow:
        assert uow.auth_sessions.touch_if_live(signed.session_id, clock.now(), bounds) is None
        uow.commit()
    assert _stored(services, signed.session_id) == before


def test_touch_if_live_touches_a_live_session_and_returns_it_with_its_user(
    services: Services, clock: FrozenClock
) -> None:
    """Just inside both limits: the session is touched and comes back as it was before (what
    the rule is checked on), with its user and clinics; on PostgreSQL in one statement."""
    signed = _sign_in(services)
    signed_in_at = clock.now()
    clock.advance(IDLE - MICROSECOND)
    bounds = LiveSessionBounds.at(clock.now(), IDLE, ABSOLUTE)
    with _statements(services) as seen, SqlUnitOfWorkFactory(services.engine)() as uow:
        found = uow.auth_sessions.touch_if_live(signed.session_id, clock.now(), bounds)
        uow.commit()
    assert found is not None
    session, user = found
    assert (session.id, session.last_seen_at, session.ended_at) == (
        signed.session_id,
        signed_in_at,
        None,
    )
    assert (user.id, user.clinic_ids, user.role) == (
        signed.user.id,
        signed.user.clinic_ids,
        Role.NURSE,
    )
    assert _stored(services, signed.session_id).last_seen_at == clock.now()
    on_sessions = [s for s in seen if "auth_sessions" in s]
    assert len(on_sessions) == (1 if services.engine.dialect.name == "postgresql" else 2)


def test_the_touch_of_a_page_is_committed_though_the_page_only_reads_and_fails(
    services: Services, clock: FrozenClock
) -> None:
    """A page's check is committed at once (it runs on a connection of its own), not left in
    the page's read transaction, which a later failure, or the block's end with nothing to
    audit, would roll back."""
    signed = _sign_in(services)
    clinician = principal_for(seed_clinic(services.accounts).users[Role.CLINICIAN])
    clock.advance(timedelta(minutes=3))
    with services.reads_batched():
        assert _check(services, signed)
        assert _stored(services, signed.session_id).last_seen_at == clock.now()
    clock.advance(timedelta(minutes=3))
    with services.reads_batched():
        assert _check(services, signed)
        with pytest.raises(NotFoundError):
            services.patients.get(clinician, unique("nobody"))
    assert _stored(services, signed.session_id).last_seen_at == clock.now()


def test_a_touch_in_a_use_case_of_a_page_counts_as_a_write(
    services: Services, clock: FrozenClock
) -> None:
    """``touch_if_live`` in an ordinary unit of work of a page's batch (on PostgreSQL a
    SELECT to SQLAlchemy, marked as a write) is committed with that unit of work, not left
    in the page's read transaction for a later failure to roll back."""
    signed = _sign_in(services)
    clinician = principal_for(seed_clinic(services.accounts).users[Role.CLINICIAN])
    clock.advance(timedelta(minutes=3))
    bounds = LiveSessionBounds.at(clock.now(), IDLE, ABSOLUTE)
    with services.reads_batched():
        with SqlUnitOfWorkFactory(services.engine)() as uow:
            assert uow.auth_sessions.touch_if_live(signed.session_id, clock.now(), bounds)
            uow.commit()
        with pytest.raises(NotFoundError):
            services.patients.get(clinician, unique("nobody"))
    assert _stored(services, signed.session_id).last_seen_at == clock.now()


def test_the_live_check_is_one_statement_and_one_commit_on_postgresql(
    services: Services, clock: FrozenClock
) -> None:
    """A live session's check: one statement on PostgreSQL (SQLite: the read, then the
    update), committed once (on PostgreSQL a commit of the client alone: the statement ran in
    no transaction block, so nothing is sent)."""
    signed = _sign_in(services)
    clock.advance(SECOND)
    commits: list[object] = []

    def commit(*args: object) -> None:
        commits.append(args)

    event.listen(services.engine, "commit", commit)
    try:
        with _statements(services) as seen:
            assert _check(services, signed)
    finally:
        event.remove(services.engine, "commit", commit)
    run = [s for s in seen if not s.startswith("BEGIN")]  # SQLite's BEGIN IMMEDIATE
    assert len(run) == (1 if services.engine.dialect.name == "postgresql" else 2)
    assert len(commits) == 1


@contextmanager
def _driver_states(services: Services) -> Iterator[list[bool]]:
    states: list[bool] = []

    def after(connection: Any, *_: Any) -> None:
        driver = connection.connection.dbapi_connection
        states.append(driver.info.transaction_status != driver.info.transaction_status.IDLE)

    event.listen(services.engine, "after_cursor_execute", after)
    try:
        yield states
    finally:
        event.remove(services.engine, "after_cursor_execute", after)


def test_the_check_opens_no_transaction_on_postgresql(
    services: Services, clock: FrozenClock
) -> None:
    """On PostgreSQL the check's statement runs in no transaction block (no BEGIN, no COMMIT
    sent), while a unit of work of a use case runs in one."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's session check keeps its transaction")
    signed = _sign_in(services)
    clock.advance(SECOND)
    with _driver_states(services) as states:
        assert _check(services, signed)
    assert states == [False]
    with _driver_states(services) as states, services.reads_batched():
        assert _check(services, signed)  # a page's check too: not in the page's transaction
    assert states == [False]
    with _driver_states(services) as states, SqlUnitOfWorkFactory(services.engine)() as uow:
        uow.auth_sessions.get(signed.session_id)
    assert states == [True]


def test_a_unit_of_work_without_a_transaction_keeps_each_write_as_it_runs(
    services: Services, clock: FrozenClock
) -> None:
    """Another connection sees the touch before commit(); a block left by an error undoes
    nothing; it takes no audit entry."""
    signed = _sign_in(services)
    factory = SqlUnitOfWorkFactory(services.engine)
    clock.advance(SECOND)

    def fail_after_a_write() -> None:
        with factory.without_transaction() as uow:
            uow.auth_sessions.touch(signed.session_id, clock.now())
            if services.engine.dialect.name == "postgresql":  # SQLite: one writer at a time
                assert _stored(services, signed.session_id).last_seen_at == clock.now()
            raise LookupError("the use case fails after its write")

    with pytest.raises(LookupError):
        fail_after_a_write()
    assert _stored(services, signed.session_id).last_seen_at == clock.now()
    entry = AuditEntry("session.check", AuditAction.EXECUTE, AuditOutcome.SUCCESS, clock.now())
    with factory.without_transaction() as uow, pytest.raises(RuntimeError, match="no audit"):
        uow.audit.append(entry)


def test_the_pool_gives_a_connection_back_to_transactions(
    services: Services, database_url: str, clock: FrozenClock
) -> None:
    """After a unit of work without a transaction, the same pooled connection runs the next
    unit of work in a transaction again: a write it does not commit is undone."""
    signed = _sign_in(services)
    engine = create_database_engine(database_url)  # a pool of one connection, reused
    drivers: list[object] = []
    event.listen(engine, "checkout", lambda driver, *_: drivers.append(driver))
    try:
        factory = SqlUnitOfWorkFactory(engine)
        with factory.without_transaction() as uow:
            uow.auth_sessions.touch(signed.session_id, clock.now())
        with factory() as uow:
            uow.auth_sessions.end(signed.session_id, clock.now())
        assert len(drivers) == 2
        assert drivers[0] is drivers[1]
        assert _stored(services, signed.session_id).ended_at is None
    finally:
        engine.dispose()


def _touch_whatever(
    self: SqlAuthSessions, session_id: str, seen_at: datetime, bounds: LiveSessionBounds
) -> tuple[AuthSession, User] | None:
    """A broken storage: touches the session whatever the bounds, and returns it as it was."""
    found = self.get_with_user(session_id)
    self.touch(session_id, seen_at)
    return found


@pytest.mark.parametrize("unused", [IDLE, ABSOLUTE], ids=["idle", "absolute"])
def test_a_session_storage_touched_though_the_rule_refuses_is_ended(
    services: Services, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, unused: timedelta
) -> None:
    """Storage touches a session past the idle or the absolute limit: the rule refuses it and
    ends it, so it is refused again once storage keeps the rule."""
    signed = _sign_in(services)
    monkeypatch.setattr(SqlAuthSessions, "touch_if_live", _touch_whatever)
    clock.advance(unused)
    assert not _check(services, signed)
    assert _stored(services, signed.session_id).ended_at == clock.now()
    monkeypatch.undo()
    clock.advance(SECOND)
    assert not _check(services, signed)


def test_a_connection_lost_without_a_transaction_raises_the_drivers_error(
    services: Services,
) -> None:
    """The server ends the connection of a unit of work without a transaction: the error
    that comes out is the lost connection's (which the entry points answer with 503), not
    one of leaving the unit of work."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("a connection to end: PostgreSQL's")
    backends: list[int] = []
    listener = lambda driver, *_: backends.append(driver.info.backend_pid)  # noqa: E731

    def read_on_a_lost_connection() -> None:
        with SqlUnitOfWorkFactory(services.engine).without_transaction() as uow:
            with services.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"),
                              {"pid": backends[0]})  # fmt: skip
            uow.auth_sessions.get(unique("session"))

    event.listen(services.engine, "checkout", listener)
    try:
        with pytest.raises(OperationalError):
            read_on_a_lost_connection()
    finally:
        event.remove(services.engine, "checkout", listener)


def test_the_session_as_it_was_is_the_latest_committed_one(
    services: Services, clock: FrozenClock
) -> None:
    """A check waiting for another request's touch to commit returns the session with that
    touch (the rule is checked on the latest committed last use, not the one it first saw)."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's check holds the write lock from its start: nothing to wait for")
    signed = _sign_in(services)
    clock.advance(timedelta(minutes=1))
    other_use = clock.now()
    clock.advance(timedelta(minutes=1))
    bounds = LiveSessionBounds.at(clock.now(), IDLE, ABSOLUTE)
    factory = SqlUnitOfWorkFactory(services.engine)
    found: list[tuple[AuthSession, User] | None] = []

    def check() -> None:
        with factory.without_transaction() as uow:
            found.append(uow.auth_sessions.touch_if_live(signed.session_id, clock.now(), bounds))

    with factory() as other:  # another request's touch, not committed yet
        other.auth_sessions.touch(signed.session_id, other_use)
        checking = threading.Thread(target=check)
        checking.start()
        _wait_for_a_lock_wait(services)
        other.commit()
    checking.join(10)
    assert found
    assert found[0] is not None
    assert found[0][0].last_seen_at == other_use
    assert _stored(services, signed.session_id).last_seen_at == clock.now()


def _wait_for_a_lock_wait(services: Services) -> None:
    """Return once a session check waits for a row lock (10 s at most)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock' "
        "AND query LIKE 'WITH touched AS%'"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with services.engine.connect() as connection:
            if connection.execute(waiting).scalar_one():
                return
        time.sleep(0.01)
    pytest.fail("the check never waited for the other touch's lock")
