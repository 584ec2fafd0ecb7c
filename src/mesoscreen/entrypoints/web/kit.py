"""What every page module needs from the router: rendering, the session, CSRF-checked forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

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

    async def form_or_refusal(
        self, request: Request
    ) -> tuple[Authenticated, dict[str, str]] | Response:
        """The session and its CSRF-checked form, or the response that refuses the post."""
        from fastapi.responses import RedirectResponse

        try:
            authenticated = self.session(request)
        except self.sign_in_required:
            return RedirectResponse("/signin", status_code=303)
        form = await self.posted(request, authenticated)
        if form is None:
            return self.csrf_refused(request, authenticated)
        return authenticated, form


Handler = Callable[..., Any]
