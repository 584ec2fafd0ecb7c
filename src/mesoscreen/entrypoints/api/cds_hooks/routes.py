"""``/cds-services``: discovery, the three hook services, and feedback into the audit trail.

HTTP only: the token's audience and the cards' link from the request URL, the body's bytes,
and the ``CdsAnswer`` turned into JSON or an OperationOutcome. The use case is ``CdsHooks``.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from mesoscreen.entrypoints.api.problems import error_response, status_for
from mesoscreen.entrypoints.prefix_router import PrefixRouter
from mesoscreen.services.cds_hooks import CdsAnswer, CdsHooks

_ESCAPED = re.compile(r"[?#\\]")
_SERVICE_ID = {"parameters": [{"name": "service_id", "in": "path", "required": True,
                               "schema": {"type": "string", "title": "Service Id"}}]}  # fmt: skip


def _answer(answer: CdsAnswer, path: str) -> Response:
    """The answer as JSON encoded once by orjson (the record system waits on every hook call),
    or the OperationOutcome of its error as the one error table maps it (a record that cannot
    be had is 412 'incomplete', as the specification's)."""
    if answer.error is None:
        return Response(orjson.dumps(answer.body or {}), media_type="application/json")
    bearer = status_for(answer.error) == 401
    headers = {"WWW-Authenticate": 'Bearer realm="cds-services"'} if bearer else None
    return error_response(answer.error, path, headers)


def build_cds_router(cds: CdsHooks, link_base: str | None) -> PrefixRouter:
    """The CDS Hooks endpoints of ``cds``; ``link_base`` (the service's public URL, when it
    sits behind a proxy) names the tokens' audience and the cards' links."""
    router = PrefixRouter(prefix="/cds-services", tags=["cds-hooks"])
    base = link_base.rstrip("/") if link_base else None

    def audience(request: Request) -> str:
        if base is None:
            return str(request.url.replace(query=""))
        # The path as request.url spells it, without building the URL when nothing in it
        # needs escaping (the record system waits on every hook call).
        path: str = request.scope["path"]
        return f"{base}{request.url.path if _ESCAPED.search(path) else path}"

    @router.get("")
    def cds_discovery() -> dict[str, Any]:
        """The services, their hooks and their prefetch templates."""
        return cds.discovery()

    # The service id is read from the path parameters rather than declared: FastAPI's
    # parameter solving was a tenth of the event loop's CPU per call; the OpenAPI document
    # still names the parameter.
    @router.post("/{service_id}", response_model=None, openapi_extra=_SERVICE_ID)
    async def call_service(request: Request) -> Response:
        """Screen the patient of the hook request against the record; answer with cards."""
        service_id: str = request.path_params["service_id"]
        link = f"{(base or str(request.base_url)).rstrip('/')}/patients"
        answer = await cds.call(service_id, request.headers.get("authorization"),
                                audience(request), await request.body(), link)  # fmt: skip
        return _answer(answer, request.url.path)

    @router.post("/{service_id}/feedback", response_model=None)
    async def feedback(service_id: str, request: Request) -> Response:
        """Record which cards were accepted or overridden, and why, in the audit trail."""
        answer = await cds.feedback(service_id, request.headers.get("authorization"),
                                    audience(request), await request.body())  # fmt: skip
        return _answer(answer, request.url.path)

    return router
