"""Fakes for the ports: a frozen clock and an in-memory unit of work, for service tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from mesoscreen.domain.access import UsernameUnavailableError
from mesoscreen.domain.audit import AuditEntry
from mesoscreen.domain.errors import DuplicateRequestError, NotFoundError
from mesoscreen.domain.names import name_search_key
from mesoscreen.domain.records import (
    AuthSession,
    Clinic,
    LiveSessionBounds,
    LoginThrottle,
    Page,
    Patient,
    StaleVersionError,
    User,
)
from mesoscreen.services.audit_chain import GENESIS_HASH, chain
from mesoscreen.services.ports import AuditReadScope, RecordRead, StoredAuditEntry
from mesoscreen.services.recording import read_each

R = TypeVar("R")


class FrozenClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The frozen time."""
        return self.current

    def today(self) -> date:
        """The frozen date."""
        return self.current.date()

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self.current += delta


class FakeHasher:
    """A reversible 'hash' that is fast; for service tests only."""

    def hash(self, password: str) -> str:
        """The password, tagged."""
        return f"fake${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether the tagged password matches."""
        return password_hash == f"fake${password}"


class FakeRecords(Generic[R]):
    """Records of one kind in a dict."""

    def __init__(self, rows: dict[str, Any], kind: str) -> None:
        self.rows = rows
        self.kind = kind

    def add(self, record: R) -> None:
        """Store a new record."""
        self.rows[record.id] = record  # type: ignore[attr-defined]

    def get(self, record_id: str, clinic_ids: Collection[str]) -> R:
        """The record if in ``clinic_ids``."""
        record = self.rows.get(record_id)
        if record is None or record.clinic_id not in clinic_ids:
            raise NotFoundError(f"{self.kind} '{record_id}': not found")
        return record  # type: ignore[no-any-return]

    def save(self, record: R, expected_version: int) -> None:
        """Overwrite if the stored version matches."""
        if self.rows[record.id].version != expected_version:  # type: ignore[attr-defined]
            raise StaleVersionError(f"{self.kind}: stale")
        self.rows[record.id] = record  # type: ignore[attr-defined]

    def page(
        self, clinic_ids: Collection[str], where: Mapping[str, str], offset: int, limit: int
    ) -> Page[R]:
        """Matching records in insertion order."""
        found = [
            r
            for r in self.rows.values()
            if r.clinic_id in clinic_ids and all(getattr(r, k) == v for k, v in where.items())
        ]
        return Page(tuple(found[offset : offset + limit]), offset, limit, len(found))

    def latest(
        self,
        clinic_ids: Collection[str],
        where: Mapping[str, str],
        *,
        by: tuple[str, ...] = ("created_at",),
        signed: bool = False,
        current: bool = False,
    ) -> R | None:
        """The last matching record by ``by`` then id, signed and unreplaced as asked."""
        found = [
            r
            for r in self.page(clinic_ids, where, 0, len(self.rows) + 1).items
            if (not signed or getattr(r, "signed_at", None) is not None)
            and (not current or not self.replaced(r.id))  # type: ignore[attr-defined]
        ]
        key = lambda r: (*(getattr(r, c) for c in by), r.id)  # noqa: E731
        return max(found, key=key, default=None)

    def replaced(self, record_id: str) -> bool:
        """Whether any record replaces ``record_id``."""
        return any(getattr(r, "replaces_id", None) == record_id for r in self.rows.values())

    def get_with_replaced(self, record_id: str, clinic_ids: Collection[str]) -> tuple[Any, bool]:
        """The record and whether any record replaces it."""
        record = self.get(record_id, clinic_ids)
        return record, self.replaced(record_id)

    def replaced_among(self, record_ids: Collection[str]) -> frozenset[str]:
        """Those of ``record_ids`` that a record replaces."""
        named = {getattr(r, "replaces_id", None) for r in self.rows.values()}
        return frozenset(i for i in record_ids if i in named)

    def search(
        self, clinic_ids: Collection[str], name: str | None, offset: int, limit: int
    ) -> Page[Patient]:
        """Patients whose folded names contain every folded word of ``name``."""
        words = name_search_key(name or "").split()
        found = [
            p
            for p in self.rows.values()
            if p.clinic_id in clinic_ids
            and all(w in name_search_key(f"{p.family_name} {p.given_name}") for w in words)
        ]
        return Page(tuple(found[offset : offset + limit]), offset, limit, len(found))


