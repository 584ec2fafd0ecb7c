"""Accounts and clinics: the first admin, clinics, users, roles, disabling and unlocking.

No account exists on a fresh install; the first admin comes from the command
line. Disabling a user ends all of that user's sessions at once, and a changed
role or clinic list applies to the very next request.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import replace

from mesoscreen.domain.access import Permission, Principal, Role, check_password_strength
from mesoscreen.domain.audit import AuditAction
from mesoscreen.domain.errors import ConflictError, InputError, NotFoundError
from mesoscreen.domain.records import Clinic, Page, User
from mesoscreen.services.ports import Clock, PasswordHasher, UnitOfWork, UnitOfWorkFactory
from mesoscreen.services.recording import RecordsUseCases, Target, page_bounds


def _user_target(user: User) -> Target:
    return Target("User", user.id)


class Accounts(RecordsUseCases):
    """Clinic and user administration."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, hasher: PasswordHasher) -> None:
        super().__init__(uow, clock)
        self.hasher = hasher

    def _new_user(
        self, username: str, password: str, role: Role, clinic_ids: Collection[str]
    ) -> User:
        username = username.strip()
        if not username or len(username) > 150 or any(c.isspace() for c in username):
            raise InputError(
                "username: expected 1 to 150 characters without spaces "
                f"(got {len(username)} characters)"
            )
        check_password_strength(password, username)
        return User(
            id=str(uuid.uuid4()),
            username=username,
            role=role,
            clinic_ids=frozenset(clinic_ids),
            password_hash=self.hasher.hash(password),
            disabled=False,
            created_at=self.clock.now(),
        )

    @staticmethod
    def _clinic_ids_by_name(uow: UnitOfWork, names: Collection[str]) -> set[str]:
        clinics = {c.name: c.id for c in uow.clinics.list(None)}
        missing = sorted(set(names) - set(clinics))
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
            user = self._new_user(username, password, Role.ADMIN, clinic_ids)
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
        name = name.strip()
        if not name or len(name) > 200:
            raise InputError(f"clinic name: expected 1 to 200 characters (got {len(name)})")
        if any(c.name == name for c in uow.clinics.list(None)):
            raise ConflictError(f"clinic '{name}': a clinic of that name exists")
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
    ) -> User:
        """A new account in some of the admin's clinics."""
        with self.transaction(principal, "user.create", AuditAction.CREATE, Target("User")) as uow:
            self.require(principal, Permission.USER_MANAGE)
            if not clinic_ids:
                raise InputError("user 'clinic_ids': expected at least one clinic (got none)")
            for clinic_id in clinic_ids:
                self.require_clinic(principal, clinic_id)
            user = self._new_user(username, password, role, clinic_ids)
            uow.users.add(user)
            uow.audit.append(
                self.entry(principal, "user.create", AuditAction.CREATE, _user_target(user))
            )
            uow.commit()
            return user

    def _visible_user(self, uow: UnitOfWork, principal: Principal, user_id: str) -> User:
        user = uow.users.get(user_id)
        if not (user.clinic_ids & principal.clinic_ids):
            raise NotFoundError(f"user '{user_id}': not found")
        return user

    def get_user(self, principal: Principal, user_id: str) -> User:
        """A user sharing a clinic with the admin."""
        with self.transaction(
            principal, "user.read", AuditAction.READ, Target("User", user_id)
        ) as uow:
            self.require(principal, Permission.USER_MANAGE)
            user = self._visible_user(uow, principal, user_id)
            uow.audit.append(
                self.entry(principal, "user.read", AuditAction.READ, _user_target(user))
            )
            uow.commit()
            return user

    def list_users(
        self, principal: Principal, offset: int = 0, limit: int | None = None
    ) -> Page[User]:
        """Users of the admin's clinics."""
        with self.transaction(principal, "user.search", AuditAction.EXECUTE, Target("User")) as uow:
            self.require(principal, Permission.USER_MANAGE)
            page = uow.users.in_clinics(principal.clinic_ids, *page_bounds(offset, limit))
            uow.audit.append(
                self.entry(principal, "user.search", AuditAction.EXECUTE, Target("User"))
            )
            uow.commit()
            return page

    def update_user(
        self,
        principal: Principal,
        user_id: str,
        expected_version: int,
        role: Role,
        clinic_ids: Collection[str],
        disabled: bool,
    ) -> User:
        """Change role, clinics or disabled state; disabling ends every session of the user."""
        target = Target("User", user_id)
        with self.transaction(principal, "user.update", AuditAction.UPDATE, target) as uow:
            self.require(principal, Permission.USER_MANAGE)
            user = self._visible_user(uow, principal, user_id)
            for clinic_id in set(clinic_ids) ^ set(user.clinic_ids):
                # An admin may only add or remove clinics the admin belongs to.
                self.require_clinic(principal, clinic_id)
            if not clinic_ids:
                raise InputError("user 'clinic_ids': expected at least one clinic (got none)")
            updated = replace(
                user,
                role=role,
                clinic_ids=frozenset(clinic_ids),
                disabled=disabled,
                version=expected_version + 1,
            )
            uow.users.save(updated, expected_version)
            ended = uow.auth_sessions.end_all_for(user.id, self.clock.now()) if disabled else 0
            uow.audit.append(
                self.entry(
                    principal,
                    "user.update",
                    AuditAction.UPDATE,
                    _user_target(updated),
                    detail={"sessions_ended": str(ended)},
                )
            )
            uow.commit()
            return updated

    def unlock_user(self, principal: Principal, user_id: str) -> User:
        """Clear the failed sign-ins that locked the user."""
        target = Target("User", user_id)
        with self.transaction(principal, "user.unlock", AuditAction.UPDATE, target) as uow:
            self.require(principal, Permission.USER_MANAGE)
            user = self._visible_user(uow, principal, user_id)
            uow.throttles.clear(user.username)
            uow.audit.append(
                self.entry(principal, "user.unlock", AuditAction.UPDATE, _user_target(user))
            )
            uow.commit()
            return user
