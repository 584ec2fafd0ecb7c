"""Admin pages: the users of the admin's clinics (add, change role, disable, unlock) and the
audit trail by time range, with whether its hash chain is intact. Admins see no patient data;
the accounts and audit services check the role and audit each of these accesses."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mesoscreen.domain.access import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Role
from mesoscreen.domain.errors import ConflictError, InputError
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.entrypoints.web.audit_words import EVENT_FAMILIES, event_in_words
from mesoscreen.entrypoints.web.kit import Form, PageKit, every_item, redirect
from mesoscreen.services.authentication import Authenticated

AUDIT_PAGE_SIZE = 100
AUDIT_MAX_DAYS = 90


def _role(form: Form) -> Role:
    try:
        return Role(form.get("role", ""))
    except ValueError:
        expected = ", ".join(r.value for r in Role)
        raise InputError(
            f"'role': expected one of {expected}", problems=problem(Reason.NOT_A_CHOICE, "role")
        ) from None


def add_admin_pages(router: APIRouter, kit: PageKit) -> None:
    """Register the user and audit-trail pages on ``router``."""
    services = kit.services

    def users_page(request: Request, a: Authenticated, status: int = 200,
                   error: str | None = None, form: Form | None = None) -> Response:  # fmt: skip
        users = every_item(lambda offset, limit: services.accounts.list_users(
            a.principal, offset, limit))  # fmt: skip
        clinics = services.accounts.clinics(a.principal)
        return kit.render(request, "admin_users.html", a, status, users=users, roles=list(Role),
                          clinics=clinics, error=error, form=form or {},
                          min_password=MIN_PASSWORD_LENGTH,
                          max_password=MAX_PASSWORD_LENGTH)  # fmt: skip

    @router.get("/admin/users", response_model=None)
    def users(request: Request) -> Response:
        return kit.page(request, lambda a: users_page(request, a))

    @router.post("/admin/users", response_model=None)
    async def add_user(request: Request) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            clinic_ids = [c.id for c in services.accounts.clinics(a.principal)
                          if form.get(f"clinic_{c.id}")]  # fmt: skip
            try:
                # Hashing the password is Argon2: under the heavy-work bound.
                kit.heavy_work.call(
                    services.accounts.create_user,
                    a.principal,
                    form.get("username", ""),
                    form.get("password", ""),
                    _role(form),
                    clinic_ids,
                    form.get("display_name", ""),
                )
            except (InputError, ConflictError) as refused:
                kept = {k: v for k, v in form.items() if k != "password"}
                return users_page(request, a, 400, kit.say(request, a, refused), kept)
            return redirect("/admin/users")

        return await kit.form_page(request, page)

    @router.post("/admin/users/{user_id}", response_model=None)
    async def change_user(request: Request, user_id: str) -> Response:
        """Change a user's role or disabled state; disabling ends the user's sessions."""

        def page(a: Authenticated, form: Form) -> Response:
            user = services.accounts.get_user(a.principal, user_id)
            version = form.get("version", "")
            if not version.isdigit():
                raise InputError(
                    f"'version': expected a whole number (got '{version[:20]}')",
                    problems=problem(Reason.STALE_VERSION, "version"),
                )
            # The service refuses what this admin may not change (their own role, a user of
            # clinics they do not run); the page only relays the form.
            services.accounts.update_user(a.principal, user_id, int(version), _role(form),
                                          user.clinic_ids, bool(form.get("disabled")),
                                          form.get("display_name"))  # fmt: skip
            return redirect("/admin/users")

        return await kit.form_page(request, page)

    @router.post("/admin/users/{user_id}/unlock", response_model=None)
    async def unlock_user(request: Request, user_id: str) -> Response:
        def page(a: Authenticated, _form: Form) -> Response:
            services.accounts.unlock_user(a.principal, user_id)
            return redirect("/admin/users")

        return await kit.form_page(request, page)

    @router.get("/admin/audit", response_model=None)
    def audit(
        request: Request,
        days: int = 1,
        offset: int = 0,
        since: str | None = None,
        until: str | None = None,
        who: str | None = None,
        patient: str | None = None,
        event: str | None = None,
    ) -> Response:
        """The trail newest first, by date range (or the last ``days``), person, patient and
        event family."""

        def page(a: Authenticated) -> Response:
            zone = kit.zone(request)
            first, last = _day(since, "since"), _day(until, "until")
            span = max(1, min(days, AUDIT_MAX_DAYS))
            start = (_start_of(first, zone) if first
                     else services.clock.now() - timedelta(days=span))  # fmt: skip
            end = _start_of(last + timedelta(days=1), zone) if last else None
            family = event if event in EVENT_FAMILIES else None
            found = services.audit.report(
                a.principal, start, end, offset=max(0, offset), limit=AUDIT_PAGE_SIZE,
                newest_first=True, patient_id=(patient or "").strip()[:36] or None,
                actor_id=who or None, event=family,
            )  # fmt: skip
            intact = services.audit.chain_intact(a.principal)
            people = every_item(lambda o, n: services.accounts.list_users(a.principal, o, n))
            t = kit.words(request, a)
            query = {"days": str(span), "since": since or "", "until": until or "",
                     "who": who or "", "patient": patient or "", "event": family or ""}  # fmt: skip
            return kit.render(request, "admin_audit.html", a, entries=found.items,
                              total=found.total, intact=intact, days=span,
                              offset=found.offset, page_size=AUDIT_PAGE_SIZE, people=people,
                              families=EVENT_FAMILIES, query=query,
                              query_string=urlencode({k: v for k, v in query.items() if v}),
                              in_words=lambda e: event_in_words(e, t))  # fmt: skip

        return kit.page(request, page)


def _day(value: str | None, field: str) -> date | None:
    """A date from the filter form; InputError naming the field."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"'{field}': expected a date as YYYY-MM-DD (got '{value[:20]}')",
            problems=problem(Reason.NOT_A_DATE, field),
        ) from None


def _start_of(day: date, zone: tzinfo) -> datetime:
    """Midnight starting ``day`` in the reader's time zone."""
    return datetime.combine(day, time.min, tzinfo=zone)
