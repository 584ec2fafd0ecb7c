"""The clinic's pages: sign-in, patients, the intake, the screening result and its handout.

Server-rendered (Jinja2), every form a plain POST with a CSRF token; scripts only hide
questions that do not apply (the server ignores their answers anyway) and submit the language
choice. Pages reach records only through the services, which check roles and audit every
access; a role that may not see clinical data gets 403 on those pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from mesoscreen.bootstrap import Services
from mesoscreen.domain.access import AuthenticationError
from mesoscreen.domain.conditions import AllOf, AnyOf, Condition, FactIs, Not, Truth
from mesoscreen.domain.errors import InputError, NotFoundError, PermissionDeniedError
from mesoscreen.domain.knowledge_base import AnswerType, KnowledgeBase
from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.api.deps import (
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    client_source,
    cookie_is_secure,
)
from mesoscreen.entrypoints.web.admin_pages import add_admin_pages
from mesoscreen.entrypoints.web.i18n import catalogues, format_date
from mesoscreen.entrypoints.web.kit import PageKit
from mesoscreen.entrypoints.web.treatment_pages import add_treatment_pages
from mesoscreen.services.authentication import Authenticated, csrf_matches
from mesoscreen.services.patients import PatientDetails

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC_DIR = Path(__file__).parent / "static"
CSRF_COOKIE = "mesoscreen_csrf"
LANGUAGE_COOKIE = "mesoscreen_language"
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class _SignInRequiredError(Exception):
    """No valid session: the page redirects to the sign-in form."""


def condition_json(condition: Condition) -> dict[str, Any] | None:
    """The applicability condition for the page script; None when it cannot be expressed
    (the question is then always shown: asking too much is safe, hiding a question is not)."""
    if isinstance(condition, FactIs):
        return {"fact": condition.fact, "is": sorted(condition.values)}
    if isinstance(condition, Not):
        inner = condition_json(condition.part)
        return None if inner is None else {"not": inner}
    if isinstance(condition, AllOf | AnyOf):
        parts = [condition_json(p) for p in condition.parts]
        if any(p is None for p in parts):
            return None
        return {"all" if isinstance(condition, AllOf) else "any": parts}
    return None


def intake_from_form(form: Mapping[str, str], kb: KnowledgeBase, on: date) -> dict[str, object]:
    """Answers from the posted form; answers to questions that do not apply are dropped."""
    answers: dict[str, object] = {}
    for question in kb.questions:
        value = form.get(question.id, "").strip()
        if not value:
            continue
        if question.answer_type is AnswerType.TEXT_LIST:
            answers[question.id] = [line.strip() for line in value.splitlines() if line.strip()]
        else:
            answers[question.id] = value
    typed: dict[str, Any] = {}
    for key, given in answers.items():
        try:
            typed[key] = date.fromisoformat(given) if isinstance(given, str) else given
        except ValueError:
            typed[key] = given
    for question in kb.questions:
        condition = question.applies_when
        if condition is not None and condition.evaluate(typed, on) is Truth.FALSE:
            answers.pop(question.id, None)
            typed.pop(question.id, None)
    return answers


def build_web_router(services: Services) -> APIRouter:
    """The pages, on ``services``."""
    router = APIRouter(include_in_schema=False)
    kb = services.screening.kb

    def language(request: Request) -> Language:
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        return Language.VI if chosen == Language.VI.value else Language.EN

    def session(request: Request) -> Authenticated:
        token = request.cookies.get(SECURE_SESSION_COOKIE) or request.cookies.get(SESSION_COOKIE)
        if not token:
            raise _SignInRequiredError
        try:
            authenticated = services.authentication.authenticate(token, client_source(request))
        except AuthenticationError:
            raise _SignInRequiredError from None
        if authenticated.kind != "cookie":
            raise _SignInRequiredError
        return authenticated

    def render(
        request: Request,
        template: str,
        authenticated: Authenticated | None = None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        lang = language(request)
        response = TEMPLATES.TemplateResponse(
            request,
            template,
            {
                "t": catalogues()[lang],
                "lang": lang.value,
                "user": authenticated.principal if authenticated else None,
                "csrf": request.cookies.get(CSRF_COOKIE, "") if authenticated else "",
                "path": request.url.path,
                "date": lambda day: format_date(day, lang),
                **context,
            },
            status_code=status,
        )
        response.headers.update(_SECURITY_HEADERS)
        return response

    def guarded(request: Request, page: Any) -> Response:
        """Run ``page`` (a function of the session) with the errors a page can meet."""
        try:
            authenticated = session(request)
        except _SignInRequiredError:
            return RedirectResponse("/signin", status_code=303)
        try:
            response: Response = page(authenticated)
            return response
        except PermissionDeniedError:
            t = catalogues()[language(request)]
            return render(request, "error.html", authenticated, 403, message=t["forbidden"])
        except NotFoundError:
            t = catalogues()[language(request)]
            return render(request, "error.html", authenticated, 404, message=t["not_found"])

    async def posted(request: Request, authenticated: Authenticated) -> dict[str, str] | None:
        """The form, if its CSRF token is the session's; None otherwise."""
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        return fields if csrf_matches(authenticated, fields.get("csrf")) else None

    def csrf_refused(request: Request, authenticated: Authenticated) -> HTMLResponse:
        message = "CSRF token missing or not this session's: reload the page"
        return render(request, "error.html", authenticated, 403, message=message)

    kit = PageKit(render, guarded, session, posted, csrf_refused, language, _SignInRequiredError)
    add_treatment_pages(router, services, kit)
    add_admin_pages(router, services, kit)

    @router.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/patients", status_code=303)

    @router.get("/signin")
    def signin_form(request: Request) -> HTMLResponse:
        return render(request, "signin.html")

    @router.post("/signin", response_model=None)
    async def signin(request: Request) -> Response:
        form = await request.form()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        try:
            signed_in = services.authentication.login(
                username, password, "cookie", client_source(request)
            )
        except (AuthenticationError, InputError):
            return render(request, "signin.html", status=401, error=True)
        secure = cookie_is_secure(request, services)
        response = RedirectResponse("/patients", status_code=303)
        lifetime = int(services.authentication.policy.absolute.total_seconds())
        for name, value in (
            (SECURE_SESSION_COOKIE if secure else SESSION_COOKIE, signed_in.token),
            (CSRF_COOKIE, signed_in.csrf_token),
        ):
            response.set_cookie(name, value, max_age=lifetime, path="/", secure=secure,
                                httponly=True, samesite="strict")  # fmt: skip
        return response

    @router.post("/signout", response_model=None)
    async def signout(request: Request) -> Response:
        def page(authenticated: Authenticated) -> Response:
            return RedirectResponse("/signin", status_code=303)

        try:
            authenticated = session(request)
        except _SignInRequiredError:
            return RedirectResponse("/signin", status_code=303)
        if await posted(request, authenticated) is None:
            return csrf_refused(request, authenticated)
        services.authentication.logout(authenticated.principal)
        response = page(authenticated)
        for name in (SECURE_SESSION_COOKIE, SESSION_COOKIE, CSRF_COOKIE):
            response.delete_cookie(name, path="/")
        return response

    @router.post("/language", response_model=None)
    async def choose_language(request: Request) -> Response:
        """Remember the language for this browser (a preference, not a record)."""
        form = await request.form()
        chosen = str(form.get("language", "en"))
        target = str(form.get("next", "/patients"))
        if urlparse(target).netloc or not target.startswith("/"):
            target = "/patients"
        response = RedirectResponse(target, status_code=303)
        if chosen in {lang.value for lang in Language}:
            response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=31_536_000, path="/",
                                httponly=True, samesite="lax")  # fmt: skip
        return response

    @router.get("/patients", response_model=None)
    def patient_list(request: Request, q: str | None = None) -> Response:
        def page(authenticated: Authenticated) -> Response:
            found = services.patients.search(authenticated.principal, q or None, limit=50)
            return render(request, "patients.html", authenticated, patients=found.items, q=q)

        return guarded(request, page)

    @router.get("/patients/new", response_model=None)
    def new_patient_form(request: Request) -> Response:
        # One key per form shown: submitting it twice registers one patient.
        key = f"form-{uuid.uuid4()}"
        return guarded(request, lambda a: render(request, "patient_new.html", a,
                                                 idempotency_key=key))  # fmt: skip

    @router.post("/patients/new", response_model=None)
    async def new_patient(request: Request) -> Response:
        def page(a: Authenticated, form: dict[str, str]) -> Response:
            try:
                born = date.fromisoformat(form["birth_date"]) if form.get("birth_date") else None
                details = PatientDetails(
                    family_name=form.get("family_name", "").strip(),
                    given_name=form.get("given_name", "").strip(),
                    birth_date=born,
                    sex=form.get("sex") or None,
                    phone=form.get("phone") or None,
                )
                clinic = sorted(a.principal.clinic_ids)[0]
                key = form.get("idempotency_key") or None
                patient = services.patients.register(a.principal, clinic, details, key)
            except (InputError, ValueError, IndexError) as exc:
                return render(request, "patient_new.html", a, 400, error=str(exc),
                              idempotency_key=f"form-{uuid.uuid4()}")  # fmt: skip
            return RedirectResponse(f"/patients/{patient.id}", status_code=303)

        return await kit.handle_post(request, page)

    @router.get("/patients/{patient_id}", response_model=None)
    def patient_page(request: Request, patient_id: str) -> Response:
        def page(a: Authenticated) -> Response:
            patient = services.patients.get(a.principal, patient_id)
            principal = a.principal
            try:
                screenings = list(services.screenings.list_for_patient(principal, patient_id).items)
                plans = list(services.plans.list_for_patient(principal, patient_id).items)
                sessions = list(
                    services.treatment_sessions.list_for_patient(principal, patient_id).items
                )
                events = list(services.adverse_events.list_for_patient(principal, patient_id).items)
                clinical = True
            except PermissionDeniedError:
                screenings, plans, sessions, events, clinical = [], [], [], [], False
            timeline: dict[str, Any] = {
                "screenings": screenings,
                "plans": plans,
                "sessions": sessions,
                "events": events,
                "clinical": clinical,
            }
            return render(request, "patient.html", a, patient=patient, **timeline)

        return guarded(request, page)

    def intake_page(
        request: Request, a: Authenticated, patient_id: str, status: int = 200,
        error: str | None = None, given: Mapping[str, object] | None = None,
    ) -> Response:  # fmt: skip
        patient = services.patients.get(a.principal, patient_id)
        lang = language(request)
        t = catalogues()[lang]
        prefill: dict[str, object] = {"sex": patient.sex, "birth_date": patient.birth_date}
        prefill.update(given or {})
        questions = []
        for question in kb.questions:
            applies = (
                condition_json(question.applies_when) if question.applies_when is not None
                else None
            )  # fmt: skip
            value = prefill.get(question.id)
            if isinstance(value, list):
                value = "\n".join(map(str, value))
            if question.answer_type is AnswerType.CHOICE:
                options = [(c, t.get(c, c)) for c in question.choices]
            else:
                options = [("yes", t["yes"]), ("no", t["no"]), ("unknown", t["unknown"])]
            questions.append({
                "id": question.id, "text": question.text.in_language(lang),
                "help": question.help.in_language(lang) if question.help else None,
                "kind": question.answer_type.value, "options": options,
                "value": value.isoformat() if isinstance(value, date) else value,
                "applies": orjson.dumps(applies).decode() if applies else None,
            })  # fmt: skip
        # Reading the intake form is reading clinical data: the services check the role.
        services.screenings.list_for_patient(a.principal, patient_id, limit=1)
        return render(request, "intake.html", a, status, patient=patient,
                      questions=questions, error=error)  # fmt: skip

    @router.get("/patients/{patient_id}/intake", response_model=None)
    def intake_form(request: Request, patient_id: str) -> Response:
        return guarded(request, lambda a: intake_page(request, a, patient_id))

    @router.post("/patients/{patient_id}/intake", response_model=None)
    async def submit_intake(request: Request, patient_id: str) -> Response:
        def page(a: Authenticated, form: dict[str, str]) -> Response:
            answers = intake_from_form(form, kb, services.clock.today())
            try:
                screening = services.screenings.screen_intake(a.principal, patient_id, answers)
            except InputError as exc:
                return intake_page(request, a, patient_id, 400, str(exc), answers)
            return RedirectResponse(f"/screenings/{screening.id}", status_code=303)

        return await kit.handle_post(request, page)

    def screening_context(a: Authenticated, screening_id: str, lang: Language) -> dict[str, Any]:
        screening, _ = services.screenings.get(a.principal, screening_id)
        patient = services.patients.get(a.principal, screening.patient_id)
        texts = {q.id: q.text.in_language(lang) for q in kb.questions}
        decision = screening.decision
        missing = [texts.get(str(m), str(m)) for m in decision.get("missing", [])]
        return {"screening": screening, "patient": patient, "d": decision, "missing": missing}

    @router.get("/screenings/{screening_id}", response_model=None)
    def screening_page(request: Request, screening_id: str) -> Response:
        return guarded(request, lambda a: render(
            request, "screening.html", a, **screening_context(a, screening_id, language(request))
        ))  # fmt: skip

    @router.get("/screenings/{screening_id}/handout", response_model=None)
    def handout_page(request: Request, screening_id: str) -> Response:
        return guarded(request, lambda a: render(
            request, "handout.html", a, **screening_context(a, screening_id, language(request))
        ))  # fmt: skip

    return router
