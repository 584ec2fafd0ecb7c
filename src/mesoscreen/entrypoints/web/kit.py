"""What every page module needs from the router: rendering, the session, CSRF-checked forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mesoscreen.domain.vocabulary import Language
from mesoscreen.services.authentication import Authenticated


@dataclass(frozen=True)
class PageKit:
    """The shared page machinery of ``build_web_router``."""

    render: Callable[..., HTMLResponse]
    guarded: Callable[[Request, Callable[[Authenticated], Response]], Response]
    session: Callable[[Request], Authenticated]
    posted: Callable[[Request, Authenticated], Awaitable[dict[str, str] | None]]
    csrf_refused: Callable[[Request, Authenticated], HTMLResponse]
    language: Callable[[Request], Language]
    sign_in_required: type[Exception]

    async def handle_post(
        self, request: Request, page: Callable[[Authenticated, dict[str, str]], Response]
    ) -> Response:
        """Run ``page`` with the session and its CSRF-checked form; refuse the post otherwise."""
        try:
            authenticated = self.session(request)
        except self.sign_in_required:
            return RedirectResponse("/signin", status_code=303)
        form = await self.posted(request, authenticated)
        if form is None:
            return self.csrf_refused(request, authenticated)
        return self.guarded(request, lambda a: page(a, form))
