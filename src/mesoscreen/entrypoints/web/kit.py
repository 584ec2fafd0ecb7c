"""What every page needs: the session, the CSRF check, the language and time zone, rendering.

A page is a function of the checked session (and, for a post, of its CSRF-checked form). The
kit turns the errors a page can meet into pages: no session sends the browser to sign in, a
refused role is 403, a record outside the user's clinics is 404, a stale or signed record is
409 and bad input is 400, each with a message that is safe to show (it names fields, never
patient data). Text no database stores (a NUL character: ``domain.text``) in the path, the
query string or a posted form is refused with 422 naming the field before a page runs, and
so is a paging number past 2^31-1 that a service refuses.

A posted page runs in a worker thread, like every GET page (Starlette runs synchronous routes
in its pool), so its database work and rendering never hold the event loop; its CPU-heavy
steps (Argon2, decoding a photo) take a slot of ``heavy_work`` (``HeavyWork.call``).
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import AuthenticationError, Permission
from mesoscreen.domain.errors import (
    ConflictError,
    DuplicateRequestError,
    InputError,
    MesoscreenError,
    NotFoundError,
    PermissionDeniedError,
    UnstorableValueError,
)
from mesoscreen.domain.errors import SignInRequiredError as SignInRequiredError
from mesoscreen.domain.names import full_name
from mesoscreen.domain.reasons import Reason
from mesoscreen.domain.records import Page as ListPage
from mesoscreen.domain.records import Patient
from mesoscreen.domain.text import require_storable
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.error_table import edges_for
from mesoscreen.entrypoints.heavy_work import HeavyWork
from mesoscreen.entrypoints.web import cookies
from mesoscreen.entrypoints.web.error_words import RefusalWords
from mesoscreen.entrypoints.web.i18n import (
    Messages,
    format_date,
    format_moment,
    format_number,
    install_gettext,
    language_named,
    messages,
    preferred_language,
)
from mesoscreen.entrypoints.web.letterhead import Letterhead, read_logo
from mesoscreen.services.authentication import Authenticated, csrf_matches
from mesoscreen.services.recording import FormKey

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
install_gettext(TEMPLATES.env)
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": with it Chromium posts forms with "Origin: null", which the origin
    # check must refuse; "same-origin" still tells other sites nothing.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+){0,2}$")

Form = dict[str, str]
# The hidden field that carries a create form's one-use key.
FORM_KEY_FIELD = "form_key"
Page = Callable[[Authenticated], Response]
FormPage = Callable[[Authenticated, Form], Response]


def person_name(patient: Any) -> str:
    """A patient's name in the order their own language writes it (``domain.names``)."""
    return full_name(patient.family_name, patient.given_name, getattr(patient, "language", None))


class PeopleNames:
    """``who(user_id)`` in templates: the name a person is shown by, looked up once per page.

    A record names who acted by id; a page shows the person's display name (else username),
    never the id. An id with no account left shows as "?" rather than as an id.
    """

    def __init__(self, services: Services, principal: Any) -> None:
        self._services = services
        self._principal = principal
        self._known: dict[str, str] = {}

    def __call__(self, user_id: str | None) -> str:
        if not user_id or self._principal is None:
            return ""
        if user_id not in self._known:
            found = self._services.accounts.shown_names(self._principal, [user_id])
            self._known[user_id] = found.get(user_id, "?")
        return self._known[user_id]


