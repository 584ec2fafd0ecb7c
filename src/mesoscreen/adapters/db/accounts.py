"""Accounts in storage: users with their clinic memberships, and server-side sessions."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    Select,
    String,
    any_,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from mesoscreen.adapters.db import tables
from mesoscreen.domain.access import Role, UsernameUnavailableError
from mesoscreen.domain.errors import NotFoundError
from mesoscreen.domain.records import (
    AuthSession,
    LiveSessionBounds,
    Page,
    StaleVersionError,
    User,
)

_users = tables.users
_memberships = tables.memberships
_sessions = tables.auth_sessions

# The statements every request's session check runs, built once (see repositories.py).
_CLINICS_OF = select(_memberships.c.user_id, _memberships.c.clinic_id).where(
    _memberships.c.user_id.in_(bindparam("ids", expanding=True))
)
_USER = select(_users).where(_users.c.id == bindparam("id"))
_SESSION = select(_sessions).where(_sessions.c.id == bindparam("id"))
# The session, its user and the user's clinics in one statement (one row per clinic).
_USER_COLUMNS = [column.label(f"account_{column.name}") for column in _users.c]
_SESSION_WITH_USER = (
    select(_sessions, *_USER_COLUMNS, _memberships.c.clinic_id.label("member_of"))
    .select_from(
        _sessions.join(_users, _users.c.id == _sessions.c.user_id).outerjoin(
            _memberships, _memberships.c.user_id == _users.c.id
        )
    )
    .where(_sessions.c.id == bindparam("id"))
)


@cache
def _shown_names_of(arrays: bool) -> Select[Any]:
    """The names of the users whose ids are bound as ``ids`` (pages that name who signed or
    performed a record): one array on PostgreSQL, whose statement text never changes, and an
    expanding IN on SQLite, which has no arrays (see ``repositories.in_clinics``)."""
    wanted = (
        _users.c.id == any_(bindparam("ids", type_=postgresql.ARRAY(String)))
        if arrays
        else _users.c.id.in_(bindparam("ids", expanding=True))
    )
    return select(_users.c.id, _users.c.username, _users.c.display_name).where(wanted)


_TOUCH = (
    update(_sessions)
    .where(_sessions.c.id == bindparam("session_id"))
    .values(last_seen_at=bindparam("seen_at"))
)
# LiveSessionBounds.admit in SQL: open, its user enabled, last used and created after the
# bounds (bound as values the service computed, so the limits are the policy's alone).
_TOUCH_IF_LIVE = _TOUCH.where(
    _sessions.c.ended_at.is_(None),
    _sessions.c.last_seen_at > bindparam("seen_after", type_=tables.UTCDateTime()),
    _sessions.c.created_at > bindparam("created_after", type_=tables.UTCDateTime()),
    exists()
    .where(_users.c.id == _sessions.c.user_id, _users.c.disabled == false())
    .correlate(_sessions),
)
# PostgreSQL: the same update and the read of the session as it was before (its last use
# taken from the row locked first, so the latest committed one), its user and the user's
# clinics in one statement (a data-modifying CTE). The statement is a SELECT to SQLAlchemy,
# so it is marked as a write for the unit of work (which must then commit instead of leaving
# a page's read transaction open).
_PRIOR = (
    select(_sessions.c.id, _sessions.c.last_seen_at)
    .where(_sessions.c.id == bindparam("session_id"))
    .with_for_update()
    .subquery("prior")
)
_TOUCHED = (
    _TOUCH_IF_LIVE.where(_sessions.c.id == _PRIOR.c.id)
    .returning(*(_PRIOR.c.last_seen_at if c.name == "last_seen_at" else c for c in _sessions.c))
    .cte("touched")
)
_TOUCH_IF_LIVE_WITH_USER = (
    select(_TOUCHED, *_USER_COLUMNS, _memberships.c.clinic_id.label("member_of"))
    .select_from(
        _TOUCHED.join(_users, _users.c.id == _TOUCHED.c.user_id).outerjoin(
            _memberships, _memberships.c.user_id == _users.c.id
        )
    )
    .execution_options(**{tables.WRITES: True})
)


class SqlUsers:
    """Users and the clinics each belongs to."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _clinics_of(self, user_ids: Collection[str]) -> dict[str, set[str]]:
        rows = self._connection.execute(_CLINICS_OF, {"ids": list(user_ids)})
        clinics: dict[str, set[str]] = {uid: set() for uid in user_ids}
        for user_id, clinic_id in rows:
            clinics[user_id].add(clinic_id)
        return clinics

    def _user(self, row: RowMapping, clinic_ids: Collection[str]) -> User:
        return self.user_of(dict(row), clinic_ids)

    @staticmethod
    def user_of(row: Mapping[str, Any], clinic_ids: Collection[str]) -> User:
        """The user of a ``users`` row and its clinics."""
        return User(
            id=row["id"],
            username=row["username"],
            role=Role(row["role"]),
            clinic_ids=frozenset(clinic_ids),
            password_hash=row["password_hash"],
            disabled=row["disabled"],
            created_at=row["created_at"],
            version=row["version"],
            display_name=row["display_name"],
        )

    def _write_memberships(self, user: User) -> None:
        self._connection.execute(delete(_memberships).where(_memberships.c.user_id == user.id))
        if user.clinic_ids:
            self._connection.execute(
                insert(_memberships),
                [{"user_id": user.id, "clinic_id": cid} for cid in sorted(user.clinic_ids)],
            )

    def add(self, user: User) -> None:
        """Store a new user; UsernameUnavailableError if the username is taken."""
        try:
            with self._connection.begin_nested():
                self._connection.execute(
                    insert(_users).values(
                        id=user.id,
                        username=user.username,
                        role=user.role.value,
                        password_hash=user.password_hash,
                        disabled=user.disabled,
                        created_at=user.created_at,
                        version=user.version,
                        display_name=user.display_name,
                    )
                )
        except IntegrityError:
            raise UsernameUnavailableError from None
        self._write_memberships(user)

    def get(self, user_id: str) -> User:
        """The user with ``user_id``; NotFoundError otherwise."""
        row = self._connection.execute(_USER, {"id": user_id}).mappings()
        found = row.first()
        if found is None:
            raise NotFoundError(f"user '{user_id}': not found")
        return self._user(found, self._clinics_of([user_id])[user_id])

    def by_username(self, username: str) -> User | None:
        """The user with ``username``, or None."""
        found = (
            self._connection.execute(select(_users).where(_users.c.username == username))
            .mappings()
            .first()
        )
        if found is None:
            return None
        return self._user(found, self._clinics_of([found["id"]])[found["id"]])

    def save(self, user: User, expected_version: int) -> None:
        """Overwrite the user and its memberships if the stored version is ``expected_version``."""
        result = self._connection.execute(
            update(_users)
            .where(_users.c.id == user.id, _users.c.version == expected_version)
            .values(
                role=user.role.value,
                password_hash=user.password_hash,
                disabled=user.disabled,
                version=user.version,
                display_name=user.display_name,
            )
        )
        if result.rowcount != 1:
            raise StaleVersionError(
                f"user '{user.id}': expected version {expected_version} (got a newer one)"
            )
        self._write_memberships(user)

    def in_clinics(self, clinic_ids: Collection[str], offset: int, limit: int) -> Page[User]:
        """Users belonging to any of ``clinic_ids``, by username."""
        member = select(_memberships.c.user_id).where(
            _memberships.c.clinic_id.in_(list(clinic_ids))
        )
        condition = _users.c.id.in_(member)
        total = self._connection.execute(
            select(func.count()).select_from(_users).where(condition)
        ).scalar_one()
        rows = list(
            self._connection.execute(
                select(_users)
                .where(condition)
                .order_by(_users.c.username)
                .offset(offset)
                .limit(limit)
            ).mappings()
        )
        clinics = self._clinics_of([r["id"] for r in rows])
        items = tuple(self._user(r, clinics[r["id"]]) for r in rows)
        return Page(items, offset, limit, total)

    def shown_names(self, user_ids: Collection[str]) -> dict[str, str]:
        """The name each of ``user_ids`` is shown by (display name, else username), one query."""
        statement = _shown_names_of(self._connection.dialect.name == "postgresql")
        rows = self._connection.execute(statement, {"ids": list(user_ids)})
        return {row.id: row.display_name or row.username for row in rows}

    def count(self) -> int:
        """How many accounts exist."""
        return int(self._connection.execute(select(func.count()).select_from(_users)).scalar_one())