class FakeStore:
    """Everything a fake unit of work keeps, shared between units of work."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Any]] = {}
        self.throttles: dict[str, LoginThrottle] = {}
        self.audit: list[StoredAuditEntry] = []

    def table(self, name: str) -> dict[str, Any]:
        """The rows of ``name``."""
        return self.tables.setdefault(name, {})


class _Clinics:
    def __init__(self, rows: dict[str, Clinic]) -> None:
        self.rows = rows

    def add(self, clinic: Clinic) -> None:
        self.rows[clinic.id] = clinic

    def list(self, clinic_ids: Collection[str] | None) -> list[Clinic]:
        return [c for c in self.rows.values() if clinic_ids is None or c.id in clinic_ids]


class _Users:
    def __init__(self, rows: dict[str, User]) -> None:
        self.rows = rows

    def add(self, user: User) -> None:
        if self.by_username(user.username):
            raise UsernameUnavailableError
        self.rows[user.id] = user

    def get(self, user_id: str) -> User:
        if user_id not in self.rows:
            raise NotFoundError(f"user '{user_id}': not found")
        return self.rows[user_id]

    def by_username(self, username: str) -> User | None:
        return next((u for u in self.rows.values() if u.username == username), None)

    def save(self, user: User, expected_version: int) -> None:
        if self.rows[user.id].version != expected_version:
            raise StaleVersionError("user: stale")
        self.rows[user.id] = user

    def shown_names(self, user_ids: Collection[str]) -> dict[str, str]:
        return {i: self.rows[i].shown_name for i in user_ids if i in self.rows}

    def in_clinics(self, clinic_ids: Collection[str], offset: int, limit: int) -> Page[User]:
        found = [u for u in self.rows.values() if u.clinic_ids & set(clinic_ids)]
        return Page(tuple(found[offset : offset + limit]), offset, limit, len(found))

    def count(self) -> int:
        return len(self.rows)


class _Sessions:
    def __init__(self, rows: dict[str, AuthSession], users: _Users) -> None:
        self.rows = rows
        self.users = users

    def add(self, session: AuthSession) -> None:
        self.rows[session.id] = session

    def get(self, session_id: str) -> AuthSession | None:
        return self.rows.get(session_id)

    def get_with_user(self, session_id: str) -> tuple[AuthSession, User] | None:
        session = self.rows.get(session_id)
        user = self.users.rows.get(session.user_id) if session is not None else None
        return (session, user) if session is not None and user is not None else None

    def touch(self, session_id: str, seen_at: datetime) -> None:
        self.rows[session_id] = dataclasses.replace(self.rows[session_id], last_seen_at=seen_at)

    def touch_if_live(
        self, session_id: str, seen_at: datetime, bounds: LiveSessionBounds
    ) -> tuple[AuthSession, User] | None:
        found = self.get_with_user(session_id)
        if found is None or not bounds.admit(*found):
            return None
        self.touch(session_id, seen_at)
        return found

    def end(self, session_id: str, ended_at: datetime) -> None:
        if self.rows[session_id].ended_at is None:
            self.rows[session_id] = dataclasses.replace(self.rows[session_id], ended_at=ended_at)

    def end_all_for(self, user_id: str, ended_at: datetime) -> int:
        open_ids = [s.id for s in self.rows.values() if s.user_id == user_id and s.ended_at is None]
        for session_id in open_ids:
            self.end(session_id, ended_at)
        return len(open_ids)


class _Throttles:
    def __init__(self, rows: dict[str, LoginThrottle]) -> None:
        self.rows = rows

    def get(self, username: str) -> LoginThrottle | None:
        return self.rows.get(username)

    def record_failure(self, username: str, at: datetime) -> LoginThrottle:
        old = self.rows.get(username)
        new = LoginThrottle(
            username, (old.failures if old else 0) + 1, at, bool(old and old.locked)
        )
        self.rows[username] = new
        return new

    def lock(self, username: str) -> None:
        self.rows[username] = dataclasses.replace(self.rows[username], locked=True)

    def clear(self, username: str) -> None:
        self.rows.pop(username, None)


class _Audit:
    def __init__(self) -> None:
        self.pending: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> None:
        self.pending.append(entry)


class _NoAudit(_Audit):
    """A unit of work without a transaction takes no audit entry."""

    def append(self, entry: AuditEntry) -> None:
        raise RuntimeError(f"{entry.event_type}: no audit entry without a transaction")


class _Trail:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def select(
        self, scope: AuditReadScope, since: datetime | None, until: datetime | None
    ) -> Iterator[StoredAuditEntry]:
        return iter(
            [
                s
                for s in self.store.audit
                if (scope.everything or s.entry.clinic_ids() & scope.clinic_ids)
                and (since is None or s.entry.recorded_at >= since)
                and (until is None or s.entry.recorded_at < until)
            ]
        )

    def page(
        self,
        scope: AuditReadScope,
        since: datetime | None,
        until: datetime | None,
        offset: int,
        limit: int,
        newest_first: bool = False,
        patient_id: str | None = None,
        actor_id: str | None = None,
        event: str | None = None,
    ) -> Page[StoredAuditEntry]:
        found = [
            s
            for s in self.select(scope, since, until)
            if (patient_id is None or s.entry.patient_id == patient_id)
            and (actor_id is None or s.entry.actor_id == actor_id)
            and (event is None or f"{s.entry.event_type}.".startswith(f"{event}."))
        ]
        if newest_first:
            found.reverse()
        return Page(tuple(found[offset : offset + limit]), offset, limit, len(found))

    def entries(self) -> Iterator[StoredAuditEntry]:
        return iter(list(self.store.audit))

    def head(self) -> tuple[int, str]:
        return (
            (self.store.audit[-1].seq, self.store.audit[-1].hash)
            if self.store.audit
            else (
                0,
                GENESIS_HASH,
            )
        )


class _IdempotencyKeys:
    """Idempotency keys in a dict (the fake store is single-threaded: no races)."""

    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def find(self, user_id: str, key: str) -> tuple[str, str] | None:
        found = self.rows.get((user_id, key))
        return (found[0], found[1]) if found is not None else None

    def remember(
        self, user_id: str, key: str, request_hash: str, record_id: str, at: datetime
    ) -> None:
        self.rows[(user_id, key)] = (request_hash, record_id, at)


class _FormKeys:
    """One-use form keys in a dict; a second claim of a key fails as the database's does."""

    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def find(self, clinic_ids: Collection[str], form: str, key: str) -> str | None:
        for clinic_id in clinic_ids:
            found = self.rows.get((clinic_id, form, key))
            if found is not None:
                return str(found[0])
        return None

    def claim(self, clinic_id: str, form: str, key: str, record_id: str, at: datetime) -> None:
        if (clinic_id, form, key) in self.rows:
            raise DuplicateRequestError(f"form '{form}': this form was already submitted")
        self.rows[(clinic_id, form, key)] = (record_id, at)


