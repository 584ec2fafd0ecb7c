"""Sign-in and sessions: Argon2-checked passwords, server-side sessions, throttled failures.

A session ends after 15 minutes without use or 12 hours in all, at logout, or
when its user is disabled; only the SHA-256 of a token is stored. Failed
sign-ins for a username (known or not) are free at first, then each must wait
twice as long as the one before, and the username locks after too many.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from mesoscreen.domain.access import AuthenticationError, Principal, TooManyAttemptsError
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.domain.names import normalise_name
from mesoscreen.domain.records import AuthSession, LiveSessionBounds, LoginThrottle, User
from mesoscreen.services.ports import Clock, PasswordHasher, UnitOfWork, UnitOfWorkFactory
from mesoscreen.services.recording import RecordsUseCases, Target

_WRONG = "sign-in: username or password is wrong, or the account is disabled"


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """Session lifetimes and the sign-in throttle."""

    idle: timedelta = timedelta(minutes=15)
    absolute: timedelta = timedelta(hours=12)
    free_failures: int = 3  # failures before each attempt must wait
    lock_after: int = 10  # failures that lock the username until an admin unlocks it
    max_delay: timedelta = timedelta(minutes=5)
    source_failures: int = 10  # failures from one address (any usernames) per window
    source_window: timedelta = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A fresh session: the token to hand out once, its CSRF token and who it is for."""

    token: str
    csrf_token: str
    principal: Principal
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Authenticated:
    """A request's session, checked: who it is for and the hash its CSRF token must match."""

    principal: Principal
    kind: str
    csrf_hash: str


