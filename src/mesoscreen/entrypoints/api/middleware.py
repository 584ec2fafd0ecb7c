"""ASGI middleware at the edge: correlation ids, security headers and a request body limit."""

from __future__ import annotations

import uuid

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mesoscreen.entrypoints.api.problems import correlation_id, problem_response

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
]

# The OpenAPI page loads its scripts and styles from a CDN; only it gets a looser policy.
_DOCS_PATHS = ("/docs", "/redoc")


_JSON_PATHS = ("/api/", "/cds-services")
_WRITES = {"POST", "PUT", "PATCH"}


def _needs_json(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    """Whether a write with a body to a JSON endpoint came with another content type."""
    if scope.get("method") not in _WRITES or not scope.get("path", "").startswith(_JSON_PATHS):
        return False
    length = headers.get(b"content-length")
    if length is not None and length.strip() == b"0":
        return False
    if length is None and b"transfer-encoding" not in headers:
        return False
    media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    return not (media == b"application/json" or media.endswith(b"+json"))


class EdgeMiddleware:
    """Tags each request with a correlation id, adds security headers, caps the body size."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request; other scopes pass through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reference = uuid.uuid4().hex
        correlation_id.set(reference)
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS:
                    if name in present:
                        continue
                    if name == b"content-security-policy" and path.startswith(_DOCS_PATHS):
                        continue
                    headers.append((name, value))
                headers.append((b"x-correlation-id", reference.encode()))
                message["headers"] = headers
            await send(message)

        headers = dict(scope.get("headers", []))
        if _needs_json(scope, headers):
            response = problem_response(
                415,
                "unsupported_media_type",
                "Content-Type: expected application/json (or a +json type) for this body",
                path,
            )
            await response(scope, receive, send_with_headers)
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send_with_headers)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # The route reading the body turns this into a 413 problem.
                    raise HTTPException(413, self._too_large_message())
            return message

        await self.app(scope, counting_receive, send_with_headers)

    def _too_large_message(self) -> str:
        return f"request body: must be at most {self.max_body_bytes} bytes"

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "body_too_large",
            self._too_large_message(),
            scope.get("path", ""),
        )
        await response(scope, receive, send)