def local_path(target: str | None, fallback: str) -> str:
    """``target`` if it is a path on this site (never another site: no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    parsed = urlparse(target)
    return fallback if parsed.scheme or parsed.netloc or "\\" in target else target


class PageKit:
    """The shared page machinery, built once per app on its services."""

    def __init__(self, services: Services, heavy_work: HeavyWork) -> None:
        self.services = services
        self.heavy_work = heavy_work
        self.letterhead = Letterhead(services.accounts, read_logo(services.settings.clinic_logo))
        self.refusals = RefusalWords(services.screening.kb, services.planner.formulary)

    # Who, in which language and time zone.

    def secure(self, request: Request) -> bool:
        """Whether this request's cookies are Secure (see ``cookies``)."""
        return cookies.secure_cookies(request, self.services.settings)

    def session(self, request: Request) -> Authenticated:
        """The live cookie session of the request; SignInRequiredError otherwise."""
        token = cookies.read_cookie(request, cookies.SESSION, self.secure(request))
        if not token:
            raise SignInRequiredError
        source = request.client.host if request.client else None
        try:
            authenticated = self.services.authentication.authenticate(token, source)
        except AuthenticationError:
            raise SignInRequiredError from None
        if authenticated.kind != "cookie":
            raise SignInRequiredError
        return authenticated

    def language(self, request: Request, authenticated: Authenticated | None = None) -> Language:
        """The user's own choice in this browser, else the browser's last, else its header."""
        secure = self.secure(request)
        chosen = []
        if authenticated is not None:
            personal = cookies.personal_language_cookie(authenticated.principal.user_id)
            chosen.append(cookies.read_cookie(request, personal, secure))
        chosen.append(cookies.read_cookie(request, cookies.LANGUAGE, secure))
        for code in chosen:
            language = language_named(code)
            if language is not None:
                return language
        header = preferred_language(request.headers.get("accept-language"))
        return header or Language.EN

    def zone(self, request: Request) -> tzinfo:
        """The browser's time zone (set by app.js), else the server's own."""
        name = request.cookies.get(cookies.TIME_ZONE, "")
        if _ZONE_NAME.match(name):
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return self.services.clock.now().astimezone().tzinfo or ZoneInfo("UTC")

    def words(self, request: Request, authenticated: Authenticated | None = None) -> Messages:
        """The catalogue of the page's language."""
        return messages()[self.language(request, authenticated)]

    def say(
        self, request: Request, authenticated: Authenticated | None, error: MesoscreenError
    ) -> str:
        """Why ``error`` refused, in the page's language, from its reason codes."""
        language = self.language(request, authenticated)
        return self.refusals.say(error, messages()[language], language)

    # Rendering.

    def render(
        self,
        request: Request,
        template: str,
        authenticated: Authenticated | None = None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        """The template in the user's language, with the security headers of a PHI page."""
        lang = self.language(request, authenticated)
        zone = self.zone(request)
        secure = self.secure(request)
        form_token = cookies.read_cookie(request, cookies.FORM_TOKEN, secure)
        new_form_token = None if form_token else secrets.token_urlsafe(32)
        principal = authenticated.principal if authenticated else None
        shown = context.get("patient")
        if context.get("patient_header", True) is not False:
            # Every page about one patient carries the header (a page opts out with
            # patient_header=False: the screen the patient signs on, the prints).
            context["patient_header"] = (
                self.services.patient_headers.for_patient(principal, shown)
                if principal is not None and isinstance(shown, Patient)
                else None
            )
        clinic_name = self.letterhead.clinic_name(principal, getattr(shown, "clinic_id", None))
        session_csrf = cookies.read_cookie(request, cookies.CSRF, secure) if principal else None
        kept_token = cookies.read_cookie(request, cookies.KEPT_FORM, secure) if principal else None
        kept = None
        if kept_token and principal is not None and request.method == "GET":
            # The form this user posted here after the timeout, to fill in again (app.js).
            found = self.services.kept_forms.take(principal, kept_token, _page_of(request))
            if found is not None:
                kept = {"action": found.action, "fields": found.fields}
        idle = int(self.services.authentication.policy.idle.total_seconds())
        response = TEMPLATES.TemplateResponse(
            request,
            template,
            {
                "lang": lang.value,
                "user": principal,
                "can": lambda name: principal is not None and principal.can(Permission(name)),
                "csrf": session_csrf or "",
                "form_token": form_token or new_form_token,
                # A fresh one-use key for each form that creates a record (see created_once).
                "form_key": lambda: secrets.token_urlsafe(24),
                "path": request.url.path,
                "date": lambda day: format_date(day, lang),
                "moment": lambda when: format_moment(when, lang, zone),
                "number": lambda value, decimals=2: format_number(value, lang, decimals),
                "person": person_name,
                "who": PeopleNames(self.services, principal),
                "clinic_name": clinic_name,
                "clinic_logo": self.letterhead.logo,
                "idle_seconds": idle,
                "kept_form": kept,
                **context,
            },
            status_code=status,
        )
        response.headers.update(_SECURITY_HEADERS)
        if new_form_token:
            cookies.set_cookie(
                response, cookies.FORM_TOKEN, new_form_token, secure, cookies.ONE_YEAR_S
            )
        if kept is not None:
            cookies.delete_cookie(response, cookies.KEPT_FORM, secure)
        return response

    def error(
        self, request: Request, authenticated: Authenticated | None, status: int, message: str
    ) -> HTMLResponse:
        """A page that says what went wrong."""
        return self.render(request, "error.html", authenticated, status, message=message)

    def sign_in_redirect(self, request: Request, back: str | None = None,
                         kept: bool = False) -> RedirectResponse:  # fmt: skip
        """To the sign-in form, coming back to ``back`` (by default this GET page) after."""
        if back is None:
            # The path only: a query (a name searched for) never goes into another URL.
            back = _page_of(request) if request.method == "GET" else ""
        parts = [f"next={quote(back, safe='/')}"] if back and back != "/" else []
        parts += ["kept=1"] if kept else []
        query = f"?{'&'.join(parts)}" if parts else ""
        return RedirectResponse(f"/signin{query}", status_code=303)

    def referring_page(self, request: Request) -> str | None:
        """The page of this site a form was posted from (its Referer), else None."""
        referer = request.headers.get("referer")
        if not referer:
            return None
        parsed = urlparse(referer)
        hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")}
        if parsed.netloc not in hosts - {None}:
            return None
        # The path only, as for a GET page: a query may hold a name searched for.
        return local_path(parsed.path, "") or None

    async def keep_and_sign_in(self, request: Request) -> Response:
        """A form posted after the session timed out: keep it (services.kept_forms) for this
        browser, and send it to sign in and back to the page it was typed on."""
        page = self.referring_page(request) or request.url.path
        secure = self.secure(request)
        token = cookies.read_cookie(request, cookies.SESSION, secure)
        kept = None
        try:
            form = await self.form(request)
        except UnstorableValueError:
            form = None  # a value no database stores is not kept either
        if token and form is not None and self.same_origin(request):
            kept = await run_in_threadpool(self.services.kept_forms.keep, token,
                                           form.get("csrf"), request.url.path, page,
                                           form)  # fmt: skip
        response = self.sign_in_redirect(request, page, kept is not None)
        if kept is not None:
            cookies.set_cookie(response, cookies.KEPT_FORM, kept, secure, cookies.KEPT_FORM_S)
        return response

    # Running pages.

    def _run(self, request: Request, authenticated: Authenticated, page: Page) -> Response:
        t = self.words(request, authenticated)
        try:
            check_path_and_query(request)
            return page(authenticated)
        except (PermissionDeniedError, NotFoundError, ConflictError, InputError) as refused:
            # The status comes from the error table; the words from the reader's language.
            status = edges_for(refused).page
            if isinstance(refused, PermissionDeniedError) and (
                refused.problems[0].code is Reason.FORBIDDEN
            ):
                return self.error(request, authenticated, status, t["forbidden"])
            if isinstance(refused, NotFoundError):
                return self.error(request, authenticated, status, t["not_found"])
            # Its reason codes in words, never its message (that is for logs and the API).
            return self.error(request, authenticated, status,
                              self.say(request, authenticated, refused))  # fmt: skip

    def page(self, request: Request, page: Page) -> Response:
        """Run a GET page with the request's session checked (on a connection of its own, in
        no transaction) and the page's use cases on one connection; the audit entries of its
        reads are stored together before it is answered."""
        with self.services.reads_batched():
            try:
                authenticated = self.session(request)
            except SignInRequiredError:
                return self.sign_in_redirect(request)
            return self._run(request, authenticated, page)

    def same_origin(self, request: Request) -> bool:
        """False when the browser says the post comes from another site (Origin header)."""
        origin = request.headers.get("origin")
        if origin is None:
            return True
        parsed = urlparse(origin)
        # A page's own form, whether Host arrives as the browser wrote it or, behind a
        # proxy, in X-Forwarded-Host (a cross-site form cannot set either header).
        hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")}
        return parsed.scheme in ("http", "https") and parsed.netloc in hosts - {None}

    async def form(self, request: Request) -> Form:
        """The posted form's text fields; UnstorableValueError naming a field (or a repeat of
        one) whose text no database stores."""
        posted = await request.form()
        for key, value in posted.multi_items():
            require_storable(key, "form field name")
            if isinstance(value, str):
                require_storable(value, key)
        return {key: value for key, value in posted.items() if isinstance(value, str)}

    async def anonymous_form(self, request: Request) -> Form | Response:
        """The form of a page posted before sign-in, or the 422 page naming a field whose
        text no database stores."""
        try:
            return await self.form(request)
        except UnstorableValueError as refused:
            return self.error(request, None, edges_for(refused).page,
                              self.say(request, None, refused))  # fmt: skip

    async def form_page(self, request: Request, page: FormPage) -> Response:
        """Run a POST page: a session, the same origin and the session's CSRF token, or 403."""
        try:
            authenticated = await run_in_threadpool(self.session, request)
        except SignInRequiredError:
            return await self.keep_and_sign_in(request)
        try:
            form = await self.form(request)
        except UnstorableValueError as refused:
            status = edges_for(refused).page
            said = self.say(request, authenticated, refused)
            return await run_in_threadpool(self.error, request, authenticated, status, said)
        if not (self.same_origin(request) and csrf_matches(authenticated, form.get("csrf"))):
            t = self.words(request, authenticated)
            return await run_in_threadpool(
                self.error, request, authenticated, 403, t["csrf_refused"]
            )
        return await run_in_threadpool(self._run, request, authenticated, lambda a: page(a, form))

    def created_once(
        self,
        authenticated: Authenticated,
        form: Form,
        form_name: str,
        create: Callable[[FormKey | None], str | Response],
        shown: Callable[[str], str],
    ) -> Response:
        """Run a form that creates a record at most once per key it was shown with.

        ``create`` makes the record (claiming the key in its own transaction) and returns its
        id, or a page (the form again with what to fix). A second submission of the same
        form, made after the first or at the same time, makes nothing and is sent to what the
        first made (``shown(record_id)``), as the first was.
        """
        given = form.get(FORM_KEY_FIELD)
        key = FormKey(form_name, given) if given else None
        earlier = self.services.form_keys.earlier(authenticated.principal, key) if key else None
        if earlier is not None:
            return redirect(shown(earlier))
        try:
            made = create(key)
        except DuplicateRequestError:
            # A concurrent submission of this form committed first: show what it made.
            assert key is not None  # noqa: S101 (only raised when a key was claimed)
            earlier = self.services.form_keys.earlier(authenticated.principal, key)
            if earlier is None:
                raise
            return redirect(shown(earlier))
        return made if isinstance(made, Response) else redirect(shown(made))

    def anonymous_form_accepted(self, request: Request, form: Form) -> bool:
        """A form posted before sign-in carries the browser's form token (double submit)."""
        expected = cookies.read_cookie(request, cookies.FORM_TOKEN, self.secure(request))
        given = form.get("csrf") or ""
        return (
            self.same_origin(request)
            and bool(expected)
            and hmac.compare_digest(given.encode(), (expected or "").encode())
        )


def check_path_and_query(request: Request) -> None:
    """UnstorableValueError naming the path or query parameter whose text no database stores."""
    require_storable(request.url.path, "path")
    for name, value in request.query_params.multi_items():
        require_storable(name, "query parameter name")
        require_storable(value, name)


T = TypeVar("T")

# The services' largest page: a list read whole asks for pages of this size.
LIST_PAGE_SIZE = 200


def every_item(fetch: Callable[[int, int], ListPage[T]]) -> list[T]:
    """Every item of a paged list, page after page, so a page never silently shows only
    the first page of a clinic's records (``fetch(offset, limit)`` reads one page)."""
    items: list[T] = []
    while True:
        page = fetch(len(items), LIST_PAGE_SIZE)
        items.extend(page.items)
        if not page.items or len(items) >= page.total:
            return items


def _page_of(request: Request) -> str:
    """The path of the page asked for (the query is not part of a kept form's page)."""
    return request.url.path


def redirect(target: str) -> RedirectResponse:
    """See Other: where a successful post sends the browser."""
    return RedirectResponse(target, status_code=303)
