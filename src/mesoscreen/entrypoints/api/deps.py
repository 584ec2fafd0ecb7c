"""Dependencies of the routes as ``Annotated`` aliases: services, the principal, If-Match.

Those that only read the request are ``async``: FastAPI runs a plain ``def`` dependency in
its thread pool, a hop that costs more than the work (the session check, which reads the
database, stays a plain ``def``)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request, Response

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import AuthenticationError, Principal
from mesoscreen.domain.errors import InputError
from mesoscreen.entrypoints.api.problems import CsrfError, PreconditionRequiredError
from mesoscreen.entrypoints.heavy_work import HeavyWork
from mesoscreen.entrypoints.web import cookies
from mesoscreen.services.authentication import Authenticated, csrf_matches

SESSION_COOKIE = cookies.cookie_name(cookies.SESSION, secure=False)
SECURE_SESSION_COOKIE = cookies.cookie_name(cookies.SESSION, secure=True)
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')


async def get_services(request: Request) -> Services:
    """The use cases the app was built with."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_heavy_work(request: Request) -> HeavyWork:
    """The app's bound on CPU-heavy work (photo decoding, Argon2), shared with the pages."""
    heavy_work: HeavyWork = request.app.state.heavy_work
    return heavy_work


HeavyWorkDep = Annotated[HeavyWork, Depends(get_heavy_work)]


def client_source(request: Request) -> str | None:
    """Where the request came from, for the audit trail."""
    return request.client.host if request.client else None


def authenticate(request: Request, services: ServicesDep) -> Authenticated:
    """The checked session of a bearer token or a session cookie (with CSRF on writes)."""
    header = request.headers.get("Authorization", "")
    source = client_source(request)
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("Authorization: expected 'Bearer <token>'")
        authenticated = services.authentication.authenticate(token.strip(), source)
        if authenticated.kind != "bearer":
            raise AuthenticationError("Authorization: a browser session cannot be used as a token")
        return authenticated
    cookie = request.cookies.get(SECURE_SESSION_COOKIE) or request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise AuthenticationError("session: not signed in (send a bearer token or session cookie)")
    authenticated = services.authentication.authenticate(cookie, source)
    if authenticated.kind != "cookie":
        raise AuthenticationError("session cookie: a token cannot be used as a browser session")
    if request.method not in _SAFE_METHODS and not csrf_matches(
        authenticated, request.headers.get(CSRF_HEADER)
    ):
        raise CsrfError(
            f"{CSRF_HEADER}: expected the token issued at sign-in (got none or another)"
        )
    return authenticated


async def current_principal(
    authenticated: Annotated[Authenticated, Depends(authenticate)],
) -> Principal:
    """The signed-in user the request acts for."""
    return authenticated.principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def expected_version(
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> int:
    """The version named by If-Match (``W/"3"``); 428 when missing, 422 when malformed."""
    if if_match is None:
        raise PreconditionRequiredError(
            "If-Match: required for edits (send the ETag you last read)"
        )
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise InputError(f'If-Match: expected an ETag like W/"3" (got {if_match[:20]!r})')
    return int(match.group(1))


IfMatchDep = Annotated[int, Depends(expected_version)]


def set_etag(response: Response, version: int) -> None:
    """Send the weak ETag of a record version."""
    response.headers["ETag"] = f'W/"{version}"'


def cookie_is_secure(request: Request, services: Services) -> bool:
    """Whether cookies must be Secure: the pages' rule (``cookies.secure_cookies``): as
    configured, else over TLS or whenever the client is not on this machine."""
    return cookies.secure_cookies(request, services.settings)
