"""Clinics and accounts, for admins."""

from __future__ import annotations

from fastapi import Response, status

from mesoscreen.domain.records import User
from mesoscreen.entrypoints.api.deps import (
    HeavyWorkDep,
    IfMatchDep,
    PrincipalDep,
    ServicesDep,
    set_etag,
)
from mesoscreen.entrypoints.api.paging import DEFAULT_PAGE_SIZE, Limit, Offset
from mesoscreen.entrypoints.api.schemas import (
    ClinicIn,
    ClinicOut,
    PageOut,
    UserChangeIn,
    UserIn,
    UserOut,
)
from mesoscreen.entrypoints.prefix_router import PrefixRouter
from mesoscreen.services.accounts import AccountView

router = PrefixRouter(prefix="/api/v1", tags=["admin"])


def _user(user: User | AccountView) -> UserOut:
    """The account as the calling admin sees it (a new account lies within their clinics)."""
    return UserOut.of(
        user, in_other_clinics=isinstance(user, AccountView) and user.in_other_clinics
    )


@router.post("/clinics", response_model=ClinicOut, status_code=status.HTTP_201_CREATED)
def create_clinic(body: ClinicIn, principal: PrincipalDep, services: ServicesDep) -> ClinicOut:
    """Create a clinic; the admin creating it joins it."""
    return ClinicOut.of(services.accounts.create_clinic(principal, body.name))


@router.get("/clinics", response_model=list[ClinicOut])
def list_clinics(principal: PrincipalDep, services: ServicesDep) -> list[ClinicOut]:
    """The clinics the caller belongs to."""
    return [ClinicOut.of(c) for c in services.accounts.clinics(principal)]


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(
    body: UserIn,
    principal: PrincipalDep,
    services: ServicesDep,
    heavy_work: HeavyWorkDep,
    response: Response,
) -> UserOut:
    """Create an account in some of the admin's clinics."""
    # Hashing the password is Argon2: under the heavy-work bound.
    user = heavy_work.call(
        services.accounts.create_user,
        principal, body.username, body.password, body.role, body.clinic_ids,
    )  # fmt: skip
    set_etag(response, user.version)
    return _user(user)


@router.get("/users", response_model=PageOut[UserOut])
def list_users(
    principal: PrincipalDep,
    services: ServicesDep,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> PageOut[UserOut]:
    """Accounts of the admin's clinics."""
    return PageOut[UserOut].of(services.accounts.list_users(principal, offset, limit), _user)


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(
    user_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> UserOut:
    """One account."""
    user = services.accounts.get_user(principal, user_id)
    set_etag(response, user.version)
    return _user(user)


@router.put("/users/{user_id}", response_model=UserOut)
def update_user(
    user_id: str,
    body: UserChangeIn,
    version: IfMatchDep,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> UserOut:
    """Change role, clinics or disabled state; disabling ends all the user's sessions.

    ``clinic_ids`` are the user's clinics among the caller's own; the user's other clinics
    are kept. Changing the role or the disabled state needs an admin of every clinic of the
    user (403 otherwise), and an admin never changes their own role or disables themselves.
    """
    user = services.accounts.update_user(
        principal, user_id, version, body.role, body.clinic_ids, body.disabled
    )
    set_etag(response, user.version)
    return _user(user)


@router.post("/users/{user_id}/unlock", response_model=UserOut)
def unlock_user(user_id: str, principal: PrincipalDep, services: ServicesDep) -> UserOut:
    """Clear the failed sign-ins that locked the account."""
    return _user(services.accounts.unlock_user(principal, user_id))
