"""Sign-in and sign-out: session cookies with CSRF tokens for pages, bearer tokens for the rest.

A sign-in checks an Argon2 hash (tens of milliseconds of CPU and memory by design): it runs in
a bounded worker thread (``HeavyWork``), never on the event loop.
"""

from __future__ import annotations

from fastapi import Request, Response, status

from mesoscreen.entrypoints.api.deps import (
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    HeavyWorkDep,
    PrincipalDep,
    ServicesDep,
    client_source,
    cookie_is_secure,
)
from mesoscreen.entrypoints.api.schemas import LoginIn, SessionOut, TokenOut
from mesoscreen.entrypoints.prefix_router import PrefixRouter

router = PrefixRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/login", response_model=SessionOut)
async def login(
    body: LoginIn,
    request: Request,
    response: Response,
    services: ServicesDep,
    heavy_work: HeavyWorkDep,
) -> SessionOut:
    """Sign in for the web pages: sets an HttpOnly session cookie, returns the CSRF token."""
    signed_in = await heavy_work.run(
        services.authentication.login, body.username, body.password, "cookie",
        client_source(request),
    )  # fmt: skip
    secure = cookie_is_secure(request, services)
    response.set_cookie(
        SECURE_SESSION_COOKIE if secure else SESSION_COOKIE,
        signed_in.token,
        max_age=int(services.authentication.policy.absolute.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    principal = signed_in.principal
    return SessionOut(
        user_id=principal.user_id,
        username=principal.username,
        role=principal.role,
        clinic_ids=sorted(principal.clinic_ids),
        csrf_token=signed_in.csrf_token,
        expires_at=signed_in.expires_at,
    )


@router.post("/token", response_model=TokenOut)
async def token(
    body: LoginIn, request: Request, services: ServicesDep, heavy_work: HeavyWorkDep
) -> TokenOut:
    """Sign in an integration: a bearer token with the same lifetimes as a session."""
    signed_in = await heavy_work.run(
        services.authentication.login, body.username, body.password, "bearer",
        client_source(request),
    )  # fmt: skip
    return TokenOut(access_token=signed_in.token, expires_at=signed_in.expires_at)


@router.get("/session", response_model=SessionOut)
def session(principal: PrincipalDep) -> SessionOut:
    """Who is signed in."""
    return SessionOut(
        user_id=principal.user_id,
        username=principal.username,
        role=principal.role,
        clinic_ids=sorted(principal.clinic_ids),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    principal: PrincipalDep, request: Request, response: Response, services: ServicesDep
) -> None:
    """End the session on the server and clear the cookie."""
    services.authentication.logout(principal)
    secure = cookie_is_secure(request, services)
    response.delete_cookie(
        SECURE_SESSION_COOKIE if secure else SESSION_COOKIE,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