class _KeptForms:
    """Kept forms in a dict."""

    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def keep(
        self, row_key: str, page: str, sealed: str, kept_at: datetime, expires_at: datetime
    ) -> None:
        for key in [k for k, row in self.rows.items() if row[2] <= kept_at]:
            del self.rows[key]
        self.rows[row_key] = (page, sealed, expires_at)

    def find(self, row_key: str, now: datetime) -> tuple[str, str] | None:
        row = self.rows.get(row_key)
        return (row[0], row[1]) if row is not None and row[2] > now else None

    def forget(self, row_key: str) -> None:
        self.rows.pop(row_key, None)


class _SourceThrottles:
    """Failed sign-ins per client address in a dict."""

    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def get(self, source: str) -> tuple[int, datetime] | None:
        found = self.rows.get(source)
        return (found[0], found[1]) if found is not None else None

    def record_failure(self, source: str, at: datetime, stale_before: datetime) -> None:
        failures, started = self.rows.get(source, (0, at))
        if started <= stale_before:
            failures, started = 0, at
        self.rows[source] = (failures + 1, started)


class _PhotoContents:
    """Photo bytes in a dict."""

    def __init__(self, rows: dict[str, bytes]) -> None:
        self.rows = rows

    def add(self, photo_id: str, data: bytes) -> None:
        self.rows[photo_id] = data

    def get(self, photo_id: str) -> bytes:
        if photo_id not in self.rows:
            raise NotFoundError(f"photo '{photo_id}': not found")
        return self.rows[photo_id]


