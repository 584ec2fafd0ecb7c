"""Signing in and out, and choosing the language.

The sign-in and language forms are posted before there is a session, so they carry the
browser's own form token (double submit) and must come from this site: nobody can sign a
browser into someone else's account, or switch its language, from another site.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from mesoscreen.domain.access import AuthenticationError, Role, TooManyAttemptsError
from mesoscreen.domain.errors import InputError
from mesoscreen.entrypoints.web import cookies
from mesoscreen.entrypoints.web.i18n import language_named
from mesoscreen.entrypoints.web.kit import (
    Form,
    PageKit,
    SignInRequiredError,
    local_path,
    redirect,
)
from mesoscreen.services.authentication import Authenticated


def home_of(role: Role) -> str:
    """Where a role starts: the day's work, but admins see no patient data, so they start
    with the users."""
    return "/admin/users" if role is Role.ADMIN else "/today"


def add_auth_pages(router: APIRouter, kit: PageKit) -> None:
    """Register the sign-in, sign-out and language routes on ``router``."""
    services = kit.services

    @router.get("/", response_model=None)
    def home(request: Request) -> Response:
        return kit.page(request, lambda a: redirect(home_of(a.principal.role)))

    @router.get("/signin", response_model=None)
    def signin_form(request: Request, back: str | None = Query(None, alias="next"),
                    kept: str | None = None) -> Response:  # fmt: skip
        return kit.render(request, "signin.html", next=local_path(back, ""), kept=kept == "1")

    @router.post("/session/refresh", response_model=None)
    async def refresh_session(request: Request) -> Response:
        """Stay signed in: checking the session restarts its idle time (the page's timer too);
        answers how long the session may now stay idle."""

        def page(a: Authenticated, _form: Form) -> Response:
            idle = int(services.authentication.policy.idle.total_seconds())
            return JSONResponse({"idle_seconds": idle}, headers={"Cache-Control": "no-store"})

        return await kit.form_page(request, page)

    @router.post("/signin", response_model=None)
    async def signin(request: Request) -> Response:
        form = await kit.anonymous_form(request)
        if isinstance(form, Response):
            return form
        t = kit.words(request)
        if not kit.anonymous_form_accepted(request, form):
            return kit.error(request, None, 403, t["csrf_refused"])
        source = request.client.host if request.client else None
        username, password = form.get("username", ""), form.get("password", "")
        try:
            # Argon2, in a bounded worker thread: never on the event loop.
            signed_in = await kit.heavy_work.run(
                services.authentication.login, username, password, "cookie", source
            )
        except TooManyAttemptsError as throttled:
            response = kit.render(request, "signin.html", status=429, error=t["too_many"])
            if throttled.retry_after_seconds:
                response.headers["Retry-After"] = str(throttled.retry_after_seconds)
            return response
        except (AuthenticationError, InputError):
            return kit.render(request, "signin.html", status=401, error=t["bad_signin"])
        secure = kit.secure(request)
        target = local_path(form.get("next"), home_of(signed_in.principal.role))
        signed_in_response = redirect(target)
        lifetime = int(services.authentication.policy.absolute.total_seconds())
        for name, value, max_age in (
            (cookies.SESSION, signed_in.token, lifetime),
            (cookies.CSRF, signed_in.csrf_token, lifetime),
            # A new form token with the new session: one seen before sign-in is not reused.
            (cookies.FORM_TOKEN, secrets.token_urlsafe(32), cookies.ONE_YEAR_S),
        ):
            cookies.set_cookie(signed_in_response, name, value, secure, max_age)
        return signed_in_response

    @router.post("/signout", response_model=None)
    async def signout(request: Request) -> Response:
        def page(a: Authenticated, _form: Form) -> Response:
            services.authentication.logout(a.principal)
            response = redirect("/signin")
            secure = kit.secure(request)
            for name in (cookies.SESSION, cookies.CSRF):
                cookies.delete_cookie(response, name, secure)
            return response

        return await kit.form_page(request, page)

    @router.post("/language", response_model=None)
    async def choose_language(request: Request) -> Response:
        """Remember the language for this browser and, when signed in, for this user in it."""
        form = await kit.anonymous_form(request)
        if isinstance(form, Response):
            return form
        if not kit.anonymous_form_accepted(request, form):
            return kit.error(request, None, 403, kit.words(request)["csrf_refused"])
        chosen = language_named(form.get("language"))
        response = redirect(local_path(form.get("next"), "/"))
        if chosen is None:
            return response
        secure = kit.secure(request)
        names = [cookies.LANGUAGE]
        try:
            user_id = (await run_in_threadpool(kit.session, request)).principal.user_id
            names.append(cookies.personal_language_cookie(user_id))
        except SignInRequiredError:
            pass
        for name in names:
            cookies.set_cookie(response, name, chosen.value, secure, cookies.ONE_YEAR_S, "lax")
        return response
