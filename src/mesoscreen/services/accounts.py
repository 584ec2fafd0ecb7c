"""Accounts and clinics: the first admin, clinics, users, roles, disabling and unlocking.

No account exists on a fresh install; the first admin comes from the command
line. Disabling a user ends all of that user's sessions at once, and a changed
role or clinic list applies to the very next request.

An admin acts only within the clinics they run: they see a user's clinics among their own
(and only whether there are others), add and remove those, and change what holds in every
clinic of the user (the role, the disabled state, the sign-in lock) only when they run all
of the user's clinics. No admin changes their own role or disables themselves: granting
oneself a clinical role would open patient records, so it needs another admin. The pages,
the API and the command line all go through these use cases.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from mesoscreen.domain.access import (
    Permission,
    Principal,
    Role,
    UsernameUnavailableError,
    check_password_strength,
)
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from mesoscreen.domain.names import normalise_name
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import Clinic, Page, User
from mesoscreen.services.ports import Clock, PasswordHasher, UnitOfWork, UnitOfWorkFactory
from mesoscreen.services.recording import RecordsUseCases, Target, page_bounds

MAX_DISPLAY_NAME = 200


def checked_display_name(name: str) -> str:
    """A display name in NFC without surrounding spaces; InputError when too long."""
    name = normalise_name(name)
    if len(name) > MAX_DISPLAY_NAME or any(c in name for c in "\r\n\t"):
        raise InputError(
            f"user 'display_name': expected at most {MAX_DISPLAY_NAME} characters on one line "
            f"(got {len(name)} characters)",
            problems=problem(Reason.TOO_LONG, "display_name", most=MAX_DISPLAY_NAME, got=len(name)),
        )
    return name


def _locked(uow: UnitOfWork, username: str) -> bool:
    """Whether failed sign-ins locked ``username`` (until an admin unlocks it)."""
    throttle = uow.throttles.get(username)
    return throttle is not None and throttle.locked


def _user_target(user: User, principal: Principal | None = None) -> Target:
    """An account as an audited target: it concerns the user's clinics (those the admin
    shares with them, so that another clinic's admin never reads of it)."""
    shared = user.clinic_ids & principal.clinic_ids if principal else user.clinic_ids
    return Target("User", user.id, clinics=shared)


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as one admin sees it: its clinics among the admin's own, no password hash,
    and whether it also works in clinics the admin does not run (never which)."""

    id: str
    username: str
    role: Role
    clinic_ids: frozenset[str]
    disabled: bool
    created_at: datetime
    version: int
    in_other_clinics: bool
    display_name: str = ""
    locked: bool = False

    @property
    def shown_name(self) -> str:
        """The display name, or the username while none is set."""
        return self.display_name or self.username

    @classmethod
    def of(cls, user: User, principal: Principal, locked: bool = False) -> AccountView:
        """``user`` as ``principal`` may see it (``locked``: by failed sign-ins)."""
        return cls(
            id=user.id,
            username=user.username,
            role=user.role,
            clinic_ids=user.clinic_ids & principal.clinic_ids,
            disabled=user.disabled,
            created_at=user.created_at,
            version=user.version,
            in_other_clinics=not user.clinic_ids <= principal.clinic_ids,
            display_name=user.display_name,
            locked=locked,
        )


class Accounts(RecordsUseCases):
    """Clinic and user administration."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, hasher: PasswordHasher) -> None:
        super().__init__(uow, clock)
        self.hasher = hasher

    def _new_user(
        self,
        uow: UnitOfWork,
        username: str,
        password: str,
        role: Role,
        clinic_ids: Collection[str],
        display_name: str = "",
    ) -> User:
        """A new account, checked; the same refusal wherever a taken username is in use."""
        username = normalise_name(username)
        if not username or len(username) > 150 or any(c.isspace() for c in username):
            raise InputError(
                "username: expected 1 to 150 characters without spaces "
                f"(got {len(username)} characters)",
                problems=problem(
                    Reason.OUT_OF_RANGE, "username", low=1, high=150, got=len(username), unit=""
                ),
            )
        check_password_strength(password, username)
        if uow.users.by_username(username) is not None:
            raise UsernameUnavailableError
        return User(
            id=str(uuid.uuid4()),
            username=username,
            role=role,
            clinic_ids=frozenset(clinic_ids),
            password_hash=self.hasher.hash(password),
            disabled=False,
            created_at=self.clock.now(),
            display_name=checked_display_name(display_name),
        )

    @staticmethod
    def _clinic_ids_by_name(uow: UnitOfWork, names: Collection[str]) -> set[str]:
        clinics = {c.name: c.id for c in uow.clinics.list(None)}
        names = {normalise_name(n) for n in names}
        missing = sorted(names - set(clinics))
        if missing:
            raise NotFoundError(f"clinic '{missing[0]}': not found")
        return {clinics[n] for n in names}

    def create_admin_locally(
        self, username: str, password: str, clinic_names: Collection[str]
    ) -> User:
        """An admin created from the command line on the server (how the first admin is made)."""
        target = Target("User")
        with self.transaction(None, "user.create", AuditAction.CREATE, target) as uow:
            clinic_ids = self._clinic_ids_by_name(uow, clinic_names)
            user = self._new_user(uow, username, password, Role.ADMIN, clinic_ids)
            uow.users.add(user)
            uow.audit.append(
                self.entry(
                    None,
                    "user.create",
                    AuditAction.CREATE,
                    _user_target(user),
                    detail={"via": "cli"},
                )
            )
            uow.commit()
            return user

    def create_clinic_locally(self, name: str) -> Clinic:
        """A clinic created from the command line on the server."""
        with self.transaction(
            None, "clinic.create", AuditAction.CREATE, Target("Organization")
        ) as uow:
            clinic = self._add_clinic(uow, name)
            uow.audit.append(
                self.entry(
                    None,
                    "clinic.create",
                    AuditAction.CREATE,
                    Target("Organization", clinic.id, clinic.id),
                    detail={"via": "cli"},
                )
            )
            uow.commit()
            return clinic

    def _add_clinic(self, uow: UnitOfWork, name: str) -> Clinic:
        name = normalise_name(name)
        if not name or len(name) > 200:
            raise InputError(
                f"clinic name: expected 1 to 200 characters (got {len(name)})",
                problems=problem(Reason.TOO_LONG, "clinic_name", most=200, got=len(name)),
            )
        if any(c.name == name for c in uow.clinics.list(None)):
            raise ConflictError(
                f"clinic '{name}': a clinic of that name exists",
                problems=problem(Reason.CLINIC_NAME_TAKEN, "clinic_name"),
            )
        clinic = Clinic(str(uuid.uuid4()), name, self.clock.now())
        uow.clinics.add(clinic)
        return clinic

    def create_clinic(self, principal: Principal, name: str) -> Clinic:
        """A new clinic; the admin creating it becomes a member."""
        target = Target("Organization")
        with self.transaction(principal, "clinic.create", AuditAction.CREATE, target) as uow:
            self.require(principal, Permission.CLINIC_MANAGE)
            clinic = self._add_clinic(uow, name)
            admin = uow.users.get(principal.user_id)
            joined = replace(
                admin, clinic_ids=admin.clinic_ids | {clinic.id}, version=admin.version + 1
            )
            uow.users.save(joined, admin.version)
            uow.audit.append(
                self.entry(
                    principal,
                    "clinic.create",
                    AuditAction.CREATE,
                    Target("Organization", clinic.id, clinic.id),
                )
            )
            uow.commit()
            return clinic

    def clinics(self, principal: Principal) -> list[Clinic]:
        """The clinics the caller belongs to."""
        with self.uow() as uow:
            return uow.clinics.list(principal.clinic_ids)

    def create_user(
        self,
        principal: Principal,
        username: str,
        password: str,
        role: Role,
        clinic_ids: Collection[str],
        display_name: str = "",
    ) -> User:
        """A new account in some of the admin's clinics."""
        with self.transaction(principal, "user.create", AuditAction.CREATE, Target("User")) as uow:
            self.require(principal, Permission.USER_MANAGE)
            if not clinic_ids:
                raise InputError(
                    "user 'clinic_ids': expected at least one clinic (got none)",
                    problems=problem(Reason.NO_CLINIC, "clinic_ids"),
                )
            for clinic_id in clinic_ids:
                self.require_clinic(principal, clinic_id)
            user = self._new_user(uow, username, password, role, clinic_ids, display_name)
            uow.users.add(user)
            uow.audit.append(
                self.entry(
                    principal, "user.create", AuditAction.CREATE, _user_target(user, principal)
                )
            )
            uow.commit()
            return user

    @staticmethod
    def _visible_user(uow: UnitOfWork, principal: Principal, user_id: str) -> User:
        """The user if they share a clinic with the admin; NotFoundError otherwise."""
        user = uow.users.get(user_id)
        if not (user.clinic_ids & principal.clinic_ids):
            raise NotFoundError(f"user '{user_id}': not found")
        return user

    @staticmethod
    def _require_every_clinic(principal: Principal, user: User, change: str) -> None:
        """PermissionDeniedError unless the admin runs every clinic ``user`` works in.

        A role, a disabled account and a lock hold in every clinic of the user, so only an
        admin of all of them may change them. The refusal says the user works elsewhere,
        never where.
        """
        if not user.clinic_ids <= principal.clinic_ids:
            raise PermissionDeniedError(
                f"user '{user.id}': {change} needs an admin of every clinic the user works in "
                "(the user also works in a clinic you do not run)",
                problems=problem(Reason.OTHER_CLINICS_USER),
            )

    @staticmethod
    def _refuse_own_change(principal: Principal, user: User, role: Role, disabled: bool) -> None:
        """PermissionDeniedError for an admin changing their own role or disabling themselves."""
        if user.id != principal.user_id:
            return
        if role != user.role:
            # Above all a clinical role: it would open patient records to the admin.
            raise PermissionDeniedError(
                f"user '{user.id}': an admin cannot change their own role (another admin must)",
                problems=problem(Reason.OWN_ROLE, "role"),
            )
        if disabled and not user.disabled:
            raise PermissionDeniedError(
                f"user '{user.id}': an admin cannot disable their own account (another admin must)",
                problems=problem(Reason.OWN_ACCOUNT_DISABLED),
            )

    def get_user(self, principal: Principal, user_id: str) -> AccountView:
        """A user sharing a clinic with the admin, as that admin sees them."""
        with self.transaction(
            principal, "user.read", AuditAction.READ, Target("User", user_id)
        ) as uow:
            self.require(principal, Permission.USER_MANAGE)
            user = self._visible_user(uow, principal, user_id)
            uow.audit.append(
                self.entry(principal, "user.read", AuditAction.READ, _user_target(user, principal))
            )
            uow.commit()
            return AccountView.of(user, principal, _locked(uow, user.username))

    def list_users(
        self, principal: Principal, offset: int = 0, limit: int | None = None
    ) -> Page[AccountView]:
        """Users of the admin's clinics, as that admin sees them."""
        with self.transaction(principal, "user.search", AuditAction.EXECUTE, Target("User")) as uow:
            self.require(principal, Permission.USER_MANAGE)
            page = uow.users.in_clinics(principal.clinic_ids, *page_bounds(offset, limit))
            uow.audit.append(
                self.entry(principal, "user.search", AuditAction.EXECUTE, Target("User"))
            )
            uow.commit()
            views = tuple(
                AccountView.of(user, principal, _locked(uow, user.username)) for user in page.items
            )
            return Page(views, page.offset, page.limit, page.total)

    def update_user(
        self,
        principal: Principal,
        user_id: str,
        expected_version: int,
        role: Role,
        clinic_ids: Collection[str],
        disabled: bool,
        display_name: str | None = None,
    ) -> AccountView:
        """Change role, clinics, disabled state or display name (None: kept); disabling ends
        every session of the user.

        ``clinic_ids`` are the user's clinics among the admin's own: the admin adds and
        removes those, and the user's other clinics stay as they are. A change of role or
        of the disabled state needs an admin of every clinic of the user, and never applies
        to the admin's own account.
        """
        target = Target("User", user_id)
        with self.transaction(principal, "user.update", AuditAction.UPDATE, target) as uow:
            self.require(principal, Permission.USER_MANAGE)
            user = self._visible_user(uow, principal, user_id)
            for clinic_id in clinic_ids:
                self.require_clinic(principal, clinic_id)
            self._refuse_own_change(principal, user, role, disabled)
            if role != user.role:
                self._require_every_clinic(principal, user, "changing the role")
            if disabled != user.disabled:
                self._require_every_clinic(principal, user, "disabling or enabling the account")
            kept_elsewhere = user.clinic_ids - principal.clinic_ids
            new_clinics = kept_elsewhere | frozenset(clinic_ids)
            if not new_clinics:
                raise InputError(
                    "user 'clinic_ids': expected at least one clinic (got none)",
                    problems=problem(Reason.NO_CLINIC, "clinic_ids"),
                )
            updated = replace(
                user,
                role=role,
                clinic_ids=new_clinics,
                disabled=disabled,
                version=expected_version + 1,
                display_name=user.display_name
                if display_name is None
                else checked_display_name(display_name),
            )
            uow.users.save(updated, expected_version)
            ended = uow.auth_sessions.end_all_for(user.id, self.clock.now()) if disabled else 0
            concerned = Target(
                "User", user.id, clinics=(user.clinic_ids | new_clinics) & principal.clinic_ids
            )
            uow.audit.append(
                self.entry(
                    principal,
                    "user.update",
                    AuditAction.UPDATE,
                    concerned,
                    detail={"sessions_ended": str(ended)},
                )
            )
            uow.commit()
            return AccountView.of(updated, principal)

    def shown_names(self, principal: Principal, user_ids: Collection[str]) -> dict[str, str]:
        """The names the people behind ``user_ids`` are shown by, for any signed-in user.

        A name is not patient data: records and the audit trail name who acted. Ids the
        caller could not have read from a record of their clinics give no more than a name.
        """
        wanted = {i for i in user_ids if i}
        if not wanted:
            return {}
        with self.uow() as uow:
            return uow.users.shown_names(wanted)

    def unlock_user(self, principal: Principal, user_id: str) -> AccountView:
        """Clear the failed sign-ins that locked the user (an admin of all their clinics)."""
        target = Target("User", user_id)
        with self.transaction(principal, "user.unlock", AuditAction.UPDATE, target) as uow:
            self.require(principal, Permission.USER_MANAGE)
            user = self._visible_user(uow, principal, user_id)
            self._require_every_clinic(principal, user, "unlocking the account")
            uow.throttles.clear(user.username)
            uow.audit.append(
                self.entry(
                    principal, "user.unlock", AuditAction.UPDATE, _user_target(user, principal)
                )
            )
            uow.commit()
            return AccountView.of(user, principal)