class FakeUnitOfWork:
    """An in-memory unit of work: changes are applied to a copy and kept only on commit
    (made ``alone``, kept however the block ends, as statements that each commit)."""

    def __init__(self, store: FakeStore, alone: bool = False) -> None:
        self.store = store
        self.alone = alone

    def __enter__(self) -> Self:
        """Begin: work on copies of every table."""
        self._copy = {name: dict(rows) for name, rows in self.store.tables.items()}
        self._throttles = dict(self.store.throttles)
        table = self._copy.setdefault
        self.clinics = _Clinics(table("clinics", {}))
        self.users = _Users(table("users", {}))
        self.auth_sessions = _Sessions(table("auth_sessions", {}), self.users)
        self.throttles = _Throttles(self._throttles)
        self.patients = FakeRecords[Patient](table("patients", {}), "patient")
        self.screenings = FakeRecords[Any](table("screenings", {}), "screening")
        self.action_completions = FakeRecords[Any](table("actions", {}), "action completion")
        self.plans = FakeRecords[Any](table("plans", {}), "plan")
        self.treatment_sessions = FakeRecords[Any](table("sessions", {}), "treatment session")
        self.adverse_events = FakeRecords[Any](table("events", {}), "adverse event")
        self.consents = FakeRecords[Any](table("consents", {}), "consent")
        self.consent_withdrawals = FakeRecords[Any](table("withdrawals", {}), "withdrawal")
        self.photos = FakeRecords[Any](table("photos", {}), "photo")
        self.photo_contents = _PhotoContents(table("photo_contents", {}))
        self.outcome_measures = FakeRecords[Any](table("outcomes", {}), "outcome measure")
        self.idempotency_keys = _IdempotencyKeys(table("idempotency_keys", {}))
        self.form_keys = _FormKeys(table("form_keys", {}))
        self.kept_forms = _KeptForms(table("kept_forms", {}))
        self.record_voids = FakeRecords[Any](table("record_voids", {}), "void")
        self.source_throttles = _SourceThrottles(table("signin_source_failures", {}))
        self.audit = _NoAudit() if self.alone else _Audit()
        self.audit_trail = _Trail(self.store)
        self.committed = False
        return self

    def read_together(
        self, clinic_ids: Collection[str], reads: Sequence[RecordRead]
    ) -> list[tuple[Any, ...]]:
        """What each of ``reads`` finds, one read after another."""
        return read_each(self, clinic_ids, reads)  # type: ignore[arg-type]

    def commit(self) -> None:
        """Keep the copies and chain the audit entries."""
        self.store.tables = self._copy
        self.store.throttles = self._throttles
        head = _Trail(self.store).head()
        self.store.audit.extend(chain(head[0], head[1], self.audit.pending))
        self.audit.pending = []
        self.committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Forget uncommitted changes (alone: keep them)."""
        if self.alone:
            self.commit()


class FakeUnitOfWorkFactory:
    """Makes fake units of work over one shared store."""

    def __init__(self) -> None:
        self.store = FakeStore()

    def __call__(self) -> FakeUnitOfWork:
        """A new fake unit of work."""
        return FakeUnitOfWork(self.store)

    def without_transaction(self) -> FakeUnitOfWork:
        """A new fake unit of work whose changes are kept however it ends."""
        return FakeUnitOfWork(self.store, alone=True)