class SqlAuthSessions:
    """Server-side sessions keyed by the SHA-256 of their token."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, session: AuthSession) -> None:
        """Store a new session."""
        self._connection.execute(
            insert(_sessions).values(
                id=session.id,
                user_id=session.user_id,
                kind=session.kind,
                csrf_hash=session.csrf_hash,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
                ended_at=session.ended_at,
                source=session.source,
            )
        )

    def get(self, session_id: str) -> AuthSession | None:
        """The session with ``session_id``, or None."""
        row = self._connection.execute(_SESSION, {"id": session_id}).mappings().first()
        return AuthSession(**row) if row is not None else None

    def get_with_user(self, session_id: str) -> tuple[AuthSession, User] | None:
        """The session with ``session_id`` and its user, read in one query, or None."""
        rows = self._connection.execute(_SESSION_WITH_USER, {"id": session_id}).mappings().all()
        return self._with_user(rows)

    @staticmethod
    def _with_user(rows: Sequence[RowMapping]) -> tuple[AuthSession, User] | None:
        """The session and its user of the rows of a joined read (one per clinic)."""
        if not rows:
            return None
        first = rows[0]
        session = AuthSession(**{c.name: first[c.name] for c in _sessions.c})
        user = SqlUsers.user_of(
            {c.name: first[f"account_{c.name}"] for c in _users.c},
            [row["member_of"] for row in rows if row["member_of"] is not None],
        )
        return session, user

    def touch(self, session_id: str, seen_at: datetime) -> None:
        """Move the idle deadline: the session was used at ``seen_at``."""
        self._connection.execute(_TOUCH, {"session_id": session_id, "seen_at": seen_at})

    def touch_if_live(
        self, session_id: str, seen_at: datetime, bounds: LiveSessionBounds
    ) -> tuple[AuthSession, User] | None:
        """The session as it was before it was touched at ``seen_at``, and its user, if it is
        live within ``bounds``; otherwise None and the session unchanged. One statement on
        PostgreSQL; on SQLite (no data-modifying CTE) the read, then the conditional update,
        in a transaction that holds the write lock from its start."""
        values = {
            "session_id": session_id,
            "seen_at": seen_at,
            "seen_after": bounds.seen_after,
            "created_after": bounds.created_after,
        }
        if self._connection.dialect.name == "postgresql":
            rows = self._connection.execute(_TOUCH_IF_LIVE_WITH_USER, values).mappings().all()
            return self._with_user(rows)
        found = self.get_with_user(session_id)
        if found is None or self._connection.execute(_TOUCH_IF_LIVE, values).rowcount != 1:
            return None
        return found

    def end(self, session_id: str, ended_at: datetime) -> None:
        """End one session (if still open)."""
        self._connection.execute(
            update(_sessions)
            .where(_sessions.c.id == session_id, _sessions.c.ended_at.is_(None))
            .values(ended_at=ended_at)
        )

    def end_all_for(self, user_id: str, ended_at: datetime) -> int:
        """End every open session of ``user_id``."""
        result = self._connection.execute(
            update(_sessions)
            .where(_sessions.c.user_id == user_id, _sessions.c.ended_at.is_(None))
            .values(ended_at=ended_at)
        )
        return int(result.rowcount)
