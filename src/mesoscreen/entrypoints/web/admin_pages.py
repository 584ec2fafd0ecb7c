"""Recording required actions as done, and the admin pages: users and the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mesoscreen.bootstrap import Services
from mesoscreen.domain.errors import InputError
from mesoscreen.domain.records import ActionResult
from mesoscreen.entrypoints.web.kit import PageKit
from mesoscreen.services.authentication import Authenticated
from mesoscreen.services.required_actions import ActionReport

AUDIT_PAGE_SIZE = 100


def add_admin_pages(router: APIRouter, services: Services, kit: PageKit) -> None:
    """Register the action and admin pages on ``router``."""

    @router.post("/screenings/{screening_id}/actions", response_model=None)
    async def record_action(request: Request, screening_id: str) -> Response:
        def page(a: Authenticated, form: dict[str, str]) -> Response:
            try:
                cleared_by = form.get("cleared_by") or None
                report = ActionReport(
                    action_id=form.get("action_id", ""),
                    result=ActionResult(form.get("result", "")),
                    performed_on=date.fromisoformat(form.get("performed_on", "")),
                    cleared_by=cleared_by,
                    cleared_at=datetime.now(UTC) if cleared_by else None,
                    note=form.get("note") or None,
                )
                services.actions.record(a.principal, screening_id, report)
            except (InputError, ValueError) as exc:
                return kit.render(request, "error.html", a, 400, message=str(exc))
            return RedirectResponse(f"/screenings/{screening_id}", status_code=303)

        return await kit.handle_post(request, page)

    @router.get("/admin/users", response_model=None)
    def users_page(request: Request) -> Response:
        def page(a: Authenticated) -> Response:
            users = services.accounts.list_users(a.principal, limit=200).items
            return kit.render(request, "admin_users.html", a, users=users)

        return kit.guarded(request, page)

    @router.get("/admin/audit", response_model=None)
    def audit_page(request: Request, days: int = 1) -> Response:
        def page(a: Authenticated) -> Response:
            since = services.clock.now() - timedelta(days=max(1, min(days, 90)))
            found = services.audit.report(a.principal, since, None, limit=AUDIT_PAGE_SIZE)
            chain = services.audit.verify()
            return kit.render(request, "admin_audit.html", a, entries=found.items,
                              total=found.total, intact=chain.intact, days=days)  # fmt: skip

        return kit.guarded(request, page)
