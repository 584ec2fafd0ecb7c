"""The Today page: the signed-in start page, with the day's work of the user's clinics.

What it lists and for whom is the ``services.day`` use case's to decide; the page only puts
it in words (the complication names come from the knowledge base in the page's language).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mesoscreen.entrypoints.web.kit import PageKit
from mesoscreen.services.authentication import Authenticated


def add_today_page(router: APIRouter, kit: PageKit) -> None:
    """Register ``/today`` on ``router``."""
    services = kit.services

    @router.get("/today", response_model=None)
    def today(request: Request) -> Response:
        def page(a: Authenticated) -> Response:
            day = services.day.for_user(a.principal, services.clock.today())
            complications = {c.id: c for c in services.screening.kb.complications}
            return kit.render(request, "today.html", a, day=day, complications=complications)

        return kit.page(request, page)