def token_hash(token: str) -> str:
    """The SHA-256 under which a token is stored (tokens themselves never are)."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_matches(authenticated: Authenticated, csrf_token: str | None) -> bool:
    """Whether ``csrf_token`` is the one issued with the session (constant time)."""
    if not csrf_token:
        return False
    return hmac.compare_digest(token_hash(csrf_token), authenticated.csrf_hash)


class Authentication(RecordsUseCases):
    """Signs users in and out and checks session tokens on each request."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        hasher: PasswordHasher,
        policy: SessionPolicy | None = None,
    ) -> None:
        super().__init__(uow, clock)
        self.hasher = hasher
        self.policy = policy or SessionPolicy()
        self._decoy: str | None = None

    def _decoy_hash(self) -> str:
        """A hash checked for unknown usernames, so they take as long as a wrong password."""
        if self._decoy is None:
            self._decoy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._decoy

    def _wait(self, throttle: LoginThrottle | None, now: datetime) -> int | None:
        """Seconds the next attempt must still wait, or None if it may go ahead."""
        if throttle is None or throttle.failures < self.policy.free_failures:
            return None
        delay = min(
            timedelta(seconds=2 ** (throttle.failures - self.policy.free_failures)),
            self.policy.max_delay,
        )
        last = throttle.last_failure_at or now
        remaining = (last + delay - now).total_seconds()
        return int(remaining) + 1 if remaining > 0 else None

    def _source_wait(self, counted: tuple[int, datetime] | None, now: datetime) -> int | None:
        """Seconds until the address may try again, or None if it may go ahead now."""
        if counted is None or counted[0] < self.policy.source_failures:
            return None
        remaining = (counted[1] + self.policy.source_window - now).total_seconds()
        return math.ceil(remaining) if remaining > 0 else None

    def login(self, username: str, password: str, kind: str, source: str | None) -> SignedIn:
        """A new session for ``username``; AuthenticationError or TooManyAttemptsError.

        Failures are counted per username (slowed, then locked) and per client address
        (``source``: a flood across many usernames waits out the window), both in the
        database, so every server process sees the same counts.
        """
        now = self.clock.now()
        target = Target("Session")
        username = normalise_name(username)  # as accounts store it
        address = source[:64] if source else None
        # The Argon2 check runs between two transactions, never inside one: on SQLite every
        # transaction holds the write lock (BEGIN IMMEDIATE), which would queue every write
        # of the service behind each sign-in's hash.
        with self.uow() as uow:
            user = uow.users.by_username(username)
            self._refuse_if_throttled(uow, username, user, address, source, now)
            password_hash = user.password_hash if user else None
        checked = self.hasher.verify(password_hash or self._decoy_hash(), password)
        with self.uow() as uow:
            # Read again: the account may have been disabled, locked or given a new password
            # while the hash was checked.
            user = uow.users.by_username(username)
            self._refuse_if_throttled(uow, username, user, address, source, now)
            changed = user is not None and user.password_hash != password_hash
            if user is None or user.disabled or not checked or changed:
                counted = uow.throttles.record_failure(username, now)
                if counted.failures >= self.policy.lock_after:
                    uow.throttles.lock(username)
                if address:
                    uow.source_throttles.record_failure(
                        address, now, now - self.policy.source_window
                    )
                uow.audit.append(self._signin_entry(user, source, AuditOutcome.FAILURE, "wrong"))
                uow.commit()
                raise AuthenticationError(_WRONG)
            uow.throttles.clear(username)
            token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            session = AuthSession(
                id=token_hash(token),
                user_id=user.id,
                kind=kind,
                csrf_hash=token_hash(csrf_token),
                created_at=now,
                last_seen_at=now,
                source=source,
            )
            uow.auth_sessions.add(session)
            principal = Principal(
                user.id, user.username, user.role, user.clinic_ids, session.id, source
            )
            uow.audit.append(self.entry(principal, "user.login", AuditAction.EXECUTE, target))
            uow.commit()
        return SignedIn(token, csrf_token, principal, now + self.policy.absolute)

    def _refuse_if_throttled(
        self,
        uow: UnitOfWork,
        username: str,
        user: User | None,
        address: str | None,
        source: str | None,
        now: datetime,
    ) -> None:
        """TooManyAttemptsError (audited and committed) while the address or the username
        waits or the username is locked."""
        throttle = uow.throttles.get(username)
        source_wait = self._source_wait(uow.source_throttles.get(address), now) if address else None
        refused = None
        if source_wait is not None:
            refused = TooManyAttemptsError(
                "sign-in: too many failed attempts from this address "
                f"(try again in {source_wait} s)",
                source_wait,
            )
        elif throttle is not None and throttle.locked:
            refused = TooManyAttemptsError(
                "sign-in: this username is locked after repeated failures "
                "(an admin must unlock it)",
                None,
            )
        elif (wait := self._wait(throttle, now)) is not None:
            refused = TooManyAttemptsError(
                f"sign-in: too many failed attempts (try again in {wait} s)", wait
            )
        if refused is not None:
            uow.audit.append(self._signin_entry(user, source, AuditOutcome.DENIED, "throttled"))
            uow.commit()
            raise refused

    def _signin_entry(
        self, user: User | None, source: str | None, outcome: AuditOutcome, reason: str
    ) -> AuditEntry:
        """An audit entry for a refused sign-in (the username itself is not recorded).

        It belongs to the clinics of the account tried; under a name no account has, to no
        clinic (only an admin of every clinic reads those).
        """
        return AuditEntry(
            event_type="user.login",
            action=AuditAction.EXECUTE,
            outcome=outcome,
            recorded_at=self.clock.now(),
            actor_id=user.id if user else None,
            entity_type="Session",
            source=source,
            detail=MappingProxyType({"reason": reason}),
            other_clinic_ids=user.clinic_ids if user else frozenset(),
        )

    def authenticate(self, token: str, source: str | None) -> Authenticated:
        """The live session for ``token``; AuthenticationError if unknown, ended or expired.

        A live session is checked and its use recorded in one step (one statement on
        PostgreSQL, sent in no transaction: one round trip where a transaction took three)
        within the bounds of ``LiveSessionBounds``; any other is read again and refused (an
        expired one, or one of a disabled user, is ended) without its last use having moved.
        A session storage touched though the rule refuses it as it was is ended and refused.
        """
        now = self.clock.now()
        bounds = LiveSessionBounds.at(now, self.policy.idle, self.policy.absolute)
        session_id = token_hash(token)
        with self.uow.without_transaction() as uow:
            found = uow.auth_sessions.touch_if_live(session_id, now, bounds)
            if found is not None and not bounds.admit(*found):
                # Storage touched what the rule refuses, as the session was before (the touch
                # stands: no transaction undoes it): end it and refuse, rather than trust
                # storage.
                uow.auth_sessions.end(session_id, now)
                uow.commit()
                raise AuthenticationError("session: expired; please sign in again")
            if found is None:
                found = self._refuse_or_touch(uow, session_id, now, bounds)
            uow.commit()
        session, user = found
        principal = Principal(
            user.id, user.username, user.role, user.clinic_ids, session.id, source
        )
        return Authenticated(principal, session.kind, session.csrf_hash)

    def _refuse_or_touch(
        self, uow: UnitOfWork, session_id: str, now: datetime, bounds: LiveSessionBounds
    ) -> tuple[AuthSession, User]:
        """The session ``touch_if_live`` did not touch, read again: AuthenticationError if it
        is unknown or ended; if expired or its user disabled, ended (committed) and refused;
        live after all (it changed between the two statements), touched."""
        found = uow.auth_sessions.get_with_user(session_id)
        if found is None or found[0].ended_at is not None:
            raise AuthenticationError("session: not signed in or the session has ended")
        session, user = found
        if not bounds.admit(session, user):
            uow.auth_sessions.end(session.id, now)
            uow.commit()
            raise AuthenticationError("session: expired; please sign in again")
        uow.auth_sessions.touch(session.id, now)
        return found

    def logout(self, principal: Principal) -> None:
        """End the principal's session on the server."""
        with self.uow() as uow:
            uow.auth_sessions.end(principal.session_id, self.clock.now())
            uow.audit.append(
                self.entry(principal, "user.logout", AuditAction.EXECUTE, Target("Session"))
            )
            uow.commit()
