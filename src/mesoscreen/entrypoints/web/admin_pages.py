"""Admin pages: the users of the admin's clinics (add, change role, disable, unlock) and the
audit trail by time range, with whether its hash chain is intact. Admins see no patient data;
the accounts and audit services check the role and audit each of these accesses."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mesoscreen.domain.access import Role
from mesoscreen.domain.errors import ConflictError, InputError
from mesoscreen.entrypoints.web.kit import Form, PageKit, redirect
from mesoscreen.services.authentication import Authenticated

AUDIT_PAGE_SIZE = 100
AUDIT_MAX_DAYS = 90


def _role(form: Form) -> Role:
    try:
        return Role(form.get("role", ""))
    except ValueError:
        expected = ", ".join(r.value for r in Role)
        raise InputError(f"'role': expected one of {expected}") from None


def add_admin_pages(router: APIRouter, kit: PageKit) -> None:
    """Register the user and audit-trail pages on ``router``."""
    services = kit.services

    def users_page(request: Request, a: Authenticated, status: int = 200,
                   error: str | None = None, form: Form | None = None) -> Response:  # fmt: skip
        users = services.accounts.list_users(a.principal, limit=200).items
        clinics = services.accounts.clinics(a.principal)
        return kit.render(request, "admin_users.html", a, status, users=users, roles=list(Role),
                          clinics=clinics, error=error, form=form or {})  # fmt: skip

    @router.get("/admin/users", response_model=None)
    def users(request: Request) -> Response:
        return kit.page(request, lambda a: users_page(request, a))

    @router.post("/admin/users", response_model=None)
    async def add_user(request: Request) -> Response:
        def page(a: Authenticated, form: Form) -> Response:
            clinic_ids = [c.id for c in services.accounts.clinics(a.principal)
                          if form.get(f"clinic_{c.id}")]  # fmt: skip
            try:
                services.accounts.create_user(
                    a.principal,
                    form.get("username", ""),
                    form.get("password", ""),
                    _role(form),
                    clinic_ids,
                )
            except (InputError, ConflictError) as refused:
                kept = {k: v for k, v in form.items() if k != "password"}
                return users_page(request, a, 400, str(refused), kept)
            return redirect("/admin/users")

        return await kit.form_page(request, page)

    @router.post("/admin/users/{user_id}", response_model=None)
    async def change_user(request: Request, user_id: str) -> Response:
        """Change a user's role or disabled state; disabling ends the user's sessions."""

        def page(a: Authenticated, form: Form) -> Response:
            user = services.accounts.get_user(a.principal, user_id)
            version = form.get("version", "")
            if not version.isdigit():
                raise InputError(f"'version': expected a whole number (got '{version[:20]}')")
            # The service refuses what this admin may not change (their own role, a user of
            # clinics they do not run); the page only relays the form.
            services.accounts.update_user(a.principal, user_id, int(version), _role(form),
                                          user.clinic_ids, bool(form.get("disabled")))  # fmt: skip
            return redirect("/admin/users")

        return await kit.form_page(request, page)

    @router.post("/admin/users/{user_id}/unlock", response_model=None)
    async def unlock_user(request: Request, user_id: str) -> Response:
        def page(a: Authenticated, _form: Form) -> Response:
            services.accounts.unlock_user(a.principal, user_id)
            return redirect("/admin/users")

        return await kit.form_page(request, page)

    @router.get("/admin/audit", response_model=None)
    def audit(request: Request, days: int = 1, offset: int = 0) -> Response:
        def page(a: Authenticated) -> Response:
            span = max(1, min(days, AUDIT_MAX_DAYS))
            since = services.clock.now() - timedelta(days=span)
            found = services.audit.report(a.principal, since, None, offset=max(0, offset),
                                          limit=AUDIT_PAGE_SIZE, newest_first=True)  # fmt: skip
            intact = services.audit.chain_intact(a.principal)
            return kit.render(request, "admin_audit.html", a, entries=found.items,
                              total=found.total, intact=intact, days=span,
                              offset=found.offset, page_size=AUDIT_PAGE_SIZE)  # fmt: skip

        return kit.page(request, page)
